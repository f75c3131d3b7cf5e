// Scoring worker, the two kinds of model it runs, each as one strategy object:
//   cross-encoder (the reranker): encodes (query, text) pairs; the score is the model's logit;
//   bi-encoder (app/biencoder-worker.js, the "vector search" column): encodes query and text apart; the score is
//   the cosine of their mean-pooled, unit-length embeddings (sentence-transformers).
// A strategy has: name, embeds (it can return embeddings), modelClass(T), encode(m, item), prepare(m, items, infer)
// (before a run's batches), scores(out, batch) -> one output per item (a number; a bi-encoder item without a query
// gets its unit embedding, a Float32Array), where out = {output, mask, n, len} from the batch's inference.

import { encodePair, encodeSingle } from "./worker-encode.js";

/** The strategy for a catalog entry; a fresh one per load (the bi-encoder keeps per-model state). */
export function strategyFor(entry) {
  return entry.kind === "bi-encoder" ? biEncoder() : crossEncoder();
}

function crossEncoder() {
  return {
    name: "cross-encoder",
    embeds: false,
    modelClass: (T) => T.AutoModelForSequenceClassification,
    encode: (m, it) => encodePair(m, it.query, it.text),
    prepare: async () => {},
    scores({ output, n }) {
      const data = output.data;
      const cols = output.dims[output.dims.length - 1] || 1;
      const res = new Array(n);
      for (let b = 0; b < n; b++) res[b] = Number(data[b * cols + (cols - 1)]); // single-logit heads: cols == 1
      output.dispose?.();
      return res;
    },
  };
}

const QUERY_CHUNK = 8; // queries embedded per batch
const KEPT_QUERIES = 64; // query vectors kept across runs

function biEncoder() {
  const queryVectors = new Map(); // query text -> unit vector, kept across runs (bounded)
  return {
    name: "bi-encoder",
    embeds: true,
    modelClass: (T) => T.AutoModel,
    encode: (m, it) => encodeSingle(m, it.text),
    /** Embed each distinct query of the run once and attach its vector to the run's items (items of an embed
     *  run have no query). */
    async prepare(m, items, infer) {
      const queries = new Set(items.map((it) => it.query).filter((q) => q !== null && q !== undefined));
      const missing = [...queries].filter((q) => !queryVectors.has(q));
      for (let i = 0; i < missing.length; i += QUERY_CHUNK) {
        const chunk = missing.slice(i, i + QUERY_CHUNK).map((q) => ({ text: q, enc: encodeSingle(m, q) }));
        const vectors = meanPoolNormalise(await infer(m, chunk));
        chunk.forEach((c, k) => queryVectors.set(c.text, vectors[k]));
      }
      while (queryVectors.size > KEPT_QUERIES) queryVectors.delete(queryVectors.keys().next().value);
      for (const it of items) if (queries.has(it.query)) it.queryVector = queryVectors.get(it.query);
    },
    scores(out, batch) {
      const vectors = meanPoolNormalise(out);
      return batch.map((it, b) => (it.queryVector ? dot(vectors[b], it.queryVector) : vectors[b]));
    },
  };
}

/** Mean of the token vectors under the attention mask, scaled to unit length; pooled outputs are only scaled. */
function meanPoolNormalise({ output, mask, n, len }) {
  const data = output.data;
  const dims = output.dims;
  const vectors = [];
  if (dims.length === 2) {
    const h = dims[1]; // already pooled (sentence_embedding)
    for (let b = 0; b < n; b++) vectors.push(unit(Float32Array.from(data.subarray(b * h, (b + 1) * h))));
    return vectors;
  }
  const h = dims[2];
  for (let b = 0; b < n; b++) {
    const v = new Float32Array(h);
    let count = 0;
    for (let j = 0; j < len; j++) {
      if (mask[b * len + j] === 0n) continue;
      count += 1;
      const off = (b * len + j) * h;
      for (let k = 0; k < h; k++) v[k] += data[off + k];
    }
    for (let k = 0; k < h; k++) v[k] /= Math.max(1, count);
    vectors.push(unit(v));
  }
  return vectors;
}

function unit(v) {
  let norm = 0;
  for (const x of v) norm += x * x;
  norm = Math.sqrt(norm) || 1;
  for (let k = 0; k < v.length; k++) v[k] /= norm;
  return v;
}

function dot(a, b) {
  let s = 0;
  for (let k = 0; k < a.length; k++) s += a[k] * b[k];
  return s;
}
