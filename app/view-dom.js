// What the result list and the rank comparison share: elements built from text only (never innerHTML, so user
// text can't become markup), and how a relevance grade is shown.

/** Relevance grade (0 | 1 | 2) -> words for screen readers and tooltips. */
export const REL_LABEL = { 2: "answers the query", 1: "partly relevant", 0: "not relevant" };
/** Relevance grade -> the mark drawn next to a passage. */
export const REL_ICON = { 2: "✓", 1: "◐", 0: "" };

/** A new `tag` element with an optional class and text content. */
export function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = String(text);
  return node;
}

/** A span only screen readers read (class visually-hidden). */
export function visuallyHidden(text) {
  return el("span", "visually-hidden", text);
}
