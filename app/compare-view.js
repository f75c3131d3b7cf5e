// Rank comparison: side-by-side rank columns (e.g. original / BM25 / bi-encoder / cross-encoder) with their
// metrics, and curves linking each relevant passage across neighbouring columns.
//
// Contract (docs/ARCHITECTURE.md, "View"):
//   renderCompare(container, columns, options)   redraws the whole comparison into `container`

import { el, visuallyHidden, REL_LABEL, REL_ICON } from "./view-dom.js";

const SVG_NS = "http://www.w3.org/2000/svg";
const SCROLL_LABEL = "Rank comparison, scrolls sideways";

const compareState = new WeakMap(); // container -> {observer, draw}: listeners are installed once per container

function relevanceLookup(relevance) {
  if (!relevance) return () => null;
  if (relevance instanceof Map) return (i) => (relevance.has(i) ? relevance.get(i) : null);
  return (i) => {
    const v = relevance[i];
    return v === 0 || v === 1 || v === 2 ? v : null;
  };
}

function snippet(text, max = 70) {
  const clean = String(text ?? "").replace(/\s+/g, " ").trim();
  return clean.length > max ? `${clean.slice(0, max - 1).trimEnd()}…` : clean;
}

function formatMetric(value) {
  return typeof value === "number" && Number.isFinite(value) ? value.toFixed(3) : "–";
}

/**
 * Render side-by-side rank columns (e.g. original / BM25 / bi-encoder / cross-encoder).
 * columns: [{id, label, order: [index...], metrics: {ndcg, mrr} | null, pending: bool, note?: string}]
 * options: {relevance: array|object|Map by index (0|1|2|null), texts: [string] by index,
 *           k: cut-off shown in the metric label (default 5), limit: rows per column (default 10)}
 */
export function renderCompare(container, columns, options = {}) {
  const shown = {
    rel: relevanceLookup(options.relevance),
    texts: options.texts || [],
    k: Number.isInteger(options.k) && options.k > 0 ? options.k : 5,
    limit: Number.isInteger(options.limit) && options.limit > 0 ? options.limit : 10,
  };

  container.classList.add("compare");
  const grid = el("div", "compare-grid");
  grid.style.setProperty("--compare-cols", String(Math.max(1, columns.length)));
  const svg = document.createElementNS(SVG_NS, "svg");
  svg.setAttribute("class", "compare-lines");
  svg.setAttribute("aria-hidden", "true");
  grid.append(svg);
  for (const column of columns) grid.append(compareColumn(column, shown));
  container.replaceChildren(grid);

  const draw = () => {
    drawCompareLines(grid, svg);
    updateScrollRegion(container);
  };
  let state = compareState.get(container);
  if (!state) {
    state = { draw };
    watchContainer(container, state);
    compareState.set(container, state);
  }
  state.draw = draw;
  draw();
  return grid;
}

/** One column: its header (title, metrics, note) and its ranked list. */
function compareColumn(column, shown) {
  const section = el("section", "compare-col");
  section.dataset.column = String(column.id);
  if (column.pending) { section.classList.add("is-pending"); section.setAttribute("aria-busy", "true"); }
  const head = el("header", "compare-head");
  head.append(el("h3", "compare-title", column.label), compareMetrics(column, shown.k));
  if (column.note) head.append(el("p", "compare-note", column.note));
  section.append(head, compareList(column, shown));
  return section;
}

function compareMetrics(column, k) {
  const metrics = el("p", "compare-metrics");
  if (column.metrics) {
    const ndcg = el("span", "metric");
    ndcg.append(el("span", "metric-label", `nDCG@${k}`), " ", el("span", "metric-value", formatMetric(column.metrics.ndcg)));
    const mrr = el("span", "metric");
    mrr.append(el("span", "metric-label", "MRR"), " ", el("span", "metric-value", formatMetric(column.metrics.mrr)));
    metrics.append(ndcg, mrr);
  } else {
    metrics.append(el("span", "metric metric-none", column.pending ? "scoring…" : "no labels"));
  }
  if (column.pending) metrics.append(el("span", "badge badge-pending", "pending"));
  return metrics;
}

/** The column's top `limit` passages, then any relevant ones further down (marked as beyond the limit). */
function compareList(column, { rel, texts, k, limit }) {
  const order = Array.isArray(column.order) ? column.order : [];
  const list = el("ol", "compare-list");
  list.setAttribute("aria-label", `${column.label} ranking`);
  const addItem = (index, rankNo, beyond) => list.append(compareItem(index, rankNo, beyond, rel(index), texts, k));
  order.slice(0, limit).forEach((index, i) => addItem(index, i + 1, false));
  const further = [];
  order.slice(limit).forEach((index, i) => { if ((rel(index) ?? 0) > 0) further.push([index, limit + i + 1]); });
  if (further.length) {
    list.append(el("li", "compare-gap", `… ${order.length - limit} more; relevant further down:`));
    for (const [index, rankNo] of further) addItem(index, rankNo, true);
  }
  if (!order.length) list.append(el("li", "compare-gap", column.pending ? "waiting for scores…" : "no passages"));
  return list;
}

function compareItem(index, rankNo, beyond, r, texts, k) {
  const item = el("li", `compare-item${beyond ? " is-beyond" : ""}${rankNo <= k ? " is-topk" : ""}`);
  item.dataset.index = String(index);
  if (r !== null) item.dataset.relevance = String(r);
  item.append(el("span", "ci-rank", rankNo));
  const mark = el("span", "ci-mark", r === null ? "" : REL_ICON[r]);
  mark.setAttribute("aria-hidden", "true");
  item.append(mark);
  const label = el("span", "ci-text");
  label.append(el("span", "ci-orig", `#${index + 1}`), " ", snippet(texts[index]));
  if (r === 2 || r === 1) label.append(visuallyHidden(` (${REL_LABEL[r]})`));
  item.append(label);
  item.title = String(texts[index] ?? "").slice(0, 400);
  return item;
}

/** A sideways-scrolling comparison must be reachable by keyboard (WCAG 2.1.1). */
function updateScrollRegion(container) {
  const scrolls = container.scrollWidth > container.clientWidth + 1;
  if (scrolls && container.getAttribute("tabindex") !== "0") {
    container.setAttribute("tabindex", "0");
    container.setAttribute("role", "region");
    container.setAttribute("aria-label", SCROLL_LABEL);
  } else if (!scrolls && container.getAttribute("aria-label") === SCROLL_LABEL) {
    container.removeAttribute("tabindex");
    container.removeAttribute("role");
    container.removeAttribute("aria-label");
  }
}

/** Once per container: redraw on resize, and link a hovered passage's items across columns. */
function watchContainer(container, state) {
  if (typeof ResizeObserver === "function") {
    state.observer = new ResizeObserver(() => state.draw());
    state.observer.observe(container);
  }
  const unlink = () => {
    for (const node of container.querySelectorAll(".compare-item.is-linked")) node.classList.remove("is-linked");
  };
  container.addEventListener("pointerover", (event) => {
    const item = event.target.closest ? event.target.closest(".compare-item") : null;
    const index = item ? item.dataset.index : null;
    unlink();
    if (index !== null) {
      for (const node of container.querySelectorAll(`.compare-item[data-index="${CSS.escape(index)}"]`)) node.classList.add("is-linked");
    }
  });
  container.addEventListener("pointerleave", unlink);
}

/** Where each relevant passage's item sits in each column, relative to the grid. */
function relevantItemPositions(grid, box) {
  return Array.from(grid.querySelectorAll(".compare-col")).map((col) => {
    const map = new Map();
    for (const item of col.querySelectorAll(".compare-item[data-relevance]")) {
      const r = Number(item.dataset.relevance);
      if (r < 1) continue;
      const rect = item.getBoundingClientRect();
      map.set(item.dataset.index, { r, left: rect.left - box.left, right: rect.right - box.left, y: rect.top - box.top + rect.height / 2 });
    }
    return map;
  });
}

function drawCompareLines(grid, svg) {
  if (!grid.isConnected) return;
  const box = grid.getBoundingClientRect();
  const positions = relevantItemPositions(grid, box);
  svg.setAttribute("width", String(Math.ceil(box.width)));
  svg.setAttribute("height", String(Math.ceil(box.height)));
  svg.setAttribute("viewBox", `0 0 ${Math.ceil(box.width)} ${Math.ceil(box.height)}`);
  const lines = [];
  for (let c = 0; c + 1 < positions.length; c++) {
    for (const [index, a] of positions[c]) {
      const b = positions[c + 1].get(index);
      if (!b) continue;
      const path = document.createElementNS(SVG_NS, "path");
      const x1 = a.right, x2 = b.left, mid = (x1 + x2) / 2;
      path.setAttribute("d", `M${x1},${a.y} C${mid},${a.y} ${mid},${b.y} ${x2},${b.y}`);
      path.setAttribute("class", `compare-link rel-${a.r}`);
      path.dataset.index = index;
      lines.push(path);
    }
  }
  svg.replaceChildren(...lines);
}
