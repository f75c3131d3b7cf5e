// Scoring worker, encoding: text to token ids (pairs for a cross-encoder, single texts for a bi-encoder) and
// token ids to micro-batches and their input tensors.

import { withSpecialTokens } from "./worker-tokenizer.js";

// Chosen by measurement on 2 cores (bench/README.md): the first batch is one short pair so the first score shows
// fast; later batches are small and length-bucketed: in wasm, 4-pair batches score more pairs per second than
// 16-pair ones (activations stay in cache) and long passages never pad short ones.
const DEFAULT_FIRST_BATCH = 1;
const FIRST_BATCH_CANDIDATES = 8; // the first batch is the shortest of the first 8 pairs (tokenising 8 is < 1 ms)
const DEFAULT_MAX_BATCH = 4;
const DEFAULT_BATCH_TOKENS = 1024;

/** Batching settings of a load request's `options` (each may be left out). */
export function batchingOptions(opts) {
  return {
    batchTokens: opts.batchTokens || DEFAULT_BATCH_TOKENS,
    maxBatch: opts.maxBatch || DEFAULT_MAX_BATCH,
    firstBatch: opts.firstBatch || DEFAULT_FIRST_BATCH,
  };
}

/** How many special tokens the tokenizer adds to a pair and to a single text, and its padding id. */
export function specialTokenLayout(tokenizer) {
  const pair = withSpecialTokens(tokenizer, ["a"], ["b"]);
  const single = withSpecialTokens(tokenizer, ["a"], null);
  return { specialCount: pair.ids.length - 2, specialCountSingle: single.ids.length - 1, padId: tokenizer.pad_token_id ?? 0 };
}

/** A pair, exactly as HF `tokenizer(query, text, truncation="only_second", max_length=m.maxLength)`. */
export function encodePair(m, query, text) {
  let q = m.tokenizer.tokenize(query);
  let p = m.tokenizer.tokenize(text);
  const budget = m.maxLength - m.specialCount;
  // Queries longer than the window: keep at most half of it for the query (HF would refuse only_second here).
  if (q.length > Math.floor(budget / 2) && q.length + p.length > budget) q = q.slice(0, Math.max(1, Math.floor(budget / 2)));
  const room = budget - q.length;
  if (p.length > room) p = p.slice(0, Math.max(0, room));
  return withSpecialTokens(m.tokenizer, q, p);
}

/** One text, `[CLS] text [SEP]`, truncated to the window (like HF truncation=True). */
export function encodeSingle(m, text) {
  let t = m.tokenizer.tokenize(text);
  const room = m.maxLength - (m.specialCountSingle ?? 2);
  if (t.length > room) t = t.slice(0, Math.max(0, room));
  return withSpecialTokens(m.tokenizer, t, null);
}

/**
 * The first micro-batch: the shortest of the caller's first few items (their top candidates), so a score shows
 * quickly even when the list opens with a long passage. Encodes those candidates; returns {first, rest}.
 */
export function splitFirstBatch(items, m, encode) {
  const head = items.slice(0, Math.max(m.firstBatch, FIRST_BATCH_CANDIDATES));
  encode(head);
  const first = [...head].sort((a, b) => a.enc.ids.length - b.enc.ids.length).slice(0, m.firstBatch);
  return { first, rest: items.filter((it) => !first.includes(it)) };
}

/** Encoded items into batches of similar length: at most maxBatch items and about maxTokens tokens each. */
export function lengthBuckets(items, maxBatch, maxTokens) {
  const sorted = [...items].sort((a, b) => a.enc.ids.length - b.enc.ids.length);
  const batches = [];
  let batch = [];
  for (const it of sorted) {
    const len = it.enc.ids.length;
    if (batch.length && (batch.length >= maxBatch || (batch.length + 1) * len > maxTokens)) {
      batches.push(batch);
      batch = [];
    }
    batch.push(it);
  }
  if (batch.length) batches.push(batch);
  return batches;
}

/** The padded int64 input tensors' data of a batch of encoded items: {ids, mask, types, dims: [n, len]}. */
export function batchInputs(batch, padId) {
  const n = batch.length;
  let len = 0;
  for (const it of batch) len = Math.max(len, it.enc.ids.length);
  const ids = new BigInt64Array(n * len);
  const mask = new BigInt64Array(n * len);
  const types = new BigInt64Array(n * len);
  const pad = BigInt(padId);
  for (let b = 0; b < n; b++) {
    const e = batch[b].enc;
    const off = b * len;
    for (let j = 0; j < len; j++) {
      if (j < e.ids.length) {
        ids[off + j] = BigInt(e.ids[j]);
        mask[off + j] = 1n;
        types[off + j] = BigInt(e.typeIds[j] || 0);
      } else {
        ids[off + j] = pad;
      }
    }
  }
  return { ids, mask, types, dims: [n, len] };
}
