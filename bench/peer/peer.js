// Peer-style scoring for bench/bench_peers.py: load tokenizer and model on the main thread, then on each click
// tokenize every (query, passage) pair in one padded, truncated batch, run the model once, apply a sigmoid and
// show the sorted list only when everything is scored. ?threads=N sets ONNX Runtime's thread count.
import { RUNTIME } from "../app/runtime.js";

const MODEL = "minilm-l6-debian-ce";
const $ = (id) => document.getElementById(id);
const el = document.documentElement;

const T = await import(new URL(RUNTIME.transformers, new URL("../app/", import.meta.url)).href);
const { env, AutoTokenizer, AutoModelForSequenceClassification } = T;
const ortBase = new URL(RUNTIME.ortWasmPaths, new URL("../app/", import.meta.url)).href;
env.allowRemoteModels = false;
env.allowLocalModels = true;
env.localModelPath = new URL(RUNTIME.bundledModelsPath, new URL("../app/", import.meta.url)).pathname;
env.useWasmCache = false; // ORT loads its .mjs from this origin (the CSP allows no blob: scripts)
const wasm = env.backends.onnx.wasm;
wasm.proxy = false;
wasm.numThreads = Number(new URLSearchParams(location.search).get("threads")) || 1;
// The same CPU-only ONNX Runtime build the app's worker loads.
wasm.wasmPaths = { mjs: `${ortBase}ort-wasm-simd-threaded.mjs`, wasm: `${ortBase}ort-wasm-simd-threaded.wasm` };

const t0 = performance.now();
let tokenizer, model;
try {
  [tokenizer, model] = await Promise.all([
    AutoTokenizer.from_pretrained(MODEL),
    AutoModelForSequenceClassification.from_pretrained(MODEL, { dtype: "q8", device: "wasm" }),
  ]);
} catch (err) {
  $("status").textContent = `load failed: ${err && err.message ? err.message : err}`;
  el.dataset.peer = "error";
  throw err;
}
el.dataset.peerLoadMs = String(Math.round(performance.now() - t0));
el.dataset.peerThreads = String(wasm.numThreads);
$("status").textContent = "ready";
$("score").disabled = false;
el.dataset.peer = "ready";

function render(passages, scores) {
  const order = scores.map((s, i) => [s, i]).sort((a, b) => b[0] - a[0]);
  const items = order.map(([s, i]) => {
    const li = document.createElement("li");
    li.className = "passage";
    li.dataset.index = String(i);
    li.dataset.score = s.toFixed(4);
    li.textContent = `${s.toFixed(3)} ${passages[i]}`;
    return li;
  });
  $("results").replaceChildren(...items);
}

$("score").addEventListener("click", async () => {
  const start = performance.now();
  el.dataset.peer = "scoring";
  $("results").replaceChildren();
  const query = $("query").value;
  const passages = JSON.parse($("passages").value);
  const inputs = tokenizer(new Array(passages.length).fill(query), { text_pair: passages, padding: true, truncation: true });
  const tokenized = performance.now();
  const { logits } = await model(inputs);
  const inferred = performance.now();
  const scores = Array.from(logits.data, (x) => 1 / (1 + Math.exp(-x)));
  render(passages, scores);
  const shown = performance.now();
  el.dataset.peer = "done";
  document.dispatchEvent(new CustomEvent("peer:done", {
    detail: { start, tokenizeMs: tokenized - start, inferMs: inferred - tokenized, shownMs: shown - start,
              pairs: passages.length, paddedLength: inputs.input_ids.dims[1] },
  }));
});
