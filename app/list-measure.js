// Long lists (> options.largeList rows) let off-screen rows skip style and layout (content-visibility: auto, the
// classes is-long and is-large) from the first frame, so drawing 1,000 rows costs about one screenful. A skipped
// row that has never been drawn would only have a placeholder height, and jump when a re-sort brings it into view;
// so every row is laid out once in the background, a batch per idle step (options.measureStepMs), and the browser
// remembers its real height (contain-intrinsic-size: auto). Texts or the list width changing queue rows again.
// The list's data-measured="true" says every row has been laid out.

import { onIdle } from "./idle.js";

export class RowMeasurer {
  /** `records`: the list's rows (index -> record); `rowsToCome()`: true while rows are still to be created. */
  constructor(ol, options, records, rowsToCome) {
    this.ol = ol;
    this.options = options;
    this.records = records;
    this.rowsToCome = rowsToCome;
    this.unmeasured = new Set(); // rows whose real height the browser has not remembered yet
    this.measuring = [];         // rows laid out (not skipped) during the current measuring step
    this.batch = 8;              // rows per measuring step: halves when a step runs long, doubles when it is quick
    this.frame = 0;              // the step's animation frame id; -1 once waiting for idle time; 0 when none is due
    this.widthObserver = null;
  }

  get long() {
    return this.ol.classList.contains("is-long");
  }

  /** After a draw of `count` rows: switch long-list mode on or off and queue the rows whose text changed. */
  update(count, textChanged) {
    const long = count > this.options.largeList;
    const wasLong = this.long;
    this.ol.classList.toggle("is-long", long);
    this.ol.classList.toggle("is-large", long);
    if (!long) {
      this.stop();
      this.unmeasured.clear();
      return;
    }
    if (!this.widthObserver && typeof ResizeObserver === "function") {
      let width = null;
      this.widthObserver = new ResizeObserver((entries) => {
        const w = Math.round(entries[entries.length - 1].contentRect.width);
        if (width !== null && w !== width && this.long) this.queue(true);
        width = w;
      });
      this.widthObserver.observe(this.ol);
    }
    if (!wasLong) this.queue(true); // rows drawn before the list was long have no remembered size
    else if (textChanged.length) this.queue(textChanged);
  }

  /** Queue rows for a background layout: `rows` (records) or every row (true). */
  queue(rows) {
    for (const rec of rows === true ? this.records.values() : rows) this.unmeasured.add(rec);
    if (this.unmeasured.size) delete this.ol.dataset.measured;
    if (!this.frame && this.unmeasured.size) this.schedule();
  }

  /** Forget every queued row (the list is being emptied). */
  clear() {
    this.unmeasured.clear();
    this.measuring = [];
  }

  /** Next measuring step: when the main thread is idle, after at least one frame was drawn (the browser records
   *  a row's size while drawing a frame in which the row was laid out). */
  schedule() {
    const frame = requestAnimationFrame(() => {
      if (this.frame !== frame) return;
      this.frame = -1;
      onIdle(() => { if (this.frame === -1) this.step(); }, 200);
    });
    this.frame = frame;
  }

  /** The rows measured in the previous step go back to skipping (their size is remembered by now). */
  stop() {
    for (const node of this.measuring) node.style.contentVisibility = "";
    this.measuring = [];
    if (this.frame > 0) cancelAnimationFrame(this.frame);
    this.frame = 0;
  }

  /** One step of background measuring: lay out the next batch of unmeasured rows (this.batch of them). */
  step() {
    this.frame = 0;
    for (const node of this.measuring) node.style.contentVisibility = "";
    this.measuring = [];
    if (!this.long || !this.ol.isConnected) return;
    // One batch per step. A step costs a fixed part (switching content-visibility re-lays out the whole list: ~15 ms
    // at 1,000 rows on a 2-core machine, for 1 row or 64) plus the rows' first layout (text shaping: a few ms for a
    // long passage), so the batch size follows what steps actually cost, between 4 and 64 rows.
    for (const rec of this.unmeasured) {
      if (this.measuring.length >= this.batch) break;
      this.unmeasured.delete(rec);
      if (!rec.li.isConnected) continue;
      rec.li.style.contentVisibility = "visible";
      this.measuring.push(rec.li);
    }
    // Lay the batch (and the previous one, back to skipping) out now, in this idle task, not in the next frame.
    const t0 = performance.now();
    if (this.measuring.length) void this.measuring[this.measuring.length - 1].offsetHeight;
    const ms = performance.now() - t0;
    const target = this.options.measureStepMs;
    if (ms > target) this.batch = Math.max(4, this.batch >> 1);
    else if (ms < target / 2 && this.measuring.length === this.batch) this.batch = Math.min(64, this.batch * 2);
    if (this.measuring.length || this.unmeasured.size || this.rowsToCome()) this.schedule();
    else this.ol.dataset.measured = "true";
  }
}
