// The comparison panel ("Where the relevant passages ended up"): the orders Python computes for lane A
// (original, BM25, the vector column, the cross-encoder) plus lane B's cross-encoder, with nDCG/MRR, drawn
// with renderCompare. The vector column comes from the catalog's bi-encoder, run in its own worker
// (app/biencoder-worker.js) after the cross-encoder has finished, so it never competes with it for the CPU.

import { renderCompare } from "./compare-view.js";
import { Scorer } from "./scorer.js";
import { onIdle } from "./idle.js";
import { modelName } from "./format.js";

// While scoring, the comparison (below the fold) is redrawn at most this often, in idle time.
const COMPARE_EVERY_MS = 2000;

export class ComparePanel {
  constructor({ python, runs, models }) {
    this.python = python;
    this.lanes = runs.lanes;
    this.models = models;
    this.container = document.getElementById("compare");
    this.queued = false;
    this.requestedAt = 0; // when a redraw during scoring was last asked for
    // The bi-encoder: its entry, worker, and the cosine per passage of the lane-A session `session`.
    this.vectors = { entry: null, scorer: null, ready: false, loading: false, scores: null, session: null };
  }

  /** Redraw when the main thread is idle (coalesced). */
  schedule() {
    if (this.queued) return;
    this.queued = true;
    onIdle(() => { this.queued = false; this.draw(); }, 1000);
  }

  /** A run's first views are drawn: the other columns follow when idle, not in that frame. */
  onRunDrawn() {
    this.requestedAt = performance.now();
    this.schedule();
  }

  /** Lane A took new scores: redraw now and then while it is still scoring. */
  onLaneUpdate(view) {
    if (view.done || performance.now() - this.requestedAt <= COMPARE_EVERY_MS) return;
    this.requestedAt = performance.now();
    this.schedule();
  }

  draw() {
    const lane = this.lanes.a;
    if (!lane.session || !this.python.glue) return;
    const v = this.vectors;
    const res = this.python.call("compare", "a", null, v.scores && v.session === lane.session ? v.scores : null);
    if (res.error) return;
    const columns = res.columns;
    const b = this.lanes.b;
    if (b.session) {
      const other = this.python.call("compare", "b", null);
      const col = other.columns?.find((c) => c.id === "cross_encoder");
      if (col) columns.push({ ...col, id: "cross_encoder_b", label: `Cross-encoder: ${modelName(b.entry)}` });
    }
    const ce = columns.find((c) => c.id === "cross_encoder");
    if (ce) ce.label = `Cross-encoder: ${modelName(lane.entry)}`;
    renderCompare(this.container, columns, { relevance: res.relevance, texts: lane.texts, k: res.k, limit: 10 });
  }

  /** The page is ready: load the bi-encoder when idle (on 2 cores a third runtime compiling during start-up
   *  delays `ready` by about a second). */
  onReady() {
    if (!this.vectors.entry) onIdle(() => this.loadVectors(), 2000);
  }

  /** A new run: the vector scores of the previous one no longer apply. */
  onRunStart() {
    this.vectors.session = null;
    this.vectors.scores = null;
  }

  async loadVectors() {
    const v = this.vectors;
    const entry = this.models.vectorEntry();
    if (!entry || v.entry) return;
    v.entry = entry;
    v.loading = true;
    v.scorer = new Scorer({ workerUrl: new URL("./biencoder-worker.js", import.meta.url) });
    try {
      await v.scorer.load(entry);
      v.ready = true;
    } catch {
      // the column is optional: without it the reranker keeps working
    } finally {
      v.loading = false;
    }
  }

  /** The bi-encoder, loaded (Documents mode's vector index shares this worker): {scorer, entry}; rejects with a
   *  sentence for the user when it cannot be loaded. */
  async biencoder() {
    const v = this.vectors;
    if (!v.entry) this.loadVectors();
    while (v.loading) await new Promise((resolve) => setTimeout(resolve, 200));
    if (!v.ready) throw new Error("The bi-encoder could not be loaded, so vectors are not available; use BM25.");
    return { scorer: v.scorer, entry: v.entry };
  }

  /** Embed lane A's passages once its run is done; the vector column fills in as cosines arrive. */
  async scoreVectors() {
    const lane = this.lanes.a;
    const v = this.vectors;
    v.scores = null;
    v.session = lane.session;
    if (!lane.session) return;
    if (!v.entry) this.loadVectors();
    if (!v.entry) return;
    const session = lane.session;
    v.scores = new Array(lane.texts.length).fill(null);
    this.schedule();
    while (v.loading) await new Promise((resolve) => setTimeout(resolve, 200));
    if (!v.ready || v.session !== session) { if (v.session === session) v.scores = null; this.draw(); return; }
    const pairs = lane.texts.map((text, i) => ({ key: String(i), query: lane.query, text }));
    let last = 0;
    try {
      await v.scorer.score(pairs, {
        onResult: (r) => {
          if (v.session !== session) return;
          v.scores[Number(r.key)] = r.logit;
          const now = performance.now();
          if (now - last > 400) { last = now; this.schedule(); }
        },
      });
    } catch {
      if (v.session === session) v.scores = null;
    }
    if (v.session === session) this.draw();
  }
}
