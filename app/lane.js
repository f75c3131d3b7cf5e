// A lane: one reranker model in its own scoring worker plus the result list it fills. Lane "a" is the main
// model, lane "b" the optional compared one. A lane loads its model, buffers the worker's scores, hands them to
// Python once per animation frame (`add`: Python decides the order) and renders the view Python returns.
//
// Events (CustomEvent detail in braces): "model-loading" {entry}, "model-progress" {entry, progress},
// "model-ready" {entry, info}, "model-failed" {entry, message}, "model-settled" (a load ended, any outcome),
// "update" {view} (after scores were added and drawn). On the document: "rerank:update" (lane a) and
// "rerank:update-b" (lane b) after every render.

import { ResultList } from "./view.js";
import { Scorer } from "./scorer.js";
import { setError } from "./feedback.js";

export class Lane extends EventTarget {
  constructor(slot, listEl, errorKey, python) {
    super();
    this.slot = slot;
    this.listEl = listEl;
    this.resultList = new ResultList(listEl);
    this.errorKey = errorKey;
    this.python = python;
    this.scorer = null;
    this.backend = "wasm"; // what this lane's worker is asked for ("wasm" | "webgpu"; app/backend.js)
    this.entry = null;     // the catalog entry loaded (or loading) in this lane's worker
    this.ready = false;
    this.loading = null;   // the load attempt in progress
    this.loadPromise = null;
    this.info = null;      // the worker's `ready` message
    this.rows = new Map(); // original index -> row for the view (Python's row + text)
    this.texts = [];
    this.collection = null; // a documents run: CollectionRows (list rows under collection ids), else null
    this.query = "";
    this.order = [];
    this.session = null;   // Python's session id of the current run in this lane
    this.done = false;
    this.buffer = [];      // worker results waiting for the next frame
    this.frame = 0;
    this.firstView = null; // a run's first (full) view, drawn in the frame after Rerank
    this.stats = null;     // the current run's measurements (app/stats.js draws them)
  }

  emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }

  /** Load (or switch to) a catalog entry in this lane's worker. */
  async load(entry) {
    this.entry = entry;
    this.ready = false;
    this.info = null;
    this.scorer ??= new Scorer();
    setError(this.errorKey, "");
    const attempt = (this.loading = {});
    this.emit("model-loading", { entry });
    let settle;
    this.loadPromise = new Promise((resolve) => { settle = resolve; });
    try {
      const info = await this.scorer.load(entry, {
        backend: this.backend,
        onProgress: (progress) => { if (this.loading === attempt) this.emit("model-progress", { entry, progress }); },
      });
      if (this.loading !== attempt || info?.superseded) return;
      this.info = info;
      this.ready = true;
      this.emit("model-ready", { entry, info });
    } catch (err) {
      if (this.loading !== attempt) return;
      const message = err.message || String(err);
      setError(this.errorKey, message);
      this.emit("model-failed", { entry, message });
    } finally {
      if (this.loading === attempt) this.loading = null;
      settle();
      this.emit("model-settled");
    }
  }

  /** Ask for another backend: the worker is replaced (ONNX Runtime's wasm build is fixed per worker) and the
   *  lane's model, if any, loads again on it. A run using this lane must be stopped first (app/page.js does). */
  setBackend(backend) {
    if (backend === this.backend) return;
    this.backend = backend;
    this.scorer?.terminate();
    this.scorer = null;
    if (this.entry) this.load(this.entry);
  }

  /** Take one worker `result`: count it and buffer it for the next frame's flush. */
  receive(result) {
    const now = performance.now();
    if (this.stats.firstResult === null) this.stats.firstResult = now;
    this.stats.lastResult = now;
    this.stats.results += 1;
    this.buffer.push({ key: result.key, logit: result.logit, tokens: result.tokens });
    this.schedule();
  }

  /** Apply a view from Python: merge changed rows, render, tell listeners. */
  apply(view) {
    if (view.session !== this.session) return;
    if (view.full) this.firstView = null;
    for (const row of view.rows) {
      row.text = this.texts[row.index];
      this.rows.set(row.index, row);
    }
    this.order = view.order;
    this.done = view.done;
    const rows = this.order.map((i) => this.rows.get(i));
    this.resultList.render(this.collection ? this.collection.display(rows) : rows, { cutAfter: view.cutAfter });
    const detail = { ...view.detail };
    document.dispatchEvent(new CustomEvent(this.slot === "a" ? "rerank:update" : "rerank:update-b", { detail }));
  }

  /** The session index of a list row's `data-index` (a collection id in a documents run). */
  localIndex(index) {
    return this.collection ? this.collection.localIndex(index) : index;
  }

  /** Push buffered worker results into Python once per animation frame. */
  schedule() {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => { this.frame = 0; this.flush(); });
  }

  /** Draw the run's first view if it is still waiting for its frame (results can only add to a drawn list). */
  showFirstView() {
    if (this.firstView) this.apply(this.firstView);
  }

  /** Hand the buffered results to Python now, draw what it returns, and time both for the stats. */
  flush() {
    if (this.frame) { cancelAnimationFrame(this.frame); this.frame = 0; }
    this.showFirstView();
    if (!this.buffer.length) return;
    const batch = this.buffer;
    this.buffer = [];
    const t0 = performance.now();
    const view = this.python.call("add", this.slot, batch);
    const t1 = performance.now();
    if (view.error) { setError(this.errorKey, view.error.message); return; }
    this.apply(view);
    const t2 = performance.now();
    const s = this.stats;
    if (s) {
      s.updates += 1;
      s.pyMs += t1 - t0;
      s.renderMs += t2 - t1;
      s.maxUpdateMs = Math.max(s.maxUpdateMs, t2 - t0);
      if (s.renderedFirst === null) s.renderedFirst = performance.now();
    }
    this.emit("update", { view });
  }

  /** Forget the current run: empty list, no session. */
  reset() {
    this.resultList.clear();
    this.rows.clear();
    this.buffer = [];
    this.firstView = null;
    this.session = null;
    this.done = false;
  }

  /** The second model was set to "None": no entry, no run (a load still in flight finishes unseen). */
  forget() {
    this.entry = null;
    this.reset();
  }
}
