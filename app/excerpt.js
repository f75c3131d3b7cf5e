// Excerpts: which part of a long passage a row shows, given the span of its winning window.

/** Snap a character offset to a nearby word boundary (searching backwards). */
function snapBack(text, pos) {
  if (pos <= 0) return 0;
  const space = text.lastIndexOf(" ", pos);
  return space > pos - 40 && space > 0 ? space + 1 : pos;
}

/** Snap a character offset to a nearby word boundary (searching forwards). */
function snapForward(text, pos) {
  if (pos >= text.length) return text.length;
  const space = text.indexOf(" ", pos);
  return space !== -1 && space < pos + 40 ? space : pos;
}

/** The window `{start, end}` clamped to a text of `length` characters; null when it is missing or covers the whole
 *  passage (nothing to point at). */
export function normaliseWindow(win, length) {
  if (!win || typeof win.start !== "number" || typeof win.end !== "number") return null;
  const start = Math.max(0, Math.min(length, Math.floor(win.start)));
  const end = Math.max(start, Math.min(length, Math.ceil(win.end)));
  if (end <= start || (start === 0 && end >= length)) return null;
  return { start, end };
}

/** True when a passage is long enough to be shown as an excerpt (options.longChars). */
export function isLong(text, { longChars }) {
  return text.length > longChars;
}

/** `{start, end}` of the excerpt of `text` around `win` (or from the top without a window): options.excerptBefore
 *  characters of context before the window, at least options.excerptChars in all, cut at word boundaries. */
export function excerptSpan(text, win, { excerptBefore, excerptChars }) {
  let start = win ? snapBack(text, win.start - excerptBefore) : 0;
  let end = snapForward(text, Math.max(start + excerptChars, win ? win.end + excerptBefore : 0));
  if (end >= text.length) {
    // Near the end: keep the window on the first lines, pulling back only enough to fill the box.
    end = text.length;
    start = Math.min(start, snapBack(text, Math.max(0, end - 320)));
  }
  return { start, end };
}
