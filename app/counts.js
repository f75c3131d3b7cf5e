// The live count under the passages box ("12 passages · 3 windowed · read as lines"): Python parses and
// windows the input after a typing pause, in idle-time slices so it never lands in a frame or a re-sort.

import { onIdle } from "./idle.js";

export class LiveCounts {
  /** `model()` is the main lane's catalog entry (its max_length decides what gets windowed). */
  constructor({ python, inputs, model }) {
    this.python = python;
    this.inputs = inputs;
    this.model = model;
    this.el = document.getElementById("counts");
    this.timer = 0;
  }

  /** Count after `delay` ms and then when the main thread is idle (a newer call replaces a pending one). */
  schedule(delay = 150) {
    clearTimeout(this.timer);
    // Counting parses and windows every passage in Python (hundreds of ms at 2,000 passages): after the typing pause,
    // run it in slices when the main thread is idle, so it never lands in the middle of a frame or a re-sort.
    this.timer = setTimeout(() => onIdle(() => this.count(), 500), delay);
  }

  /** One slice of counting; schedules the next slice while Python says it is not finished. */
  count() {
    if (!this.python.glue) {
      this.el.textContent = "Counting passages once Python is ready…";
      return;
    }
    const res = this.python.call("inspect", this.inputs.inspectPayload(this.model()));
    if (res.pending) {
      // Python prepared part of the passages (windows, BM25 terms) in this slice: go on in the next idle period.
      this.el.textContent = `${res.count.toLocaleString()} passage${res.count === 1 ? "" : "s"} · counting windows…`;
      this.timer = setTimeout(() => onIdle(() => this.count(), 500), 0);
      return;
    }
    if (res.error) {
      this.el.textContent = "0 passages";
      if (res.error.code !== "no_passages") this.inputs.showLiveError(res.error.message);
      return;
    }
    this.inputs.clearLiveError();
    const parts = [`${res.count.toLocaleString()} passage${res.count === 1 ? "" : "s"}`];
    parts.push(`${res.windowed.toLocaleString()} windowed`);
    if (res.labelled) parts.push(`${res.labelled} labelled`);
    if (this.inputs.mode === "auto" && res.mode) parts.push(`read as ${res.mode}`);
    let text = parts.join(" · ");
    if (res.notices.length) text += ` — ${res.notices.map((n) => n.message).join(" ")}`;
    this.el.textContent = text;
  }
}
