// Result-list view: renders ranked passages and animates re-sorts.
//
// Contract (docs/ARCHITECTURE.md, "View"):
//   new ResultList(olElement, {reducedMotion})   reducedMotion: true | false | undefined (auto, media query)
//   list.render(rows, {cutAfter})                rows in display order; call at most once per animation frame
//   list.drawn()                                 resolves once every row of the last render is in, with its rank
//   list.clear()                                 removes every row
//
// The rooms: list-rows.js (a row's DOM and writing its facts; excerpts in excerpt.js), list-moves.js (DOM order
// and the FLIP move animation), list-deferred.js (rows and ranks put off to later frames / idle time) and
// list-measure.js (long lists: content-visibility and measuring rows in the background). This module drives them
// and handles the list's events.

import { createRow, rowFacts, writeFacts, writeRelevance, writeText, CutLine } from "./list-rows.js";
import { Moves, nearNodes, reorder } from "./list-moves.js";
import { DeferredWork } from "./list-deferred.js";
import { RowMeasurer } from "./list-measure.js";

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

export class ResultList {
  constructor(olElement, options = {}) {
    if (!olElement) throw new Error("ResultList needs the <ol> element to render into.");
    this.ol = olElement;
    this.options = { ...DEFAULTS, ...options };
    this.records = new Map(); // original index -> row record (list-rows.js)
    this.cut = new CutLine();
    this.moves = new Moves(this.options);
    this.deferred = new DeferredWork(this.ol, this.options, (rows, cutAfter) => this.draw(rows, cutAfter, true));
    this.measurer = new RowMeasurer(this.ol, this.options, this.records, () => this.deferred.hasRowsToCome());
    this.mediaQuery = typeof matchMedia === "function" ? matchMedia("(prefers-reduced-motion: reduce)") : null;
    this.ol.classList.add("result-list");
    this.ol.addEventListener("change", (event) => this.onChange(event));
    this.ol.addEventListener("click", (event) => this.onClick(event));
    // a far-off row about to be drawn (content-visibility: auto) gets its current rank first, in the same frame
    this.ol.addEventListener("contentvisibilityautostatechange", (event) => this.onVisible(event), true);
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
  render(rows, { cutAfter = null } = {}) {
    this.draw(rows, cutAfter, false);
  }

  /** Resolves once every row of the last render is in the list with its current rank (a long first draw takes a
   *  few frames; far-off ranks are written in idle time). */
  drawn() {
    return this.deferred.drawn();
  }

  /** Remove every row (for example before a run with new input). */
  clear() {
    this.deferred.clear();
    this.moves.stop();
    for (const rec of this.records.values()) rec.li.remove();
    this.records.clear();
    this.measurer.clear();
    this.cut.li.remove();
  }

  /** One draw of `rows`. A follow-up draw (the rest of a long first draw) only adds rows below the drawn ones:
   *  nothing moves, so nothing is measured for moves and moves in flight go on. */
  draw(rows, cutAfter, followUp) {
    this.deferred.startDraw();
    const reduced = this.reducedMotion;
    const animate = !reduced && !followUp && this.ol.isConnected && typeof Element.prototype.animate === "function";
    this.ol.classList.toggle("reduced-motion", reduced);

    // FIRST: where are the rows near the viewport (and every row still moving) drawn right now, including any
    // in-flight transform? Rows far from the viewport are not measured: they neither animate nor cost layout.
    const long = rows.length > this.options.largeList;
    const before = (animate || long) && this.records.size ? this.nearNodes() : null;
    const first = animate && before ? this.moves.firstPositions(before.near) : null;
    // Stop in-flight moves; their current positions are captured above, so nothing jumps.
    if (!followUp) this.moves.stop();

    // WRITE: update rows, then put them in order with as few DOM moves as possible.
    const cutIndex = Number.isInteger(cutAfter) && cutAfter > 0 ? Math.min(cutAfter, rows.length) : null;
    const written = this.writeRows(rows, cutIndex, long ? before : null, first);
    this.measurer.update(rows.length, written.textChanged);
    this.cut.write(cutIndex, rows.length);
    if (cutIndex === null || cutIndex >= rows.length) written.desired.push(this.cut.li);
    for (const [index, rec] of this.records) {
      if (!written.seen.has(index)) { rec.li.remove(); this.records.delete(index); this.deferred.forget(rec); }
    }
    reorder(this.ol, written.desired);

    if (first) this.moves.play(first, before, this.nearNodes());
    else if (reduced && written.changed.length) this.moves.flash(written.changed);
    if (written.missing) this.deferred.drawRestLater(rows, cutAfter);
    this.deferred.scheduleRanks();
    this.deferred.finish();
  }

  /** Write every row of `rows` (creating rows within the frame's budget) and list the nodes in display order.
   *  With `far` (a long list's nearNodes() before this draw), rows far from it that are neither measured for a move
   *  (`first`) nor focused get a changed rank later. */
  writeRows(rows, cutIndex, far, first) {
    const out = { desired: [], seen: new Set(), changed: [], textChanged: [], missing: 0 };
    // Positions that will be on or near the screen: the near range before this draw plus as much again.
    const span = far ? far.hi - far.lo + 1 : 0;
    const nearLo = far ? far.lo - span : 0;
    const nearHi = far ? far.hi + span : -1;
    const focusRow = this.recordFor(document.activeElement);
    rows.forEach((row, position) => {
      const index = row.index;
      if (out.seen.has(index)) return; // a repeated index would put one element in two places
      let rec = this.records.get(index);
      if (!rec) {
        if (!this.deferred.mayCreate(position)) { out.missing += 1; return; }
        rec = createRow(index);
        this.records.set(index, rec);
      }
      const previousRank = rec.last.rank;
      const rankLater = Boolean(far) && (position < nearLo || position > nearHi) && !(first && first.has(rec.li))
        && rec !== focusRow;
      const facts = rowFacts(row, position);
      this.deferred.setRank(rec, facts.rank, facts.change, rankLater);
      if (writeFacts(rec, facts, this.options)) out.textChanged.push(rec);
      if (previousRank !== undefined && previousRank !== rec.last.rank) out.changed.push(rec.li);
      out.seen.add(index);
      out.desired.push(rec.li);
      if (cutIndex !== null && position + 1 === cutIndex && cutIndex < rows.length) out.desired.push(this.cut.li);
    });
    return out;
  }

  /** nearNodes() of this list, leaving out the cut line while it is inactive. */
  nearNodes() {
    const cut = this.cut.li;
    const inactiveCut = (node) => node === cut && cut.classList.contains("is-inactive");
    return nearNodes(this.ol, this.options.viewportMargin, inactiveCut);
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
    writeRelevance(rec, relevance);
    this.ol.dispatchEvent(new CustomEvent("relevance-toggle", {
      bubbles: true,
      detail: { index: Number(rec.li.dataset.index), relevance },
    }));
  }

  onClick(event) {
    const button = event.target.closest ? event.target.closest(".passage-expand") : null;
    if (!button) return;
    const rec = this.recordFor(button);
    if (!rec) return;
    rec.expanded = !rec.expanded;
    writeText(rec, this.options);
  }

  onVisible(event) {
    if (event.skipped) return;
    const rec = this.recordFor(event.target);
    if (rec) this.deferred.rowShown(rec);
  }
}
