// Documents mode, draw only: the status of the collection (#documents-status), the funnel of the last query
// (#funnel, #recall) and the relevant passages stage 1 never passed on (#missed). Every number and sentence here
// comes from Python; this module writes them as text (never as HTML: file names and passages are the user's).

import { el } from "./view-dom.js";

const $ = (id) => document.getElementById(id);
const MAX_NOTES = 20; // a 20,000-file drop lists its first notes and counts the rest

/** Seconds or milliseconds, for the funnel's timings. */
export function formatMs(ms) {
  if (ms === null || ms === undefined) return "";
  return ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${Math.round(ms)} ms`;
}

/** The collection's summary sentence and this load's notes (what was skipped, read with replacement, ...). */
export function drawStatus(summary, notes) {
  const box = $("documents-status");
  box.querySelector(".documents-summary").textContent = summary;
  if (notes === undefined) return;
  const list = box.querySelector(".documents-notes");
  // "x.md was read." for every file adds nothing to the summary; a record file's "read" note counts its rows, a
  // PDF's its pages.
  const shown = notes.filter((n) => n.code !== "read" || /\b(rows?|pages?)\b/.test(n.message));
  list.replaceChildren(...shown.slice(0, MAX_NOTES).map((n) => {
    const li = el("li", "documents-note", n.message);
    li.dataset.code = n.code;
    li.dataset.skipped = n.skipped ? "true" : "false";
    return li;
  }));
  if (shown.length > MAX_NOTES) list.append(el("li", "documents-note", `… and ${(shown.length - MAX_NOTES).toLocaleString()} more.`));
}

/** One funnel stage: its number and what it took. */
export function drawStage(stat, value, note) {
  const item = $("funnel").querySelector(`[data-stat="${stat}"]`);
  item.dataset.value = value === null || value === undefined ? "" : String(value);
  item.querySelector(".funnel-n").textContent = value === null || value === undefined ? "–" : value.toLocaleString();
  item.querySelector(".funnel-ms").textContent = note || "";
}

/** Recall@K of the marked passages and the ones stage 1 did not pass on, with the K that would have reached them. */
export function drawRecall(funnel) {
  const recall = $("recall");
  const missedArea = $("missed-area");
  const missed = $("missed");
  if (!funnel || !funnel.relevant) {
    recall.textContent = "Mark passages relevant (tick “Relevant” in the ranking, find them in the collection, or pick a " +
      "labelled query) to see stage 1’s recall.";
    delete recall.dataset.recall;
    missed.replaceChildren();
    missedArea.hidden = true;
    return;
  }
  const pct = Math.round(funnel.recall * 100);
  recall.dataset.recall = String(funnel.recall);
  recall.textContent = `Stage-1 recall@${funnel.candidates}: ${funnel.found} of ${funnel.relevant} relevant passage` +
    `${funnel.relevant === 1 ? "" : "s"} (${pct}%) reached the reranker.`;
  missed.replaceChildren(...funnel.missed.map(missedItem));
  missedArea.hidden = funnel.missed.length === 0;
}

function missedItem(m) {
  const li = el("li", "missed-passage");
  li.dataset.source = m.source;
  li.dataset.id = String(m.id);
  li.dataset.rank = m.rank === null ? "" : String(m.rank);
  const where = m.rank === null
    ? "stage 1 never returns it: it shares no word with the query"
    : `never reached the reranker: stage 1 ranked it #${m.rank}, so K = ${m.rank} would have passed it on`;
  li.append(el("p", "passage-source", `${m.source} — ${where}`), el("p", "missed-text", m.text));
  return li;
}
