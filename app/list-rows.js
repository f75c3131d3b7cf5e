// Result-list rows: the DOM of one ranked passage (li.passage) and of the cut line, and writing a row's facts
// into it. A row record is {li, parts, last, expanded}: `parts` are the nodes written to, `last` the facts they
// show now (so only what changed is written).

import { el, visuallyHidden, REL_LABEL, REL_ICON } from "./view-dom.js";
import { normaliseWindow, isLong, excerptSpan } from "./excerpt.js";

/** The row skeleton, built once and cloned per row (one cloneNode instead of ~20 createElement calls). */
let rowTemplate = null;

function makeRowTemplate() {
  const li = el("li", "passage");
  const rank = el("div", "passage-rank");
  const rankNow = el("span", "rank-now");
  rankNow.append(visuallyHidden("Rank "), document.createTextNode(""));
  const change = el("span", "rank-change");
  const changeGlyph = el("span", "rank-change-glyph");
  changeGlyph.setAttribute("aria-hidden", "true");
  change.append(changeGlyph, visuallyHidden(""));
  rank.append(rankNow, el("span", "rank-was"), change);

  const body = el("div", "passage-body");
  const text = el("p", "passage-text");
  text.dir = "auto";
  const expand = el("button", "passage-expand btn-link");
  expand.type = "button";
  expand.hidden = true;
  expand.setAttribute("aria-expanded", "false");
  body.append(text, expand);

  const score = el("div", "passage-score");
  const bar = el("span", "score-bar");
  bar.setAttribute("aria-hidden", "true");
  bar.append(el("span", "score-fill"));
  score.append(bar, el("span", "score-value"));

  const relevance = el("div", "passage-relevance");
  const mark = el("span", "relevance-mark");
  mark.setAttribute("aria-hidden", "true");
  const label = el("label", "relevance-toggle");
  const box = el("input");
  box.type = "checkbox";
  box.className = "relevance-box";
  label.append(box, el("span", "relevance-text", "Relevant"), visuallyHidden(""));
  relevance.append(mark, label);

  li.append(rank, body, score, relevance);
  return li;
}

/** A new row record for the passage at original position `index` (nothing written yet but its index). */
export function createRow(index) {
  rowTemplate ??= makeRowTemplate();
  const li = rowTemplate.cloneNode(true);
  li.dataset.index = String(index);
  const [rank, body, score, relevance] = li.children;
  const [rankNow, rankWas, change] = rank.children;
  const [text, expand] = body.children;
  const [mark, label] = relevance.children;
  const box = label.firstElementChild;
  label.lastElementChild.textContent = ` (passage ${index + 1})`;
  return {
    li,
    parts: { rankNum: rankNow.lastChild, rankWas, change, changeGlyph: change.firstElementChild,
             changeText: change.lastElementChild, text, expand,
             fill: score.firstElementChild.firstElementChild, value: score.lastElementChild, mark, box },
    last: {},
    expanded: false,
  };
}

/** A view row (docs/ARCHITECTURE.md, "View") at display `position`, with defaults filled in and values checked. */
export function rowFacts(row, position) {
  const rank = Number.isInteger(row.rank) ? row.rank : position + 1;
  const state = row.state === "scored" ? "scored" : "pending";
  const text = row.text == null ? "" : String(row.text);
  return {
    index: row.index,
    rank,
    change: Number.isInteger(row.changeVsOriginal) ? row.changeVsOriginal : (row.index + 1) - rank,
    state,
    score: state === "scored" && typeof row.score === "number" && Number.isFinite(row.score) ? row.score : null,
    sunk: Boolean(row.sunk),
    relevance: row.relevance === 0 || row.relevance === 1 || row.relevance === 2 ? row.relevance : null,
    text,
    win: normaliseWindow(row.window, text.length),
    extra: row.extra || null,
  };
}

/** Write a row's rank and its change vs. the original order (data-rank, data-change and the rank column). */
export function writeRank(rec, rank, change) {
  const { li, parts, last } = rec;
  if (last.rank !== rank) {
    li.dataset.rank = String(rank);
    parts.rankNum.data = String(rank);
    last.rank = rank;
  }
  if (last.change !== change) {
    const dir = change > 0 ? "up" : change < 0 ? "down" : "same";
    li.dataset.change = String(change);
    parts.change.dataset.dir = dir;
    parts.changeGlyph.textContent = change > 0 ? `▲${change}` : change < 0 ? `▼${-change}` : "–";
    parts.changeText.textContent = change > 0 ? `, up ${change}` : change < 0 ? `, down ${-change}` : ", unchanged";
    last.change = change;
  }
}

/** Write every fact of `facts` (from rowFacts) but the rank; true when the text changed (so may its height). */
export function writeFacts(rec, facts, options) {
  const { li, parts, last } = rec;
  if (last.index !== facts.index) {
    parts.rankWas.textContent = `was #${facts.index + 1}`;
    last.index = facts.index;
  }
  if (last.state !== facts.state) { li.dataset.state = facts.state; last.state = facts.state; }
  if (last.score !== facts.score) writeScore(rec, facts.score);
  if (last.sunk !== facts.sunk) { li.dataset.sunk = facts.sunk ? "true" : "false"; last.sunk = facts.sunk; }
  if (last.relevance !== facts.relevance) writeRelevance(rec, facts.relevance);
  if (facts.extra && last.extra !== facts.extra) writeExtra(rec, facts.extra);

  const { text, win } = facts;
  const winKey = win ? `${win.start}:${win.end}` : "";
  if (last.text !== text || last.winKey !== winKey) {
    const heightMayChange = last.text !== text;
    last.text = text;
    last.winKey = winKey;
    last.win = win;
    writeText(rec, options);
    return heightMayChange;
  }
  return false;
}

function writeScore(rec, score) {
  const { li, parts, last } = rec;
  if (score === null) {
    li.removeAttribute("data-score");
    parts.fill.style.setProperty("--score", "0");
    parts.value.textContent = "pending";
  } else {
    li.dataset.score = String(score);
    parts.fill.style.setProperty("--score", String(Math.max(0, Math.min(1, score))));
    parts.value.textContent = score.toFixed(3);
  }
  last.score = score;
}

/** Facts a row carries beyond the view's (a documents run): `was` replaces "was #N", `data` becomes data-*
 *  attributes, `source` a line above the text. Written once per row: the object of a row does not change. */
function writeExtra(rec, extra) {
  const { li, parts, last } = rec;
  last.extra = extra;
  if (extra.was) parts.rankWas.textContent = extra.was;
  Object.assign(li.dataset, extra.data || {});
  if (extra.source) {
    parts.source ??= parts.text.parentNode.insertBefore(el("p", "passage-source"), parts.text);
    parts.source.textContent = extra.source;
  }
}

/** Write a row's relevance label (0 | 1 | 2 | null): data-relevance, the checkbox and the mark. */
export function writeRelevance(rec, relevance) {
  const { li, parts, last } = rec;
  last.relevance = relevance;
  if (relevance === null) li.removeAttribute("data-relevance");
  else li.dataset.relevance = String(relevance);
  parts.box.checked = relevance === 2;
  parts.box.indeterminate = relevance === 1;
  parts.mark.textContent = relevance === null ? "" : REL_ICON[relevance];
  parts.mark.title = relevance === null ? "" : `Labelled: ${REL_LABEL[relevance]}`;
}

/** Write the row's text (last.text, last.win): the whole passage, or an excerpt around the winning window when it
 *  is long and not expanded; the window is marked, and the expand button offered for long passages. */
export function writeText(rec, options) {
  const { parts, last } = rec;
  const text = last.text;
  const win = last.win;
  const long = isLong(text, options);
  const { start, end } = long && !rec.expanded ? excerptSpan(text, win, options) : { start: 0, end: text.length };
  const nodes = [];
  if (start > 0) nodes.push(el("span", "passage-ellipsis", "… "));
  if (win && win.end > start && win.start < end) {
    const a = Math.max(start, win.start);
    const b = Math.min(end, win.end);
    if (a > start) nodes.push(document.createTextNode(text.slice(start, a)));
    const mark = el("mark", "passage-window");
    mark.append(visuallyHidden("Best window: "), document.createTextNode(text.slice(a, b)));
    nodes.push(mark);
    if (end > b) nodes.push(document.createTextNode(text.slice(b, end)));
  } else {
    nodes.push(document.createTextNode(text.slice(start, end)));
  }
  if (end < text.length) nodes.push(el("span", "passage-ellipsis", " …"));
  parts.text.replaceChildren(...nodes);
  parts.text.classList.toggle("is-excerpt", long && !rec.expanded);
  parts.expand.hidden = !long;
  if (long) {
    const words = text.trim().split(/\s+/).length;
    parts.expand.textContent = rec.expanded ? "Show excerpt" : `Show all ${words} words`;
    parts.expand.setAttribute("aria-expanded", rec.expanded ? "true" : "false");
  }
}

/** The cut line (li.cut-line): where the rows sent to the LLM end. */
export class CutLine {
  constructor() {
    this.li = el("li", "cut-line is-inactive");
    const rule = el("span", "cut-rule");
    rule.setAttribute("aria-hidden", "true");
    this.li.append(el("span", "cut-above"), rule, el("span", "cut-below"));
    this.key = null; // what is written now: "cutIndex/total"
  }

  /** Show the cut after `cutIndex` rows of `total` (null: no cut). */
  write(cutIndex, total) {
    const key = `${cutIndex}/${total}`;
    if (this.key === key) return;
    this.key = key;
    const mode = cutIndex === null || total === 0 ? "none" : cutIndex < total ? "split" : "all";
    const cut = this.li;
    cut.dataset.cut = mode;
    cut.classList.toggle("is-inactive", mode === "none");
    cut.dataset.cutAfter = cutIndex === null ? "" : String(cutIndex);
    const [above, , below] = cut.children;
    above.textContent = mode === "split" ? `↑ Top ${cutIndex} sent to the LLM`
      : mode === "all" ? `↑ All ${total} sent to the LLM` : "";
    below.textContent = mode === "split" ? `${total - cutIndex} dropped ↓` : "";
  }
}
