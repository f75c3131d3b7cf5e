// Page bootstrap: creates the page's modules and connects their events. Nothing else happens here.
//
// Boundary (docs/ARCHITECTURE.md, "Page <-> Python"): the JavaScript makes no ranking decision. It reads the
// inputs, asks py/glue.py (window.rerankerGlue, through app/python.js) for every order, rank, delta, sink/cut,
// metric, export and share string, sends the pairs Python names to the scoring workers, batches arriving scores
// per animation frame back into Python, and renders what Python returns with app/view.js. The shell (inputs,
// presets, model picker, model download) works before Python has loaded; a Rerank pressed early is queued and
// runs once Python and the model are ready.
//
// Rooms: python.js (Python's start), runs.js + lane.js (runs and lanes), inputs.js + counts.js + presets.js +
// models.js + backend.js (the input panel), documents.js + documents-input.js + collection-search.js (Documents
// mode: files, dropped files and pasted text, stage 1, funnel, passages found and marked by search) + vector-index.js
// (its stored passage vectors), compare.js (comparison and vector column), share.js (share links, export),
// loading-strip.js, stats.js, theme.js; feedback.js (status line, phase, field errors) and format.js are shared.

import { Python } from "./python.js";
import { RunController } from "./runs.js";
import { Inputs } from "./inputs.js";
import { LiveCounts } from "./counts.js";
import { Presets } from "./presets.js";
import { ModelPicker } from "./models.js";
import { ComparePanel } from "./compare.js";
import { SharePanel } from "./share.js";
import { DocumentsMode } from "./documents.js";
import { DocumentsInput } from "./documents-input.js";
import { CollectionSearch } from "./collection-search.js";
import { VectorIndex } from "./vector-index.js";
import { LoadingStrip } from "./loading-strip.js";
import { StatsPanel } from "./stats.js";
import { initTheme } from "./theme.js";
import { BackendChoice } from "./backend.js";
import { announce } from "./feedback.js";

const python = new Python();
const inputs = new Inputs();
const runs = new RunController({ python, inputs });
const { a: laneA, b: laneB } = runs.lanes;
const counts = new LiveCounts({ python, inputs, model: () => laneA.entry });
const presets = new Presets(inputs);
const models = new ModelPicker();
const compare = new ComparePanel({ python, runs, models });
const share = new SharePanel({ python, inputs, presets, models, runs });
const vectors = new VectorIndex({ python, biencoder: () => compare.biencoder() });
const documents = new DocumentsMode({ python, inputs, vectors });
const documentsInput = new DocumentsInput({ python, documents });
const search = new CollectionSearch({ python, documents });
const strip = new LoadingStrip();
const stats = new StatsPanel();
const backend = new BackendChoice();
laneA.backend = laneB.backend = backend.backend;

function connectPython() {
  python.addEventListener("ready", () => {
    strip.showPythonReady(python.info, globalThis.rerankerPythonStart);
    share.restorePending();
    counts.schedule(0);
    runs.refreshReadiness();
  });
  python.addEventListener("failed", () => {
    strip.showPythonFailed();
    runs.dropQueue();
  });
}

function connectLanes() {
  for (const lane of [laneA, laneB]) {
    lane.addEventListener("model-loading", (e) => models.describe(lane.slot, e.detail.entry));
    lane.listEl.addEventListener("relevance-toggle", (e) => {
      const { index, relevance } = e.detail;
      const text = lane.texts[lane.localIndex(index)];
      if (text !== undefined) inputs.labels.set(text, relevance);
      if (lane.collection) {
        documents.relabel(index, relevance);
        search.sync();
      }
      runs.relabel(text, relevance);
      compare.draw();
    });
  }
  laneA.addEventListener("model-loading", (e) => {
    strip.showModelLoading(e.detail.entry, null);
    backend.showLoading();
  });
  laneA.addEventListener("model-progress", (e) => strip.showModelLoading(e.detail.entry, e.detail.progress));
  laneA.addEventListener("model-ready", (e) => {
    strip.showModelReady(e.detail.entry, e.detail.info);
    backend.showReady(e.detail.info);
  });
  laneA.addEventListener("model-failed", () => {
    strip.showModelFailed();
    backend.showFailed();
  });
  laneA.addEventListener("update", (e) => compare.onLaneUpdate(e.detail.view));
}

function connectRuns() {
  runs.addEventListener("readiness", (e) => {
    strip.showReadiness(e.detail);
    if (e.detail.ready) compare.onReady();
  });
  runs.addEventListener("run-start", () => {
    share.setExportEnabled(false);
    compare.onRunStart();
  });
  runs.addEventListener("run-drawn", () => compare.onRunDrawn());
  runs.addEventListener("stats", (e) => stats.show(e.detail.lane));
  runs.addEventListener("run-end", (e) => {
    const { outcome } = e.detail;
    share.setExportEnabled(true);
    if (outcome !== "stopped") compare.draw();
    if (outcome === "done") compare.scoreVectors();
    documents.onRunEnd(laneA.stats);
  });
}

function connectDocuments() {
  documents.addEventListener("mode", (e) => {
    const stopped = Boolean(runs.running);
    if (stopped) runs.stop(true);
    runs.source = e.detail.mode === "documents" ? documents : null;
    share.documents = runs.source;
    if (stopped) announce(`The run was stopped: you switched to ${e.detail.mode} mode. Your passages and documents are kept.`);
  });
  documents.addEventListener("indexed", () => {
    runs.refreshReadiness();
    search.refresh();
    vectors.reset();
    embedAhead();
  });
  documents.addEventListener("run", () => {
    search.sync();
    runs.rerank();
  });
  documents.retriever.addEventListener("change", embedAhead);
  document.addEventListener("rerank:stage1", () => search.refresh());
  // A passage marked (or unmarked) from the search: the same labels as a tick in the ranking.
  search.addEventListener("mark", (e) => {
    const { id, text, relevance } = e.detail;
    inputs.labels.set(text, relevance);
    documents.relabel(id, relevance);
    runs.relabel(text, relevance);
    compare.draw();
  });
}

/** Vectors are embedded as soon as the collection is indexed and the retriever uses them, not at the first query. */
function embedAhead() {
  if (documents.retriever.value === "bm25" || !documents.passageCount) return;
  vectors.vectors(documents.passageCount).catch(() => {}); // the panel shows the failure; the query reports it
}

function connectInputs() {
  inputs.addEventListener("submit", () => runs.rerank());
  inputs.addEventListener("edited", () => {
    if (inputs.preset) presets.mark(null);
    counts.schedule();
  });
  inputs.addEventListener("mode", () => counts.schedule(0));
  inputs.addEventListener("settings", () => {
    const threshold = inputs.readThreshold();
    const topK = inputs.readTopK();
    if (topK === null) return;
    runs.applySettings(threshold, topK);
    compare.draw();
  });
  presets.addEventListener("applied", () => counts.schedule(0));
  models.addEventListener("pick", (e) => {
    const { slot, entry } = e.detail;
    if (slot === "a") {
      if (!entry) return;
      if (runs.running) runs.stop(true);
      laneA.load(entry);
      counts.schedule(0);
      return;
    }
    models.showSecondColumn(entry, laneA.entry);
    if (entry) { laneB.load(entry); return; }
    laneB.forget();
    stats.hide("b");
  });
  // Another worker backend: like a model switch, a run in progress stops and the models load again on it.
  backend.addEventListener("change", (e) => {
    if (e.detail.backend === laneA.backend) return; // Auto <-> WASM: the same workers
    if (runs.running) runs.stop(true);
    for (const lane of [laneA, laneB]) lane.setBackend(e.detail.backend);
  });
  share.addEventListener("restored", (e) => {
    const { model } = e.detail;
    if (model) {
      models.choose(model);
      laneA.load(model);
    }
    counts.schedule(0);
    runs.rerank();
  });
}

function wireCommands() {
  document.getElementById("rerank").addEventListener("click", () => runs.rerank());
  document.getElementById("cancel").addEventListener("click", () => runs.stop(true));
  document.addEventListener("keydown", (e) => {
    if (e.key === "Escape" && runs.running) { e.preventDefault(); runs.stop(true); }
    else if (e.key === "Escape" && vectors.cancel(true)) e.preventDefault(); // stops embedding the passages
  });
}

/** Fill what the page's address asks for (?q, ?p, ?s, ?run=1, ?mode=documents); returns the ?model it asks for. */
function readUrl() {
  const params = new URLSearchParams(location.search);
  if (params.get("mode") === "documents") {
    documents.setMode("documents");
    documents.readUrl(params);
    if (params.has("threshold") || params.has("topk")) inputs.fillSettings(params.get("threshold"), params.get("topk"));
  }
  if (params.has("q")) inputs.fill({ query: params.get("q") });
  if (params.has("p")) inputs.fill({ passages: params.get("p") });
  if (params.has("s")) share.pending = params.get("s");
  if (params.get("run") === "1" && !params.has("s")) runs.queued = true;
  return params.get("model");
}

python.watch();
initTheme();
connectPython();
connectLanes();
connectRuns();
connectDocuments();
connectInputs();
wireCommands();
inputs.wire();
models.wire();
backend.wire();
share.wire();
documents.wire();
documentsInput.wire();
search.wire();
vectors.wire();
inputs.readThreshold();
const wantedModel = readUrl();
if (runs.queued) announce("Rerank will start as soon as Python and the model are ready.");
models.init(wantedModel).then((entry) => { if (entry) laneA.load(entry); });
presets.init();
counts.count();
python.connect(); // takes the glue now if Python finished first
