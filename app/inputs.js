// The input form: query, passages and their format, the threshold and top-k settings, and the relevance
// labels the page remembers (preset labels and the user's ticks, by passage text). It reads and fills the
// fields and guards the passages box; ranking happens elsewhere.
//
// Events: "edited" (query or passages typed), "mode" (format radio changed), "settings" (threshold or top-k
// changed), "submit" (Enter in the query, Ctrl/Cmd+Enter in the passages).

import { isField, setError } from "./feedback.js";
import { RUNTIME } from "./runtime.js";

const $ = (id) => document.getElementById(id);

// reranker.limits.MAX_TOTAL_CHARS, published by the build: checked before the text reaches the textarea,
// because inserting megabytes into a textarea blocks the main thread for minutes, long before Python could refuse it.
export const MAX_TOTAL_CHARS = RUNTIME.limits.MAX_TOTAL_CHARS;

/** Python work per `inspect` slice: well under a 50 ms long task, and Python runs ~10x slower here than natively. */
export const INSPECT_SLICE_MS = 30;

export class Inputs extends EventTarget {
  constructor() {
    super();
    this.query = $("query");
    this.passages = $("passages");
    this.threshold = $("threshold");
    this.thresholdValue = $("threshold-value");
    this.topK = $("top-k");
    this.labels = new Map(); // passage text -> relevance (0|1|2): preset labels and the user's ticks
    this.preset = null;      // the preset last loaded (Python decides whether the input still matches it)
    this.liveError = false;  // the passages message came from the live count (which clears it), not from Rerank
  }

  emit(type) {
    this.dispatchEvent(new CustomEvent(type));
  }

  wire() {
    this.query.addEventListener("keydown", (e) => {
      if (e.key === "Enter" && !e.isComposing) { e.preventDefault(); this.emit("submit"); }
    });
    this.passages.addEventListener("keydown", (e) => {
      if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) { e.preventDefault(); this.emit("submit"); }
    });
    this.query.addEventListener("input", () => { setError("query", ""); this.emit("edited"); });
    this.passages.addEventListener("input", () => { setError("passages", ""); this.emit("edited"); });
    this.passages.addEventListener("paste", (event) => this.guardOversizedInsert(event, event.clipboardData, "pasted"));
    this.passages.addEventListener("drop", (event) => this.guardOversizedInsert(event, event.dataTransfer, "dropped"));
    for (const radio of document.querySelectorAll('input[name="mode"]')) radio.addEventListener("change", () => this.emit("mode"));
    this.threshold.addEventListener("input", () => this.emit("settings"));
    this.topK.addEventListener("input", () => this.emit("settings"));
  }

  get mode() {
    return document.querySelector('input[name="mode"]:checked')?.value || "auto";
  }

  set mode(mode) {
    const radio = document.querySelector(`input[name="mode"][value="${mode}"]`);
    if (radio) radio.checked = true;
  }

  /** Fill the given fields (query, passages, mode, labels: Map, preset); fields left out stay as they are. */
  fill(fields) {
    if (fields.query !== undefined) this.query.value = fields.query;
    if (fields.passages !== undefined) this.passages.value = fields.passages;
    if (fields.mode !== undefined) this.mode = fields.mode;
    if (fields.labels !== undefined) this.labels = fields.labels;
    if ("preset" in fields) this.preset = fields.preset;
  }

  /** What Python's `inspect` needs to count (or prepare) the passages for `model`, one slice at a time. */
  inspectPayload(model) {
    return { query: this.query.value, passages: this.passages.value, mode: this.mode, model: model || {},
      budgetMs: INSPECT_SLICE_MS };
  }

  /** What Python's `start` and `share` read from the form (top-k null when it is not a whole number >= 1). */
  payload() {
    return { query: this.query.value, passages: this.passages.value, mode: this.mode,
      threshold: this.readThreshold(), topK: this.readTopK(), labels: [...this.labels] };
  }

  /** The top-k setting, or null (with its error shown) when it is not a whole number >= 1. */
  readTopK() {
    const value = Number(this.topK.value);
    if (!Number.isInteger(value) || value < 1) {
      setError("top_k", "Enter a whole number of passages to send, 1 or more.");
      return null;
    }
    setError("top_k", "");
    return value;
  }

  /** The threshold setting, also written next to its slider. */
  readThreshold() {
    const value = Number(this.threshold.value);
    this.thresholdValue.textContent = value.toFixed(2);
    return value;
  }

  /** Set the settings a share link carries (either may be null: unchanged). */
  fillSettings(threshold, topK) {
    if (threshold !== null && threshold !== undefined) this.threshold.value = String(threshold);
    this.readThreshold();
    if (topK) this.topK.value = String(topK);
  }

  /** Refuse a paste/drop that would push the passages past the total limit; what was typed stays as it was. */
  guardOversizedInsert(event, transfer, verb) {
    const text = transfer?.getData("text/plain") ?? transfer?.getData("text") ?? "";
    const field = this.passages;
    const after = field.value.length - (field.selectionEnd - field.selectionStart) + text.length;
    if (after <= MAX_TOTAL_CHARS) return;
    event.preventDefault();
    this.liveError = false;  // this message is not the live count's: a count finishing later must not clear it
    const fmt = (n) => n.toLocaleString("en-US");
    setError("passages", `The ${verb} text is ${fmt(text.length)} characters; the limit is ${fmt(MAX_TOTAL_CHARS)} ` +
      `in total. Nothing was ${verb}; your passages are unchanged. Paste fewer or shorter passages.`);
  }

  clearErrors() {
    for (const key of ["query", "passages", "top_k", "share"]) setError(key, "");
  }

  /** Show a Python error payload under its field (passages when it names none); returns the field key. */
  showError(error) {
    if (error.field === "passages") this.liveError = false;
    const field = isField(error.field) ? error.field : "passages";
    setError(field, error.message);
    return field;
  }

  /** The live count's own passages message, which its next good count clears. */
  showLiveError(message) {
    setError("passages", message);
    this.liveError = true;
  }

  clearLiveError() {
    if (!this.liveError) return;
    setError("passages", "");
    this.liveError = false;
  }
}
