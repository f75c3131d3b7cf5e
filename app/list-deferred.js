// What a result list puts off so that no single frame does it all: rows not created yet (a long first draw adds
// options.newRowsPerFrame new rows per frame below the top ones, the rest in the next frames) and, in a long list,
// the new rank of far-off rows (written in idle time, options.staleBudgetMs per slice, or when the row is about to
// be drawn). While anything is put off the list has aria-busy="true"; drawn() resolves once nothing is.

import { onIdle } from "./idle.js";
import { writeRank } from "./list-rows.js";

export class DeferredWork {
  /** `redraw(rows, cutAfter)` draws the rows of a render again in a later frame (creating those still missing). */
  constructor(ol, options, redraw) {
    this.ol = ol;
    this.options = options;
    this.redraw = redraw;
    this.rowsToCome = null;    // {rows, cutAfter, frame}: a render whose rows are not all created yet
    this.creationFrame = null; // document.timeline time of the frame that created rows last, and how many
    this.createdInFrame = 0;
    this.staleRanks = new Set(); // row records whose drawn rank trails rec.nextRank
    this.rankIdle = false;       // an idle slice for stale ranks is scheduled
    this.drawnWaiters = [];
  }

  // ---- rows not created yet ----------------------------------------------------------------

  /** Start a draw: the creation budget is per frame (the list's own follow-up draw and a render of new scores
   *  can share one). */
  startDraw() {
    if (this.rowsToCome) { cancelAnimationFrame(this.rowsToCome.frame); this.rowsToCome = null; }
    const frameTime = typeof document.timeline?.currentTime === "number" ? document.timeline.currentTime : null;
    if (frameTime === null || frameTime !== this.creationFrame) { this.creationFrame = frameTime; this.createdInFrame = 0; }
  }

  /** May a new row be created at display `position` in this frame? The top of the order always may; below it, at
   *  most options.newRowsPerFrame new rows per frame. A yes counts against the budget. */
  mayCreate(position) {
    const perFrame = this.options.newRowsPerFrame;
    if (this.createdInFrame >= perFrame && position >= perFrame) return false;
    this.createdInFrame += 1;
    return true;
  }

  /** Some rows of this render were not created: draw it again in the next frame. */
  drawRestLater(rows, cutAfter) {
    const frame = requestAnimationFrame(() => {
      if (this.rowsToCome?.frame === frame) this.redraw(this.rowsToCome.rows, this.rowsToCome.cutAfter);
    });
    this.rowsToCome = { rows, cutAfter, frame };
  }

  hasRowsToCome() {
    return Boolean(this.rowsToCome);
  }

  // ---- ranks of far-off rows ---------------------------------------------------------------

  /** Set a row's rank and change: now, or with `later` (and a rank already drawn) when idle or about to be drawn. */
  setRank(rec, rank, change, later) {
    const { last } = rec;
    if (last.rank === rank && last.change === change) {
      if (rec.nextRank) this.forget(rec);
    } else if (later && last.rank !== undefined) {
      rec.nextRank = { rank, change };
      this.staleRanks.add(rec);
    } else {
      this.writeNow(rec, rank, change);
    }
  }

  /** Drop a row's waiting rank (the row is gone, or its drawn rank is current again). */
  forget(rec) {
    rec.nextRank = null;
    this.staleRanks.delete(rec);
  }

  writeNow(rec, rank, change) {
    this.forget(rec);
    writeRank(rec, rank, change);
  }

  /** A row about to be drawn gets its waiting rank first, in the same frame. */
  rowShown(rec) {
    if (rec.nextRank) this.writeNow(rec, rec.nextRank.rank, rec.nextRank.change);
  }

  /** Write waiting ranks in idle time, a few at a time (options.staleBudgetMs per slice). */
  scheduleRanks() {
    if (this.rankIdle || !this.staleRanks.size) return;
    this.rankIdle = true;
    onIdle((deadline) => {
      this.rankIdle = false;
      const left = deadline && typeof deadline.timeRemaining === "function" ? deadline.timeRemaining() : 50;
      const budget = Math.max(2, Math.min(this.options.staleBudgetMs, left));
      const t0 = performance.now();
      for (const rec of this.staleRanks) {
        if (performance.now() - t0 > budget) break;
        this.writeNow(rec, rec.nextRank.rank, rec.nextRank.change);
      }
      if (this.staleRanks.size) this.scheduleRanks();
      else this.finish();
    }, 300);
  }

  // ---- drawn -------------------------------------------------------------------------------

  /** Resolves once nothing is put off any more. */
  drawn() {
    if (!this.rowsToCome && !this.staleRanks.size) return Promise.resolve();
    return new Promise((resolve) => this.drawnWaiters.push(resolve));
  }

  /** Set aria-busy from what is put off; with nothing left, resolve drawn(). */
  finish() {
    if (this.rowsToCome || this.staleRanks.size) { this.ol.setAttribute("aria-busy", "true"); return; }
    this.ol.removeAttribute("aria-busy");
    const waiters = this.drawnWaiters;
    this.drawnWaiters = [];
    for (const resolve of waiters) resolve();
  }

  /** Put nothing off any more (the list is being emptied). */
  clear() {
    if (this.rowsToCome) { cancelAnimationFrame(this.rowsToCome.frame); this.rowsToCome = null; }
    this.staleRanks.clear();
    this.finish();
  }
}
