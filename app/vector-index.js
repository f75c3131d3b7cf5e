// Documents mode's vector index: one unit embedding per passage of the collection, from the bi-encoder worker,
// kept in this page's memory and in IndexedDB (app/vector-store.js) under the passage's content hash (Python's
// `Collection.keys()`, glue `docs_keys`) and the model, so a reload, an unchanged file or a new passage budget
// embeds only passages never seen before. A query is embedded on its own and its cosine with every passage (a dot
// product of unit vectors) goes to Python's stage 1, which makes every ranking decision.
//
// One embedding job at a time: `vectors(count)` starts it or joins the running one; `cancel()` (the panel's
// Cancel button, Esc) stops it between batches, keeps every vector already received (stored as they arrive) and
// the next call embeds only the rest. `reset()` is for a re-split collection: the job stops quietly.
//
//   const index = new VectorIndex({python, biencoder: async () => ({scorer, entry})});
//   const sims = await index.similarities(query, passageCount);   // number per passage, or null when cancelled

import { announce } from "./feedback.js";
import { VectorStore } from "./vector-store.js";
import { drawVectors, wireVectorsView } from "./vector-progress.js";

const FLUSH_EVERY = 64; // vectors written to IndexedDB per transaction while embedding

/** Dot product of two unit vectors: their cosine (summed in double precision, as the worker does). */
export function dot(a, b) {
  let s = 0;
  for (let k = 0; k < a.length; k++) s += a[k] * b[k];
  return s;
}

export class VectorIndex extends EventTarget {
  /** `biencoder()` resolves {scorer, entry} with the bi-encoder loaded, or rejects with a sentence for the user. */
  constructor({ python, biencoder, store = new VectorStore() }) {
    super();
    this.python = python;
    this.biencoder = biencoder;
    this.store = store;
    this.memory = new Map(); // stored key -> Float32Array: this page's copy of every vector seen
    this.keys = null;        // content keys of the collection's passages, by passage id (null = not asked yet)
    this.complete = null;    // the collection's vectors by passage id, once every one is there
    this.job = null;         // the running job {promise, abort, generation}
    this.generation = 0;     // bumped by reset(): a job of an older collection is stale
    this.embeddedTotal = 0;  // passages this page has sent to the worker (all jobs)
  }

  wire() {
    wireVectorsView(() => this.cancel(true));
    // "Clear stored data" emptied the database: this page's copy goes too, so nothing claims to be stored.
    document.addEventListener("rerank:storage-cleared", () => { this.memory.clear(); this.complete = null; });
  }

  /** The collection was split again: stop a running job quietly and forget the passages' keys. */
  reset() {
    this.generation += 1;
    this.keys = null;
    this.complete = null;
    if (this.job) this.job.abort.abort();
  }

  /** Stop the running job (`byUser`: say so); true when one was running. */
  cancel(byUser) {
    if (!this.job) return false;
    this.job.byUser = byUser;
    this.job.abort.abort();
    return true;
  }

  /** Every passage's vector [0, count), embedding what neither memory nor storage has; null when cancelled. */
  vectors(count) {
    if (this.complete && this.complete.length === count) return Promise.resolve(this.complete);
    if (this.job && this.job.generation === this.generation) return this.job.promise;
    const job = { abort: new AbortController(), generation: this.generation, byUser: false };
    job.promise = this.run(job, count).finally(() => { if (this.job === job) this.job = null; });
    this.job = job;
    return job.promise;
  }

  /** The query's cosine with each passage [0, count), waiting for the vectors; null when they were cancelled. */
  async similarities(query, count) {
    const vectors = await this.vectors(count);
    if (!vectors) return null;
    const { scorer } = await this.biencoder();
    const res = await scorer.embedQuery(query);
    if (!res.vector) return null;
    return vectors.map((v) => dot(v, res.vector));
  }

  /** One job: keys from Python, vectors from memory, then storage, then the worker for the rest. */
  async run(job, count) {
    let state = { total: count, ready: 0, stored: 0, embedded: 0, missing: 0 };
    this.draw(state, "loading");
    try {
      const { scorer, entry } = await this.biencoder();
      const model = `${entry.id}@${entry.sha256 || ""}`;
      if (!this.keys || this.keys.length !== count) this.keys = this.askPython("docs_keys", 0, count);
      const ids = this.keys.map((key) => `${model} ${key}`);
      const out = new Array(count);
      const missing = await this.fromStorage(ids, out);
      state = { ...state, ready: count - missing.length, stored: count - missing.length, missing: missing.length };
      if (missing.length && !job.abort.signal.aborted) {
        this.draw(state, "embedding");
        await this.embedMissing(job, scorer, { ids, out, missing, state });
      }
      if (job.generation !== this.generation) return null;
      if (state.ready < count) return this.stopped(job, state);
      this.draw(state, "done");
      this.complete = out;
      return out;
    } catch (err) {
      if (job.generation === this.generation) this.draw({ ...state, message: err.message || String(err) }, "error");
      throw err;
    }
  }

  /** Fill `out` from memory and IndexedDB; the passage ids still missing. */
  async fromStorage(ids, out) {
    const unknown = [];
    ids.forEach((id, i) => {
      const v = this.memory.get(id);
      if (v) out[i] = v;
      else unknown.push(i);
    });
    const stored = await this.store.getMany(unknown.map((i) => ids[i]));
    const missing = [];
    unknown.forEach((i, n) => {
      const v = stored[n];
      if (v instanceof Float32Array && v.length) {
        out[i] = v;
        this.memory.set(ids[i], v);
      } else {
        missing.push(i);
      }
    });
    return missing;
  }

  /** Send the missing passages to the worker; keep and store each batch's vectors as it arrives. */
  async embedMissing(job, scorer, { ids, out, missing, state }) {
    // only the span of the missing passages crosses from Python (missing is in collection order)
    const first = missing[0];
    const texts = this.askPython("docs_texts", first, missing[missing.length - 1] - first + 1);
    const started = performance.now();
    let pending = [];
    const writes = [];
    const flush = () => { if (pending.length) writes.push(this.store.putMany(pending)); pending = []; };
    const onVectors = (msg) => {
      msg.keys.forEach((key, k) => {
        const i = Number(key);
        out[i] = msg.vectors[k];
        this.memory.set(ids[i], msg.vectors[k]);
        pending.push([ids[i], msg.vectors[k]]);
      });
      state.embedded += msg.keys.length;
      state.ready += msg.keys.length;
      this.embeddedTotal += msg.keys.length;
      if (pending.length >= FLUSH_EVERY) flush();
      const seconds = (performance.now() - started) / 1000;
      state.rate = seconds > 0 ? state.embedded / seconds : 0;
      state.leftMs = state.rate ? ((state.missing - state.embedded) / state.rate) * 1000 : null;
      if (job.generation === this.generation) this.draw(state, "embedding");
    };
    try {
      await scorer.embed(missing.map((i) => ({ key: String(i), text: texts[i - first] })), { signal: job.abort.signal, onVectors });
    } finally {
      flush(); // what arrived before a cancel or an error is kept
      const saved = await Promise.all(writes);
      state.unsaved = saved.includes(false) ? this.store.failure || "storage refused them" : "";
    }
  }

  /** A job that ended before every passage had a vector: the view and the status line say what was kept. */
  stopped(job, state) {
    this.draw(state, "cancelled");
    if (job.byUser) {
      announce(`Embedding stopped: ${state.ready.toLocaleString()} of ${state.total.toLocaleString()} passages ` +
        "have vectors and are kept; the next vector search embeds only the rest.");
    }
    return null;
  }

  draw(state, name) {
    drawVectors({ ...state, state: name, page: this.embeddedTotal });
  }

  askPython(name, ...args) {
    const res = this.python.call(name, ...args);
    if (res && res.error) throw new Error(res.error.message);
    return res;
  }
}
