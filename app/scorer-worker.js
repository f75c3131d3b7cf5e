// Scoring worker (entry module): the message handling. Tokenises (query, passage) pairs with the model's own
// tokenizer and scores them with a cross-encoder in ONNX Runtime Web, streaming one `result` per pair as soon as
// its micro-batch finishes; app/biencoder-worker.js runs the same code for the bi-encoder, which also embeds texts
// (`embed`: vectors per batch) and queries (`embed-query`) for Documents mode's stored vectors.
// Messages: docs/ARCHITECTURE.md, "Scoring worker protocol". Rooms: worker-load.js (model files, cache, session,
// backend), worker-score.js (a score run), worker-encode.js (tokens and batches), worker-kinds.js (cross- vs
// bi-encoder), worker-errors.js (sentences for failures), worker-cache.js (Cache Storage).

import { loadModel } from "./worker-load.js";
import { embedQueryRun, embedRun, scoreRun } from "./worker-score.js";

const post = (msg, transfer) => self.postMessage(msg, transfer || []);

/** The loaded model (see modelState in worker-load.js); after a failed load the previous one stays. */
let current = null;
/** Promise of the load in progress (score requests wait for it) and the id of the newest load request. */
let loading = null;
let latestLoadId = null;
/** Score requests not finished yet, in arrival order; runs[0] is the one executing. */
const runs = [];

function cancelAll() {
  for (const r of runs) r.cancelled = true;
}

/** A score supersedes earlier score runs only: embed runs end by their own cancel or a model load. */
function cancelScores() {
  for (const r of runs) if (r.msg.type === "score") r.cancelled = true;
}

/** A model switch cancels scoring with the previous model at once; loads run one after another, and a load
 *  that a newer one replaced before it started is skipped. */
function onLoad(msg) {
  cancelAll();
  latestLoadId = msg.id;
  const p = (loading || Promise.resolve())
    .catch(() => {})
    .then(() => {
      if (latestLoadId !== msg.id) {
        post({ type: "error", id: msg.id, superseded: true, phase: "load", message: "A newer model was requested before this one started loading.", detail: "superseded" });
        return;
      }
      return load(msg);
    });
  loading = p;
  p.finally(() => {
    if (loading === p) loading = null;
  });
}

async function load(msg) {
  const { model, ready, error } = await loadModel(msg, post);
  if (error) return post(error);
  const prev = current;
  current = model;
  if (prev && prev.model && prev.model !== model.model) prev.model.dispose?.().catch?.(() => {});
  post(ready);
}

/** A run (`exec`: score, embed or embed-query) after the runs before it; a score request supersedes earlier
 *  scores unless the caller asked to queue it behind; embed requests always queue. */
async function onRun(msg, exec) {
  let finish;
  const run = { id: msg.id, cancelled: false, msg };
  run.finished = new Promise((r) => (finish = r));
  if (msg.type === "score" && !msg.queue) cancelScores();
  runs.push(run);
  try {
    // Runs never interleave: wait for earlier runs to notice their cancel flag (checked between batches).
    while (runs[0] !== run) await runs[0].finished;
    run.t0 = performance.now(); // a run's `ms` and `firstResultMs` include waiting for a model still loading
    while (loading) await loading.catch(() => {}); // a failed load reports itself
    if (run.cancelled) {
      post({ type: "done", id: run.id, pairs: 0, ms: 0, firstResultMs: null, cancelled: true });
    } else if (!current) {
      post({ type: "error", id: run.id, message: "No model is loaded yet. Choose a model and wait until it is ready, then press Rerank.", detail: "score before load", phase: "score" });
    } else {
      await exec(run, current, post);
    }
  } finally {
    runs.splice(runs.indexOf(run), 1);
    finish();
  }
}

const RUNS = { score: scoreRun, embed: embedRun, "embed-query": embedQueryRun };

function onCancel(msg) {
  for (const r of runs) if (msg.id === undefined || msg.id === null || r.id === msg.id) r.cancelled = true;
}

self.onmessage = (ev) => {
  const msg = ev.data || {};
  switch (msg.type) {
    case "load":
      onLoad(msg);
      break;
    case "score":
    case "embed":
    case "embed-query":
      onRun(msg, RUNS[msg.type]).catch((err) => post({ type: "error", id: msg.id, message: `Scoring failed: ${err && err.message}`, detail: String(err), phase: "score" }));
      break;
    case "cancel":
      onCancel(msg);
      break;
    default:
      post({ type: "error", id: msg.id, message: `Unknown request "${msg.type}" sent to the scoring worker.`, detail: JSON.stringify(msg).slice(0, 200) });
  }
};
