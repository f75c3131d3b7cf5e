// Scoring worker, one run: encode the items, run them through the model in micro-batches (the first one small, the
// rest length-bucketed), post what each batch gave as it finishes, then `done`. A score run posts one `result` per
// pair; an embed run (bi-encoder) posts one `vectors` message per batch with the texts' unit embeddings, their
// buffers transferred. An embed-query run posts the query's `query-vector` alone.

import { describeScoreError, isOutOfMemory } from "./worker-errors.js";
import { batchInputs, lengthBuckets, splitFirstBatch } from "./worker-encode.js";

const nowMs = () => performance.now();
const round1 = (ms) => Math.round(ms * 10) / 10;
const YIELD = new MessageChannel(); // fastest way to let queued messages (cancel, new score) run

function yieldToEvents() {
  return new Promise((resolve) => {
    YIELD.port1.onmessage = () => resolve();
    YIELD.port2.postMessage(0);
  });
}

/** Run the model on a batch of encoded items: {output, mask, n, len} (output: logits or token/sentence vectors). */
async function infer(m, batch) {
  const inputs = batchInputs(batch, m.padId);
  const all = { input_ids: inputs.ids, attention_mask: inputs.mask, token_type_ids: inputs.types };
  const feeds = {};
  for (const name of m.inputNames) {
    if (!all[name]) throw new Error(`model input "${name}" is not supported`);
    feeds[name] = new m.Tensor("int64", all[name], inputs.dims);
  }
  let output;
  if (m.inference === "model") {
    const out = await m.model(feeds);
    output = out.logits || out.last_hidden_state;
  } else {
    const ortFeeds = {};
    for (const k in feeds) ortFeeds[k] = feeds[k].ort_tensor;
    const out = await m.session.run(ortFeeds);
    output = out.logits || out.sentence_embedding || out.last_hidden_state || out[m.session.outputNames[0]];
  }
  const [n, len] = inputs.dims;
  return { output, mask: inputs.mask, n, len };
}

/** Score a run's pairs with model `m`; `run` = {id, msg, t0, cancelled} (cancelled is set from outside). */
export function scoreRun(run, m, post) {
  const pairs = Array.isArray(run.msg.pairs) ? run.msg.pairs : [];
  const items = pairs.map((p, i) => ({ i, key: String(p.key), query: String(p.query ?? ""), text: String(p.text ?? ""), enc: null }));
  return itemsRun(run, m, items, (batch, scores) => postResults(run, m, batch, scores, post), post);
}

/** Embed a run's texts [{key, text}] with a bi-encoder: one `vectors` message per batch (buffers transferred). */
export function embedRun(run, m, post) {
  if (!m.strategy.embeds) {
    post({ type: "error", id: run.id, message: "This model cannot embed texts: choose a bi-encoder.", detail: m.strategy.name, phase: "score" });
    return Promise.resolve();
  }
  const texts = Array.isArray(run.msg.texts) ? run.msg.texts : [];
  const items = texts.map((t, i) => ({ i, key: String(t.key), query: null, text: String(t.text ?? ""), enc: null }));
  return itemsRun(run, m, items, (batch, vectors) => {
    post({ type: "vectors", id: run.id, keys: batch.map((it) => it.key), indices: batch.map((it) => it.i),
      vectors, tokens: batch.map((it) => it.enc.ids.length), model: m.entry.id }, vectors.map((v) => v.buffer));
  }, post);
}

/** The unit embedding of one query (kept in the bi-encoder's query cache, as a score run would embed it). */
export async function embedQueryRun(run, m, post) {
  const t0 = nowMs();
  try {
    if (!m.strategy.embeds) throw new Error("this model cannot embed texts");
    const item = { query: String(run.msg.text ?? "") };
    await m.strategy.prepare(m, [item], infer);
    const vector = Float32Array.from(item.queryVector);
    post({ type: "query-vector", id: run.id, vector, ms: round1(nowMs() - t0), model: m.entry.id }, [vector.buffer]);
  } catch (err) {
    post({ type: "error", id: run.id, ...describeScoreError(err), phase: "score" });
  }
}

/** Encode and run `items` batch by batch; `emit(batch, outputs)` posts a finished batch; then `done`. */
async function itemsRun(run, m, items, emit, post) {
  const { id, t0 } = run;
  const stats = { scored: 0, batches: 0, tokenizeMs: 0, inferMs: 0, firstResultMs: null };
  try {
    await m.strategy.prepare(m, items, infer);
    const encode = (list) => {
      const ta = nowMs();
      for (const it of list) it.enc = it.enc || m.strategy.encode(m, it);
      stats.tokenizeMs += nowMs() - ta;
    };
    const { first, rest } = splitFirstBatch(items, m, encode);
    await runBatches(run, m, { first, rest, encode, stats, t0, emit });
    post({
      type: "done",
      id,
      pairs: stats.scored,
      ms: round1(nowMs() - t0),
      firstResultMs: stats.firstResultMs === null ? null : round1(stats.firstResultMs),
      cancelled: run.cancelled,
      batches: stats.batches,
      tokenizeMs: round1(stats.tokenizeMs),
      inferMs: round1(stats.inferMs),
      model: m.entry.id,
      backend: m.backend,
      threads: m.threads,
    });
  } catch (err) {
    post({ type: "error", id, ...describeScoreError(err), phase: "score", scored: stats.scored });
  }
}

/** The batch loop: stops between batches when the run is cancelled; halves a batch that ran out of memory. */
async function runBatches(run, m, { first, rest, encode, stats, t0, emit }) {
  const queue = first.length ? [first] : [];
  let restPrepared = rest.length === 0;
  let maxTokens = m.batchTokens;
  while (queue.length || !restPrepared) {
    if (run.cancelled) break;
    if (!queue.length) {
      encode(rest);
      queue.push(...lengthBuckets(rest, m.maxBatch, maxTokens));
      restPrepared = true;
      continue;
    }
    const batch = queue.shift();
    encode(batch);
    let scores;
    const tb = nowMs();
    try {
      scores = m.strategy.scores(await infer(m, batch), batch);
    } catch (err) {
      if (isOutOfMemory(err) && batch.length > 1) {
        const half = Math.ceil(batch.length / 2);
        queue.unshift(batch.slice(0, half), batch.slice(half));
        maxTokens = Math.max(256, Math.floor(maxTokens / 2));
        continue;
      }
      throw err;
    }
    stats.inferMs += nowMs() - tb;
    stats.batches += 1;
    if (run.cancelled) break; // a cancel that arrived during the batch: send nothing more
    emit(batch, scores);
    stats.scored += batch.length;
    if (stats.firstResultMs === null) stats.firstResultMs = nowMs() - t0;
    await yieldToEvents(); // lets a `cancel` or a new `score` in before the next batch
  }
}

function postResults(run, m, batch, scores, post) {
  for (let k = 0; k < batch.length; k++) {
    const it = batch[k];
    const r = { type: "result", id: run.id, key: it.key, index: it.i, logit: scores[k], tokens: it.enc.ids.length, model: m.entry.id };
    if (run.msg.returnIds) {
      r.ids = it.enc.ids;
      r.typeIds = it.enc.typeIds;
    }
    post(r);
  }
}
