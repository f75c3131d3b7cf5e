// Result-list view: renders ranked passages and animates re-sorts (FLIP with the Web Animations API).
//
// Contract (docs/ARCHITECTURE.md, "View"):
//   new ResultList(olElement, {reducedMotion})   reducedMotion: true | false | undefined (auto, media query)
//   list.render(rows, {cutAfter})                rows in display order; call at most once per animation frame
//
// Every row is written with text nodes only (never innerHTML), so user text can't become markup.

import { onIdle } from "./idle.js";
import { el, visuallyHidden, REL_LABEL, REL_ICON } from "./view-dom.js";

const DEFAULTS = {
  reducedMotion: undefined, // undefined: follow (prefers-reduced-motion: reduce), live
  duration: 420,            // ms of one FLIP move
  easing: "cubic-bezier(0.2, 0.7, 0.2, 1)",
  maxAnimated: 120,         // cap on simultaneous move animations (the rest snap, off-screen first)
  viewportMargin: 0.5,      // animate rows within this many viewport heights of the viewport
  longChars: 600,           // passages longer than this show an excerpt around the winning window
  excerptBefore: 70,        // characters of context before the window in an excerpt (about one line)
  excerptChars: 900,        // minimum excerpt length, so an excerpt always fills its reserved lines
  flashMs: 900,             // reduced motion: how long a changed row stays highlighted
  largeList: 120,           // above this many rows, off-screen rows skip layout (content-visibility)
  measureStepMs: 40,        // long lists: target length of one background layout step (an idle task)
  newRowsPerFrame: 40,      // rows created per render; the rest follow in the next frames, top of the order first
  staleBudgetMs: 8,         // long lists: idle time per slice spent writing new ranks into far-off rows
};

/** Longest increasing subsequence of `seq` (entries < 0 are ignored); returns the set of kept positions. */
function lisPositions(seq) {
  const tails = []; // tails[k] = position in seq of the smallest tail of an increasing run of length k+1
  const prev = new Array(seq.length).fill(-1);
  for (let i = 0; i < seq.length; i++) {
    const v = seq[i];
    if (v < 0) continue;
    let lo = 0, hi = tails.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (seq[tails[mid]] < v) lo = mid + 1; else hi = mid;
    }
    if (lo > 0) prev[i] = tails[lo - 1];
    tails[lo] = i;
  }
  const keep = new Set();
  let i = tails.length ? tails[tails.length - 1] : -1;
  while (i >= 0) { keep.add(i); i = prev[i]; }
  return keep;
}

/** Move `node` before `ref` inside `parent`, keeping focus and state where the browser allows it. */
function moveNode(parent, node, ref) {
  if (typeof parent.moveBefore === "function" && node.isConnected && node.parentNode === parent) {
    try { parent.moveBefore(node, ref); return; } catch { /* fall through */ }
  }
  parent.insertBefore(node, ref);
}

/** Snap a character offset to a nearby word boundary (searching backwards). */
function snapBack(text, pos) {
  if (pos <= 0) return 0;
  const space = text.lastIndexOf(" ", pos);
  return space > pos - 40 && space > 0 ? space + 1 : pos;
}

function snapForward(text, pos) {
  if (pos >= text.length) return text.length;
  const space = text.indexOf(" ", pos);
  return space !== -1 && space < pos + 40 ? space : pos;
}

function normaliseWindow(win, length) {
  if (!win || typeof win.start !== "number" || typeof win.end !== "number") return null;
  const start = Math.max(0, Math.min(length, Math.floor(win.start)));
  const end = Math.max(start, Math.min(length, Math.ceil(win.end)));
  if (end <= start || (start === 0 && end >= length)) return null; // whole passage: nothing to point at
  return { start, end };
}

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

/** Top of `node`'s layout box (no transforms) relative to `parent`'s content, from offsetTop (no forced
 *  per-row geometry work once layout is clean). */
function layoutTop(node, parent) {
  return node.offsetParent === parent ? node.offsetTop : node.offsetTop - parent.offsetTop;
}

/** [first, last] positions in `nodes` whose layout boxes overlap [lo, hi] (px relative to `parent`). */
function rangeWithin(nodes, parent, lo, hi) {
  const n = nodes.length;
  if (!n) return [0, -1];
  let a = 0, b = n;
  while (a < b) { // first node whose bottom reaches lo
    const mid = (a + b) >> 1;
    const node = nodes[mid];
    if (layoutTop(node, parent) + node.offsetHeight < lo) a = mid + 1; else b = mid;
  }
  const first = a;
  a = first; b = n;
  while (a < b) { // first node starting below hi
    const mid = (a + b) >> 1;
    if (layoutTop(nodes[mid], parent) <= hi) a = mid + 1; else b = mid;
  }
  return [first, a - 1];
}

export class ResultList {
  constructor(olElement, options = {}) {
    if (!olElement) throw new Error("ResultList needs the <ol> element to render into.");
    this.ol = olElement;
    this.options = { ...DEFAULTS, ...options };
    this.records = new Map(); // original index -> {el, parts, last}
    this.running = [];        // move animations started by the last render
    this.flashTimer = 0;
    this.flashed = new Set();
    this.lastCutAfter = null;
    this.largeFrame = 0;
    this.unmeasured = new Set(); // long lists: rows whose real height the browser has not remembered yet
    this.measuring = [];         // rows laid out (not skipped) during the current measuring frame
    this.measureRows = 8;        // rows per measuring step: halves when a step runs long, doubles when it is quick
    this.widthObserver = null;
    this.deferred = null;        // {rows, cutAfter, frame}: rows not created yet, drawn in the next frames
    this.creationFrame = null;   // document.timeline time of the frame that created rows last, and how many
    this.createdInFrame = 0;
    this.drawnWaiters = [];
    this.stale = new Set();      // long lists: far-off rows whose rank and change are written when idle or in view
    this.staleIdle = 0;
    this.mediaQuery = typeof matchMedia === "function" ? matchMedia("(prefers-reduced-motion: reduce)") : null;
    this.ol.classList.add("result-list");
    this.cut = this.makeCutLine();
    this.onChange = this.onChange.bind(this);
    this.onClick = this.onClick.bind(this);
    this.onVisible = this.onVisible.bind(this);
    this.ol.addEventListener("change", this.onChange);
    this.ol.addEventListener("click", this.onClick);
    // a far-off row about to be drawn (content-visibility: auto) gets its current rank first, in the same frame
    this.ol.addEventListener("contentvisibilityautostatechange", this.onVisible, true);
  }

  /** True when moves are replaced by a highlight (explicit option, else the user's OS setting). */
  get reducedMotion() {
    if (typeof this.options.reducedMotion === "boolean") return this.options.reducedMotion;
    return Boolean(this.mediaQuery && this.mediaQuery.matches);
  }

  /** Render `rows` (display order); animates every row from where it is drawn now to its new slot. A long first
   *  draw is spread over frames (options.newRowsPerFrame rows each, top first), so no single frame styles and
   *  lays out hundreds of new rows; in a long list, rows far from the viewport whose only change is their rank
   *  (one row climbing shifts every row below it) get the new rank in idle time, not in the re-sort's frame. */
  render(rows, { cutAfter = null } = {}, followUp = false) {
    if (this.deferred) { cancelAnimationFrame(this.deferred.frame); this.deferred = null; }
    const reduced = this.reducedMotion;
    // a follow-up draw only appends rows below the drawn ones: nothing moves, so nothing is measured for moves
    const animate = !reduced && !followUp && this.ol.isConnected && typeof Element.prototype.animate === "function";
    this.ol.classList.toggle("reduced-motion", reduced);

    // FIRST: where are the rows near the viewport (and every row still moving) drawn right now, including any
    // in-flight transform? Rows far from the viewport are not measured: they neither animate nor cost layout.
    let first = null;
    let before = null;
    const long = rows.length > this.options.largeList;
    if ((animate || long) && this.records.size) before = this.nearNodes();
    if (animate && before) {
      first = new Map();
      for (const node of before.near) first.set(node, node.getBoundingClientRect().top);
      for (const anim of this.running) {
        const node = anim.effect && anim.effect.target;
        if (node && node.isConnected && !first.has(node)) first.set(node, node.getBoundingClientRect().top);
      }
    }
    // Stop in-flight moves; their current positions are captured above, so nothing jumps. (A follow-up draw lets
    // them finish: it adds rows below, it moves none.)
    if (!followUp) this.stopMoves();

    // WRITE: update rows, then put them in order with as few DOM moves as possible.
    const desired = [];
    const seen = new Set();
    const changed = [];
    const textChanged = []; // records whose text changed (their height may have)
    const cutIndex = Number.isInteger(cutAfter) && cutAfter > 0 ? Math.min(cutAfter, rows.length) : null;
    // The creation budget is per frame: the list's own follow-up draw and a render of new scores can share one.
    const frameTime = typeof document.timeline?.currentTime === "number" ? document.timeline.currentTime : null;
    if (frameTime === null || frameTime !== this.creationFrame) { this.creationFrame = frameTime; this.createdInFrame = 0; }
    let missing = 0;
    // Positions that will be on or near the screen: the near range before this render plus as much again.
    const span = before ? before.hi - before.lo + 1 : 0;
    const nearLo = before ? before.lo - span : 0;
    const nearHi = before ? before.hi + span : -1;
    const focusRow = this.recordFor(document.activeElement);
    rows.forEach((row, position) => {
      const index = row.index;
      if (seen.has(index)) return; // a repeated index would put one element in two places
      let rec = this.records.get(index);
      if (!rec) {
        // the top of the order is always drawn; below it, at most newRowsPerFrame new rows per frame
        if (this.createdInFrame >= this.options.newRowsPerFrame && position >= this.options.newRowsPerFrame) {
          missing += 1;
          return;
        }
        rec = this.createRow(index);
        this.records.set(index, rec);
        this.createdInFrame += 1;
      }
      const previousRank = rec.last.rank;
      const later = long && before && (position < nearLo || position > nearHi) && !(first && first.has(rec.el))
        && rec !== focusRow;
      if (this.updateRow(rec, row, position, later)) textChanged.push(rec);
      if (previousRank !== undefined && previousRank !== rec.last.rank) changed.push(rec.el);
      seen.add(index);
      desired.push(rec.el);
      if (cutIndex !== null && position + 1 === cutIndex && cutIndex < rows.length) desired.push(this.cut);
    });
    this.updateLongListMode(rows.length, textChanged);
    this.updateCutLine(cutIndex, rows.length);
    if (cutIndex === null || cutIndex >= rows.length) desired.push(this.cut);
    for (const [index, rec] of this.records) {
      if (!seen.has(index)) { rec.el.remove(); this.records.delete(index); this.stale.delete(rec); }
    }
    this.reorder(desired);

    if (first) this.playMoves(first, before);
    else if (reduced && changed.length) this.flash(changed);
    if (missing) {
      const frame = requestAnimationFrame(() => {
        if (this.deferred?.frame === frame) this.render(this.deferred.rows, { cutAfter: this.deferred.cutAfter }, true);
      });
      this.deferred = { rows, cutAfter, frame };
    }
    if (this.stale.size) this.scheduleStale();
    this.finishDrawing();
  }

  /** Resolves once every row of the last render is in the list with its current rank (a long first draw takes a
   *  few frames; far-off ranks are written in idle time). */
  drawn() {
    if (!this.deferred && !this.stale.size) return Promise.resolve();
    return new Promise((resolve) => this.drawnWaiters.push(resolve));
  }

  finishDrawing() {
    if (this.deferred || this.stale.size) { this.ol.setAttribute("aria-busy", "true"); return; }
    this.ol.removeAttribute("aria-busy");
    const waiters = this.drawnWaiters;
    this.drawnWaiters = [];
    for (const resolve of waiters) resolve();
  }

  /** Rows (and the cut line) whose layout box is within the animation margin of the viewport, plus a lookup of
   *  every child's position (to tell whether a row that was not measured sat above or below the viewport). */
  nearNodes() {
    const nodes = Array.from(this.ol.children);
    const viewH = window.innerHeight || document.documentElement.clientHeight || 800;
    const { viewportMargin } = this.options;
    const olTop = this.ol.getBoundingClientRect().top;
    const [a, b] = rangeWithin(nodes, this.ol, -viewH * viewportMargin - olTop, viewH * (1 + viewportMargin) - olTop);
    const near = a <= b ? nodes.slice(a, b + 1).filter((node) => node !== this.cut || !node.classList.contains("is-inactive")) : [];
    return { near, nodes, lo: a, hi: b };
  }

  stopMoves() {
    for (const anim of this.running) {
      const node = anim.effect && anim.effect.target;
      anim.cancel();
      if (node) node.style.zIndex = "";
    }
    this.running = [];
  }

  /** Remove every row (for example before a run with new input). */
  clear() {
    if (this.deferred) { cancelAnimationFrame(this.deferred.frame); this.deferred = null; }
    this.stale.clear();
    this.finishDrawing();
    this.stopMoves();
    for (const rec of this.records.values()) rec.el.remove();
    this.records.clear();
    this.unmeasured.clear();
    this.measuring = [];
    this.cut.remove();
  }

  /** Stop listening and drop the rows. */
  destroy() {
    this.clear();
    cancelAnimationFrame(this.largeFrame);
    if (this.widthObserver) this.widthObserver.disconnect();
    this.ol.removeEventListener("change", this.onChange);
    this.ol.removeEventListener("click", this.onClick);
    this.ol.removeEventListener("contentvisibilityautostatechange", this.onVisible, true);
  }

  // ---- ordering and animation -------------------------------------------------------------

  reorder(desired) {
    const parent = this.ol;
    if (!this.ol.firstElementChild && !this.ol.firstChild) { // first render: one insertion of every row
      parent.append(...desired);
      return;
    }
    const wanted = new Set(desired);
    for (const child of Array.from(parent.childNodes)) {
      if (!wanted.has(child)) child.remove(); // stray whitespace / placeholder content from the shell
    }
    const current = new Map();
    Array.from(parent.children).forEach((child, i) => current.set(child, i));
    const seq = desired.map((node) => (current.has(node) ? current.get(node) : -1));
    const keep = lisPositions(seq);
    const active = document.activeElement;
    const hadFocus = active && active !== parent && parent.contains(active);
    let next = null;
    for (let i = desired.length - 1; i >= 0; i--) {
      const node = desired[i];
      if (!keep.has(i)) {
        if (node.parentNode === parent) moveNode(parent, node, next);
        else parent.insertBefore(node, next);
      }
      next = node;
    }
    // moveBefore() keeps focus; insertBefore() (older browsers) drops it, so put it back.
    if (hadFocus && document.activeElement !== active && active.isConnected) active.focus({ preventScroll: true });
  }

  playMoves(first, before) {
    const { duration, easing, maxAnimated, viewportMargin } = this.options;
    const viewH = window.innerHeight || document.documentElement.clientHeight || 800;
    const lo = -viewH * viewportMargin;
    const hi = viewH * (1 + viewportMargin);
    const near = (y) => y >= lo && y <= hi;
    const after = this.nearNodes();
    const wasAt = new Map();
    before.nodes.forEach((node, i) => wasAt.set(node, i));
    // LAST: read every new position before writing any animation (one layout, no thrash). Rows measured in
    // FIRST but now far away are measured too (they leave the viewport with a move).
    const targets = new Set(after.near);
    for (const node of first.keys()) targets.add(node);
    const moves = [];
    const entering = [];
    for (const node of targets) {
      if (!node.isConnected) continue;
      const to = node.getBoundingClientRect().top;
      let from = first.get(node);
      if (from === undefined) {
        const at = wasAt.get(node);
        if (at === undefined) { if (near(to)) entering.push(node); continue; } // a new row: fade in
        from = at < before.lo ? lo - viewH : hi + viewH; // was off screen above / below: come from that side
      }
      const dy = from - to;
      if (Math.abs(dy) < 0.5 || (!near(from) && !near(to))) continue;
      moves.push({ node, dy, to });
    }
    if (moves.length > maxAnimated) {
      const centre = viewH / 2;
      moves.sort((a, b) => Math.abs(a.to - centre) - Math.abs(b.to - centre));
      moves.length = maxAnimated;
    }
    // INVERT + PLAY. Rows arriving from far away start just outside the viewport, not thousands of px off.
    // Only `transform` is animated (the compositor runs it); rows climbing pass over rows sinking through an
    // inline z-index held for the move, not an animated property (that would tick style on the main thread).
    for (const { node, dy, to } of moves) {
      const limit = Math.max(viewH, Math.abs(to) + viewH);
      const start = Math.max(-limit, Math.min(limit, dy));
      node.style.zIndex = dy > 0 ? "2" : "1";
      const anim = node.animate([{ transform: `translateY(${start}px)` }, { transform: "translateY(0)" }], { duration, easing });
      anim.id = "flip";
      this.running.push(anim);
    }
    for (const node of entering) {
      const anim = node.animate([{ opacity: 0 }, { opacity: 1 }], { duration: Math.round(duration * 0.6), easing: "ease-out" });
      anim.id = "enter";
      this.running.push(anim);
    }
    const finished = this.running.slice();
    for (const anim of finished) {
      anim.finished.then(() => {
        const at = this.running.indexOf(anim);
        if (at !== -1) this.running.splice(at, 1);
        if (anim.id === "flip" && anim.effect && anim.effect.target) anim.effect.target.style.zIndex = "";
      }, () => {});
    }
  }

  flash(nodes) {
    for (const node of this.flashed) if (!nodes.includes(node)) node.removeAttribute("data-flash");
    this.flashed = new Set(nodes);
    for (const node of nodes) node.setAttribute("data-flash", "true");
    clearTimeout(this.flashTimer);
    this.flashTimer = setTimeout(() => {
      for (const node of this.flashed) node.removeAttribute("data-flash");
      this.flashed.clear();
    }, this.options.flashMs);
  }

  // ---- rows ---------------------------------------------------------------------------------

  createRow(index) {
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
      el: li,
      parts: { rankNum: rankNow.lastChild, rankWas, change, changeGlyph: change.firstElementChild,
               changeText: change.lastElementChild, text, expand,
               fill: score.firstElementChild.firstElementChild, value: score.lastElementChild, mark, box },
      last: {},
      expanded: false,
    };
  }

  /** Write a row's facts; with `later`, a changed rank (and change vs. the original) waits in `stale`. */
  updateRow(rec, row, position, later = false) {
    const { el: li, parts, last } = rec;
    const rank = Number.isInteger(row.rank) ? row.rank : position + 1;
    const state = row.state === "scored" ? "scored" : "pending";
    const score = state === "scored" && typeof row.score === "number" && Number.isFinite(row.score) ? row.score : null;
    const sunk = Boolean(row.sunk);
    const relevance = row.relevance === 0 || row.relevance === 1 || row.relevance === 2 ? row.relevance : null;
    const change = Number.isInteger(row.changeVsOriginal) ? row.changeVsOriginal : (row.index + 1) - rank;
    const text = row.text == null ? "" : String(row.text);

    if (last.rank !== rank || last.change !== change) {
      if (later && last.rank !== undefined) {
        rec.want = { rank, change };
        this.stale.add(rec);
      } else {
        this.writeRank(rec, rank, change);
      }
    } else if (rec.want) {
      rec.want = null;
      this.stale.delete(rec);
    }
    if (last.index !== row.index) {
      parts.rankWas.textContent = `was #${row.index + 1}`;
      last.index = row.index;
    }
    if (last.state !== state) { li.dataset.state = state; last.state = state; }
    if (last.score !== score) {
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
    if (last.sunk !== sunk) { li.dataset.sunk = sunk ? "true" : "false"; last.sunk = sunk; }
    if (last.relevance !== relevance) this.writeRelevance(rec, relevance);

    const win = normaliseWindow(row.window, text.length);
    const winKey = win ? `${win.start}:${win.end}` : "";
    if (last.text !== text || last.winKey !== winKey) {
      const heightMayChange = last.text !== text;
      last.text = text;
      last.winKey = winKey;
      last.win = win;
      this.writeText(rec);
      return heightMayChange;
    }
    return false;
  }

  /**
   * Long lists (> options.largeList rows) let off-screen rows skip style and layout (content-visibility: auto)
   * from the first frame, so drawing 1,000 rows costs about one screenful. A skipped row that has never been
   * drawn would only have a placeholder height, and jump when a re-sort brings it into view; so every row is
   * laid out once in the background, a batch per idle step (options.measureStepMs), and the browser remembers its
   * real height (contain-intrinsic-size: auto). Texts or the list width changing queue rows again.
   */
  updateLongListMode(count, textChanged) {
    const long = count > this.options.largeList;
    const wasLong = this.ol.classList.contains("is-long");
    this.ol.classList.toggle("is-long", long);
    this.ol.classList.toggle("is-large", long);
    if (!long) {
      this.stopMeasuring();
      this.unmeasured.clear();
      return;
    }
    if (!this.widthObserver && typeof ResizeObserver === "function") {
      let width = null;
      this.widthObserver = new ResizeObserver((entries) => {
        const w = Math.round(entries[entries.length - 1].contentRect.width);
        if (width !== null && w !== width && this.ol.classList.contains("is-long")) this.remeasureLongList();
        width = w;
      });
      this.widthObserver.observe(this.ol);
    }
    if (!wasLong) this.queueMeasuring(true); // rows drawn before the list was long have no remembered size
    else if (textChanged.length) this.queueMeasuring(textChanged);
  }

  /** Queue rows for a background layout: `rows` (records) or every row. */
  queueMeasuring(rows) {
    for (const rec of rows === true ? this.records.values() : rows) this.unmeasured.add(rec);
    if (this.unmeasured.size) delete this.ol.dataset.measured;
    if (!this.largeFrame && this.unmeasured.size) this.scheduleMeasuring();
  }

  remeasureLongList() {
    this.queueMeasuring(true);
  }

  /** Next measuring step: when the main thread is idle, after at least one frame was drawn (the browser records
   *  a row's size while drawing a frame in which the row was laid out). */
  scheduleMeasuring() {
    const frame = requestAnimationFrame(() => {
      if (this.largeFrame !== frame) return;
      this.largeFrame = -1;
      onIdle(() => { if (this.largeFrame === -1) this.measureStep(); }, 200);
    });
    this.largeFrame = frame;
  }

  /** The rows measured in the previous step go back to skipping (their size is remembered by now). */
  stopMeasuring() {
    for (const node of this.measuring) node.style.contentVisibility = "";
    this.measuring = [];
    if (this.largeFrame > 0) cancelAnimationFrame(this.largeFrame);
    this.largeFrame = 0;
  }

  /** One step of background measuring: lay out the next batch of unmeasured rows (this.measureRows of them). */
  measureStep() {
    this.largeFrame = 0;
    for (const node of this.measuring) node.style.contentVisibility = "";
    this.measuring = [];
    if (!this.ol.classList.contains("is-large") || !this.ol.isConnected) return;
    // One batch per step. A step costs a fixed part (switching content-visibility re-lays out the whole list: ~15 ms
    // at 1,000 rows on a 2-core machine, for 1 row or 64) plus the rows' first layout (text shaping: a few ms for a
    // long passage), so the batch size follows what steps actually cost, between 4 and 64 rows.
    for (const rec of this.unmeasured) {
      if (this.measuring.length >= this.measureRows) break;
      this.unmeasured.delete(rec);
      if (!rec.el.isConnected) continue;
      rec.el.style.contentVisibility = "visible";
      this.measuring.push(rec.el);
    }
    // Lay the batch (and the previous one, back to skipping) out now, in this idle task, not in the next frame.
    const t0 = performance.now();
    if (this.measuring.length) void this.measuring[this.measuring.length - 1].offsetHeight;
    const ms = performance.now() - t0;
    const target = this.options.measureStepMs;
    if (ms > target) this.measureRows = Math.max(4, this.measureRows >> 1);
    else if (ms < target / 2 && this.measuring.length === this.measureRows) this.measureRows = Math.min(64, this.measureRows * 2);
    if (this.measuring.length || this.unmeasured.size || this.deferred) this.scheduleMeasuring();
    else this.ol.dataset.measured = "true";
  }

  writeRank(rec, rank, change) {
    const { el: li, parts, last } = rec;
    rec.want = null;
    this.stale.delete(rec);
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

  /** Write waiting ranks in idle time, a few at a time (options.staleBudgetMs per slice). */
  scheduleStale() {
    if (this.staleIdle) return;
    this.staleIdle = 1;
    onIdle((deadline) => {
      this.staleIdle = 0;
      const left = deadline && typeof deadline.timeRemaining === "function" ? deadline.timeRemaining() : 50;
      const budget = Math.max(2, Math.min(this.options.staleBudgetMs, left));
      const t0 = performance.now();
      for (const rec of this.stale) {
        if (performance.now() - t0 > budget) break;
        this.writeRank(rec, rec.want.rank, rec.want.change);
      }
      if (this.stale.size) this.scheduleStale();
      else this.finishDrawing();
    }, 300);
  }

  onVisible(event) {
    if (event.skipped) return;
    const rec = this.recordFor(event.target);
    if (rec && rec.want) this.writeRank(rec, rec.want.rank, rec.want.change);
  }

  writeRelevance(rec, relevance) {
    const { el: li, parts, last } = rec;
    last.relevance = relevance;
    if (relevance === null) li.removeAttribute("data-relevance");
    else li.dataset.relevance = String(relevance);
    parts.box.checked = relevance === 2;
    parts.box.indeterminate = relevance === 1;
    parts.mark.textContent = relevance === null ? "" : REL_ICON[relevance];
    parts.mark.title = relevance === null ? "" : `Labelled: ${REL_LABEL[relevance]}`;
  }

  writeText(rec) {
    const { parts, last } = rec;
    const text = last.text;
    const win = last.win;
    const long = text.length > this.options.longChars;
    let start = 0;
    let end = text.length;
    if (long && !rec.expanded) {
      const { excerptBefore, excerptChars } = this.options;
      start = win ? snapBack(text, win.start - excerptBefore) : 0;
      end = snapForward(text, Math.max(start + excerptChars, win ? win.end + excerptBefore : 0));
      if (end >= text.length) {
        // Near the end: keep the window on the first lines, pulling back only enough to fill the box.
        end = text.length;
        start = Math.min(start, snapBack(text, Math.max(0, end - 320)));
      }
    }
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

  makeCutLine() {
    const li = el("li", "cut-line is-inactive");
    const above = el("span", "cut-above");
    const rule = el("span", "cut-rule");
    rule.setAttribute("aria-hidden", "true");
    const below = el("span", "cut-below");
    li.append(above, rule, below);
    return li;
  }

  updateCutLine(cutIndex, total) {
    const key = `${cutIndex}/${total}`;
    if (this.lastCutAfter === key) return;
    this.lastCutAfter = key;
    const mode = cutIndex === null || total === 0 ? "none" : cutIndex < total ? "split" : "all";
    this.cut.dataset.cut = mode;
    this.cut.classList.toggle("is-inactive", mode === "none");
    this.cut.dataset.cutAfter = cutIndex === null ? "" : String(cutIndex);
    const [above, , below] = this.cut.children;
    above.textContent = mode === "split" ? `↑ Top ${cutIndex} sent to the LLM`
      : mode === "all" ? `↑ All ${total} sent to the LLM` : "";
    below.textContent = mode === "split" ? `${total - cutIndex} dropped ↓` : "";
  }

  // ---- events -------------------------------------------------------------------------------

  recordFor(node) {
    const li = node && node.closest ? node.closest("li.passage") : null;
    if (!li || li.parentNode !== this.ol) return null;
    return this.records.get(Number(li.dataset.index)) || null;
  }

  onChange(event) {
    if (!event.target.classList || !event.target.classList.contains("relevance-box")) return;
    const rec = this.recordFor(event.target);
    if (!rec) return;
    const relevance = event.target.checked ? 2 : 0;
    this.writeRelevance(rec, relevance);
    this.ol.dispatchEvent(new CustomEvent("relevance-toggle", {
      bubbles: true,
      detail: { index: Number(rec.el.dataset.index), relevance },
    }));
  }

  onClick(event) {
    const button = event.target.closest ? event.target.closest(".passage-expand") : null;
    if (!button) return;
    const rec = this.recordFor(button);
    if (!rec) return;
    rec.expanded = !rec.expanded;
    this.writeText(rec);
  }
}
