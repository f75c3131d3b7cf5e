// What the page tells the user outside the result list: the status line (aria-live), the page phase
// (<html data-phase>, which tests and styles read) and the error line under each field.

const $ = (id) => document.getElementById(id);

const statusLine = $("status");

/** Error line per field key; Python's error payloads name these keys in `field`. */
const errorLines = {
  query: $("query-error"), passages: $("passages-error"), model: $("model-error"), modelB: $("model-b-error"),
  share: $("share-error"), top_k: $("top-k-error"), threshold: $("top-k-error"),
};

/** The input each field key marks aria-invalid and focuses. */
const fieldInputs = { query: $("query"), passages: $("passages"), model: $("model"), modelB: $("model-b"), top_k: $("top-k") };

/** The aria-live status line: used sparingly (start, final result, errors), never per re-sort. */
export function announce(text) {
  statusLine.textContent = text;
}

/** The page phase: loading | ready | scoring | done | error. */
export function phase() {
  return document.documentElement.dataset.phase;
}

export function setPhase(value) {
  document.documentElement.dataset.phase = value;
}

/** Show (or clear, with "") the error line of a field and mark its input invalid. */
export function setError(key, message) {
  const el = errorLines[key];
  if (!el) return;
  el.textContent = message || "";
  const input = fieldInputs[key];
  if (input) {
    if (message) input.setAttribute("aria-invalid", "true");
    else input.removeAttribute("aria-invalid");
  }
}

/** The error line's current text ("" when none). */
export function errorText(key) {
  return errorLines[key]?.textContent || "";
}

/** True when `key` names a field with an error line. */
export function isField(key) {
  return key in errorLines;
}

export function focusField(key) {
  fieldInputs[key]?.focus();
}
