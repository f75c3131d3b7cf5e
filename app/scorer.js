// Main-thread client of the scoring worker (app/scorer-worker.js). Promise + callback API, one request id per
// call, and a guarantee that no stale result (from a superseded score or a previous model) reaches the caller.
//
//   import { Scorer, loadCatalog } from "./scorer.js";
//   const scorer = new Scorer();                                   // RUNTIME from ./runtime.js
//   const info = await scorer.load(entry, {backend: "wasm", onProgress: (p) => ...});   // -> the `ready` message
//   const done = await scorer.score(pairs, {onResult: (r) => ...});   // r: a `result`; done: the `done` message
//   scorer.cancel();           // the pending score() resolves with {cancelled: true}; no result after this call
//   const done = await scorer.embed(texts, {onVectors: (m) => ..., signal});  // bi-encoder: texts [{key, text}];
//                              // m: a `vectors` message {keys, vectors: [Float32Array]}; abort = cancel
//   const {vector} = await scorer.embedQuery(text);                         // the query's Float32Array
//   scorer.terminate();
//
// Rules: a new score() supersedes the previous one (its promise resolves {cancelled: true, superseded: true})
// unless {queue: true}; load() cancels any score in flight (results of the old model never arrive after load()
// is called); a load superseded by a newer load() resolves {superseded: true}. Errors reject with an Error
// whose `message` is a sentence for the user and `detail` the raw cause. If the worker dies, pending calls
// reject, and the next call starts a fresh worker and reloads the last model first.
// The messages and all their fields: docs/ARCHITECTURE.md, "Scoring worker protocol".

import { RUNTIME } from "./runtime.js";

/** Resolve the runtime's relative URLs against app/ so the worker gets absolute ones. */
export function resolveRuntime(runtime = RUNTIME, base = import.meta.url) {
  const abs = (u) => (u ? new URL(u, base).href : u);
  return {
    ...runtime,
    transformers: abs(runtime.transformers),
    ortWasmPaths: abs(runtime.ortWasmPaths),
    bundledModelsPath: abs(runtime.bundledModelsPath),
    remoteHost: abs(runtime.remoteHost),
  };
}

/** Fetch the model catalog (static/models.json). */
export async function loadCatalog(url = new URL("../static/models.json", import.meta.url)) {
  const resp = await fetch(url);
  if (!resp.ok) throw new Error(`The model list (${url}) could not be loaded (HTTP ${resp.status}).`);
  return resp.json();
}

let nextId = 1;
const newId = (kind) => `${kind}-${nextId++}`;

export class Scorer {
  constructor({ runtime = RUNTIME, workerUrl = new URL("./scorer-worker.js", import.meta.url) } = {}) {
    this.runtime = resolveRuntime(runtime);
    this.workerUrl = workerUrl;
    this.worker = null;
    this.requests = new Map(); // id -> {kind, resolve, reject, onResult, onProgress, received}
    this.currentLoad = null; // id of the newest load
    this.currentScore = null; // id of the newest (non-queued) score
    this.lastLoad = null; // {entry, backend, options} to replay after a crash
    this.info = null; // last `ready`
    this.needsReload = false;
  }

  _ensureWorker() {
    if (this.worker) return this.worker;
    const w = new Worker(this.workerUrl, { type: "module", name: "scorer" });
    w.onmessage = (ev) => this._onMessage(ev.data);
    w.onerror = (ev) => {
      ev.preventDefault?.();
      this._crash(`${ev.message || "uncaught error"}${ev.filename ? ` (${ev.filename}:${ev.lineno})` : ""}`);
    };
    w.onmessageerror = () => this._crash("a message could not be decoded");
    this.worker = w;
    return w;
  }

  _crash(detail) {
    const w = this.worker;
    this.worker = null;
    try {
      w?.terminate();
    } catch {
      /* already gone */
    }
    this.needsReload = !!this.lastLoad;
    this.info = null;
    const err = new Error("The scoring worker stopped unexpectedly. It will be restarted: press Rerank to try again.");
    err.detail = detail;
    for (const [id, r] of this.requests) {
      this.requests.delete(id);
      r.reject(err);
    }
  }

  _onMessage(msg) {
    const r = this.requests.get(msg.id);
    if (!r) return; // stale: superseded or cancelled request
    switch (msg.type) {
      case "progress":
        r.onProgress?.(msg);
        break;
      case "ready":
        this.requests.delete(msg.id);
        this.info = msg;
        r.resolve(msg);
        break;
      case "result":
        r.received += 1;
        r.onResult?.(msg);
        break;
      case "vectors":
        r.received += msg.keys.length;
        r.onVectors?.(msg);
        break;
      case "query-vector":
        this.requests.delete(msg.id);
        r.resolve(msg);
        break;
      case "done":
        this.requests.delete(msg.id);
        if (this.currentScore === msg.id) this.currentScore = null;
        r.resolve(msg);
        break;
      case "error": {
        this.requests.delete(msg.id);
        if (r.kind === "load" && this.currentLoad === msg.id) this.info = null;
        if (msg.restart) this._replaceWorker();
        if (msg.superseded) {
          r.resolve({ superseded: true });
          break;
        }
        const err = new Error(msg.message);
        err.detail = msg.detail;
        err.phase = msg.phase;
        r.reject(err);
        break;
      }
      default:
        break;
    }
  }

  /** The worker reported it cannot create sessions any more: the next call starts a fresh one (no model loaded). */
  _replaceWorker() {
    const w = this.worker;
    this.worker = null;
    this.needsReload = false;
    w?.terminate();
    for (const [id, r] of this.requests) {
      this.requests.delete(id);
      r.resolve({ id, cancelled: true, superseded: true });
    }
  }

  /** Drop a request locally: no callback for it will fire after this. */
  _settleCancelled(id, extra) {
    const r = this.requests.get(id);
    if (!r) return;
    this.requests.delete(id);
    r.resolve({ id, pairs: r.received ?? 0, cancelled: true, ...extra });
  }

  /** After a crash, reload the last model before the next request. */
  async _reloadIfNeeded() {
    if (this.needsReload && this.lastLoad) {
      const { entry, backend, options } = this.lastLoad;
      await this.load(entry, { backend, options });
    }
  }

  /** Load a catalog entry. Resolves with the worker's `ready` message. */
  load(entry, { backend = "wasm", onProgress = null, options = {} } = {}) {
    const w = this._ensureWorker();
    // Stale protection: running scores and embeddings belong to the previous model; drop them now.
    for (const id of [...this.requests.keys()]) this._settleCancelled(id, { superseded: true });
    this.currentScore = null;
    const id = newId("load");
    this.currentLoad = id;
    this.lastLoad = { entry, backend, options };
    this.needsReload = false;
    this.info = null;
    return new Promise((resolve, reject) => {
      this.requests.set(id, { kind: "load", resolve, reject, onProgress });
      w.postMessage({ type: "load", id, model: entry, runtime: this.runtime, backend, options });
    });
  }

  /** Score pairs [{key, query, text}]; onResult(result) fires once per pair as its micro-batch finishes. */
  async score(pairs, { onResult = null, queue = false, returnIds = false } = {}) {
    await this._reloadIfNeeded();
    const w = this._ensureWorker();
    if (!queue && this.currentScore) this._settleCancelled(this.currentScore, { superseded: true });
    const id = newId("score");
    if (!queue) this.currentScore = id;
    return new Promise((resolve, reject) => {
      this.requests.set(id, { kind: "score", resolve, reject, onResult, received: 0 });
      w.postMessage({ type: "score", id, pairs, queue, returnIds });
    });
  }

  /** Embed texts [{key, text}] with a bi-encoder; onVectors(msg) fires per micro-batch with its unit vectors.
   *  Runs after the worker's earlier runs and is never superseded by a score; aborting `signal` cancels it (the
   *  promise then resolves {cancelled: true} and no vectors follow). */
  async embed(texts, { onVectors = null, signal = null } = {}) {
    await this._reloadIfNeeded();
    const w = this._ensureWorker();
    const id = newId("embed");
    if (signal?.aborted) return { id, pairs: 0, cancelled: true };
    return new Promise((resolve, reject) => {
      this.requests.set(id, { kind: "embed", resolve, reject, onVectors, received: 0 });
      signal?.addEventListener("abort", () => this.cancel(id), { once: true });
      w.postMessage({ type: "embed", id, texts });
    });
  }

  /** A query's unit embedding with a bi-encoder: {vector: Float32Array, ms}; waits behind earlier runs. */
  async embedQuery(text) {
    await this._reloadIfNeeded();
    const w = this._ensureWorker();
    const id = newId("query");
    return new Promise((resolve, reject) => {
      this.requests.set(id, { kind: "query", resolve, reject });
      w.postMessage({ type: "embed-query", id, text });
    });
  }

  /** Cancel the running score (or the given id). Its promise resolves {cancelled: true}. */
  cancel(id = this.currentScore) {
    if (!id) return;
    this._settleCancelled(id);
    if (this.currentScore === id) this.currentScore = null;
    this.worker?.postMessage({ type: "cancel", id });
  }

  terminate() {
    const w = this.worker;
    this.worker = null;
    w?.terminate();
    for (const id of [...this.requests.keys()]) this._settleCancelled(id, { terminated: true });
  }
}
