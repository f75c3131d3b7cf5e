// Page bootstrap: the instant shell, the loading strip, worker plumbing and rendering.
//
// Boundary (docs/ARCHITECTURE.md, "Page <-> Python"): this file makes no ranking decision. It reads the
// inputs, asks py/glue.py (window.rerankerGlue: JSON string in, JSON string out) for every order, rank,
// delta, sink/cut, metric, export and share string, sends the pairs Python names to the scoring worker,
// batches arriving scores per animation frame back into Python, and renders what Python returns with
// app/view.js. The shell (inputs, presets, model picker, model download) works before Python has loaded;
// a Rerank pressed early is queued and runs once Python and the model are ready.

import { ResultList } from "./view.js";
import { renderCompare } from "./compare-view.js";
import { Scorer, loadCatalog } from "./scorer.js";
import { RUNTIME } from "./runtime.js";
import { onIdle, nextFrame } from "./idle.js";

const $ = (id) => document.getElementById(id);
const els = {
  query: $("query"), passages: $("passages"), model: $("model"), modelB: $("model-b"), rerank: $("rerank"),
  cancel: $("cancel"), status: $("status"), results: $("results"), resultsB: $("results-b"),
  resultsColB: $("results-col-b"), resultsArea: $("results-area"), resultsModelA: $("results-model-a"),
  resultsModelB: $("results-model-b"), counts: $("counts"), presets: $("presets"), threshold: $("threshold"),
  thresholdValue: $("threshold-value"), topK: $("top-k"), progressNote: $("progress-note"), stats: $("stats"),
  statsB: $("stats-b"), compare: $("compare"), share: $("share"), shareUrl: $("share-url"),
  exportPreview: $("export-preview"), themeToggle: $("theme-toggle"), modelMeta: $("model-meta"),
  modelBMeta: $("model-b-meta"), loadPython: $("load-python"), loadModel: $("load-model"),
  loadModelValue: $("load-model-value"), loadReady: $("load-ready"), loadReadyLabel: $("load-ready-label"),
  pyodideVersion: $("pyodide-version"), pythonStart: $("python-start"),
};
const errorEls = {
  query: $("query-error"), passages: $("passages-error"), model: $("model-error"), modelB: $("model-b-error"),
  share: $("share-error"), top_k: $("top-k-error"), threshold: $("top-k-error"),
};
const fieldInputs = { query: els.query, passages: els.passages, model: els.model, modelB: els.modelB, top_k: els.topK };

const state = {
  glue: null,            // window.rerankerGlue once Python is up
  info: null,            // {python, pyodide, defaults}
  catalog: [],
  presetIndex: [],
  presetCache: new Map(),
  preset: null,          // the preset last loaded (Python decides whether the input still matches it)
  labels: new Map(),     // passage text -> relevance (0|1|2): preset labels and the user's ticks
  lanes: {},             // "a" | "b" -> Lane
  queued: false,         // Rerank pressed before ready
  pendingRestore: null,  // share string from the URL, decoded once Python is ready
  running: null,         // the run in progress {token, cancelled}
  runToken: 0,
  inspectTimer: 0,
  liveError: false,      // the passages message came from live counting (cleared by it), not from Rerank
  announcedTop: null,
};

// ---------------------------------------------------------------------------------------------- Python

/** Call a glue method with JSON-able arguments; returns the parsed result ({error} on bad input). */
function py(name, ...args) {
  const out = state.glue[name](...args.map((a) => JSON.stringify(a)));
  return JSON.parse(out);
}

function onGlueReady() {
  if (state.glue || !window.rerankerGlue) return;
  state.glue = window.rerankerGlue;
  state.info = JSON.parse(state.glue.info);
  els.loadPython.dataset.state = "done";
  els.pyodideVersion.textContent = state.info.pyodide || "?";
  showPythonStart(globalThis.rerankerPythonStart);
  if (state.pendingRestore !== null) restoreShared(state.pendingRestore);
  scheduleInspect(0);
  updateReadiness();
}
document.addEventListener("reranker:glue-ready", onGlueReady);

/** " · 2.3 s": when Python was ready, counted from navigation; the title says how it started (app/pyodide-boot.js). */
function showPythonStart(start) {
  els.pythonStart.textContent = ` · ${(performance.now() / 1000).toFixed(1)} s`;
  els.pythonStart.title = start?.source === "snapshot"
    ? "Python was restored from a snapshot of a booted interpreter, made with this page"
    : `Python booted${start?.reason ? ` (the start-up snapshot was not used: ${start.reason})` : ""}`;
  els.loadPython.dataset.start = start?.source ?? "boot";
}

/** URLs of the files Python needs to start (vendored Pyodide/PyScript, the py/ package). */
const PYTHON_RUNTIME_URL = /\/(vendor\/pyodide|vendor\/pyscript|py)\/|pyodide|pyscript/;
/** Python's start-up snapshot is optional: without it app/pyodide-boot.js boots Python instead. */
const PYTHON_SNAPSHOT_URL = new URL(RUNTIME.pythonSnapshot.url, import.meta.url).href;
const pythonNeeds = (url) => PYTHON_RUNTIME_URL.test(String(url)) && String(url).split("?")[0] !== PYTHON_SNAPSHOT_URL;

/** The last two path segments of a URL ("full/pyodide.asm.mjs"): enough to name the file in a message. */
function runtimeFile(url) {
  return String(url).split("?")[0].split("/").slice(-2).join("/");
}

/** Pyodide does not report a failed download; watch the resources Python needs and say which one failed. */
function watchPythonResources() {
  if (typeof PerformanceObserver !== "function") return;
  const observer = new PerformanceObserver((list) => {
    if (state.glue) { observer.disconnect(); return; }
    for (const entry of list.getEntries()) {
      const status = entry.responseStatus || 0;
      if (status < 400 || !pythonNeeds(entry.name)) continue;
      pythonFailed(`${runtimeFile(entry.name)} could not be downloaded (HTTP ${status})`);
      observer.disconnect();
      return;
    }
  });
  try { observer.observe({ type: "resource", buffered: true }); } catch { /* old browser */ }
}

/** Same idea for fetches: PyScript and Pyodide download through fetch(), and a failed one ends Python's start. */
function watchPythonFetches() {
  const realFetch = window.fetch;
  window.fetch = async function fetchWatched(input, init) {
    const url = typeof input === "string" || input instanceof URL ? String(input) : input?.url || "";
    try {
      const response = await realFetch.call(this, input, init);
      if (!response.ok && !state.glue && pythonNeeds(response.url || url)) {
        pythonFailed(`${runtimeFile(response.url || url)} could not be downloaded (HTTP ${response.status})`);
      }
      return response;
    } catch (err) {
      if (!state.glue && pythonNeeds(url)) pythonFailed(`${runtimeFile(url)} could not be downloaded (${err.message || err})`);
      throw err;
    }
  };
}

/** A runtime module the browser refuses (integrity mismatch, blocked, offline) rejects an import() nobody
 * catches: before Python is up, an uncaught error naming a Python runtime file means it will not start. */
function watchPythonImports() {
  const runtime = /pyodide|pyscript|dynamically imported module/i;
  const failed = (error) => {
    const message = String(error?.message || error || "");
    if (state.glue || !runtime.test(message)) return;
    const file = runtimeFile((message.match(/https?:\/\/\S+/) || [""])[0]);
    pythonFailed(file ? `the browser refused ${file}` : message);
  };
  window.addEventListener("unhandledrejection", (event) => failed(event.reason));
  window.addEventListener("error", (event) => failed(event.error || event.message));
}

function pythonFailed(reason) {
  if (state.glue) return;
  state.pythonFailed = true;
  els.loadPython.dataset.state = "error";
  $("python-version").textContent = "failed";
  els.loadReady.dataset.state = "error";
  els.loadReadyLabel.textContent = "Python did not load";
  state.queued = false;
  setPhase("error");
  announce(`Python could not start: ${reason}. Ranking needs it; reload the page to try again (copy your text first).`);
}

// ---------------------------------------------------------------------------------------------- lanes

/** One model + worker + result list: "a" is the main model, "b" the optional compared one. */
class Lane {
  constructor(slot, select, list, metaEl, errorKey, statsEl) {
    this.slot = slot;
    this.select = select;
    this.list = list;
    this.view = new ResultList(list);
    this.metaEl = metaEl;
    this.errorKey = errorKey;
    this.statsEl = statsEl;
    this.scorer = null;
    this.entry = null;
    this.ready = false;
    this.loading = null;
    this.info = null;
    this.rows = new Map();   // original index -> row for the view (Python's row + text)
    this.texts = [];
    this.order = [];
    this.cutAfter = null;
    this.session = null;
    this.done = false;
    this.buffer = [];
    this.frame = 0;
    this.firstView = null; // a run's first (full) view, drawn in the frame after Rerank
    this.compareAt = 0;
    this.stats = null;
  }

  /** Load (or switch to) a catalog entry in this lane's worker. */
  async load(entry) {
    this.entry = entry;
    this.ready = false;
    this.info = null;
    this.scorer ??= new Scorer();
    setError(this.errorKey, "");
    describeModel(entry, this.metaEl);
    if (this.slot === "a") showModelLoading(entry, null);
    const attempt = (this.loading = {});
    updateReadiness();
    let settle;
    this.loadPromise = new Promise((resolve) => { settle = resolve; });
    try {
      const info = await this.scorer.load(entry, {
        backend: "wasm",
        onProgress: (p) => { if (this.slot === "a" && this.loading === attempt) showModelLoading(entry, p); },
      });
      if (this.loading !== attempt || info?.superseded) return;
      this.info = info;
      this.ready = true;
      if (this.slot === "a") showModelReady(entry, info);
    } catch (err) {
      if (this.loading !== attempt) return;
      setError(this.errorKey, err.message || String(err));
      if (this.slot === "a") {
        els.loadModel.dataset.state = "error";
        els.loadModelValue.textContent = "failed";
        setPhase("error");
      }
      if (state.queued) {
        state.queued = false;
        announce("The run could not start: the model did not load.");
      }
    } finally {
      if (this.loading === attempt) this.loading = null;
      settle();
      updateReadiness();
    }
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
    this.cutAfter = view.cutAfter;
    this.done = view.done;
    this.view.render(this.order.map((i) => this.rows.get(i)), { cutAfter: view.cutAfter });
    const detail = { ...view.detail };
    if (this.slot === "a") document.dispatchEvent(new CustomEvent("rerank:update", { detail }));
    else document.dispatchEvent(new CustomEvent("rerank:update-b", { detail }));
    return view;
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

  flush() {
    if (this.frame) { cancelAnimationFrame(this.frame); this.frame = 0; }
    this.showFirstView();
    if (!this.buffer.length) return null;
    const batch = this.buffer;
    this.buffer = [];
    const t0 = performance.now();
    const view = py("add", this.slot, batch);
    const t1 = performance.now();
    if (view.error) { setError(this.errorKey, view.error.message); return null; }
    this.apply(view);
    const t2 = performance.now();
    if (this.stats) {
      const s = this.stats;
      s.updates += 1;
      s.pyMs += t1 - t0;
      s.renderMs += t2 - t1;
      s.maxUpdateMs = Math.max(s.maxUpdateMs, t2 - t0);
    }
    if (this.stats && this.stats.renderedFirst === null) this.stats.renderedFirst = performance.now();
    progress(this, view);
    if (this.slot === "a" && !view.done && performance.now() - this.compareAt > COMPARE_EVERY_MS) {
      this.compareAt = performance.now();
      scheduleCompare();
    }
    return view;
  }

  reset() {
    this.view.clear();
    this.rows.clear();
    this.buffer = [];
    this.firstView = null;
    this.session = null;
    this.done = false;
  }
}

state.lanes.a = new Lane("a", els.model, els.results, els.modelMeta, "model", els.stats);
state.lanes.b = new Lane("b", els.modelB, els.resultsB, els.modelBMeta, "modelB", els.statsB);

// ---------------------------------------------------------------------------------------------- phase & status

function setPhase(phase) {
  document.documentElement.dataset.phase = phase;
}

function isReady() {
  return Boolean(state.glue && state.lanes.a.ready);
}

function updateReadiness() {
  if (state.pythonFailed) return;
  const lane = state.lanes.a;
  const ready = isReady();
  const phase = document.documentElement.dataset.phase;
  if (ready && !bi.entry) onIdle(() => initBiencoder(), 2000);
  if (ready && phase === "loading") {
    setPhase("ready");
    if (!state.queued && !state.pendingRestore) announce(`Ready: Python ${state.info.python} and ${shortLabel(lane.entry)} are loaded.`);
  }
  if (ready && phase === "error" && !lane.loading && !errorEls.model.textContent) setPhase("ready");
  if (!ready && lane.loading && !state.running && phase !== "loading") setPhase("loading");
  els.loadReady.dataset.state = ready ? "done" : lane.loading ? "loading" : state.glue && !lane.ready ? "error" : "loading";
  els.loadReadyLabel.textContent = ready ? "Ready"
    : !state.glue && lane.loading ? "Loading Python and the model…"
      : !state.glue ? "Loading Python…" : lane.loading ? "Loading the model…" : "Choose a model that loads";
  if (ready && state.queued && !state.running) {
    state.queued = false;
    rerank();
  }
}

/** The aria-live status line: used sparingly (start, final result, errors), never per re-sort. */
function announce(text) {
  els.status.textContent = text;
}

function setError(key, message) {
  const el = errorEls[key];
  if (!el) return;
  el.textContent = message || "";
  const input = fieldInputs[key];
  if (input) {
    if (message) input.setAttribute("aria-invalid", "true");
    else input.removeAttribute("aria-invalid");
  }
}

// Mirrors reranker.limits.MAX_TOTAL_CHARS: checked before the text reaches the textarea, because inserting
// megabytes into a textarea blocks the main thread for minutes, long before Python could refuse it.
const MAX_TOTAL_CHARS = 2_000_000;

/** Refuse a paste/drop that would push the passages past the total limit; what was typed stays as it was. */
function guardOversizedInsert(event, transfer, verb) {
  const text = transfer?.getData("text/plain") ?? transfer?.getData("text") ?? "";
  const field = els.passages;
  const after = field.value.length - (field.selectionEnd - field.selectionStart) + text.length;
  if (after <= MAX_TOTAL_CHARS) return;
  event.preventDefault();
  state.liveError = false;  // this message is not the live count's: a count finishing later must not clear it
  const fmt = (n) => n.toLocaleString("en-US");
  setError("passages", `The ${verb} text is ${fmt(text.length)} characters; the limit is ${fmt(MAX_TOTAL_CHARS)} ` +
    `in total. Nothing was ${verb}; your passages are unchanged. Paste fewer or shorter passages.`);
}

function clearInputErrors() {
  for (const key of ["query", "passages", "top_k", "share"]) setError(key, "");
}

function showError(error) {
  if (error.field === "passages") state.liveError = false;
  const field = error.field in errorEls ? error.field : "passages";
  setError(field, error.message);
  return field;
}

// ---------------------------------------------------------------------------------------------- loading strip

function formatBytes(n) {
  if (!Number.isFinite(n) || n <= 0) return "0 MB";
  return n >= 1e6 ? `${(n / 1e6).toFixed(1)} MB` : `${Math.max(1, Math.round(n / 1e3))} kB`;
}

function showModelLoading(entry, p) {
  const bar = els.loadModel.querySelector("progress");
  els.loadModel.dataset.state = "loading";
  if (!p) {
    bar.removeAttribute("value");
    els.loadModelValue.textContent = entry.source === "bundled" ? "loading bundled model…" : "starting download…";
    return;
  }
  const total = p.overallTotal || entry.size_bytes || 0;
  const loaded = p.overallLoaded || 0;
  if (total > 0) {
    const pct = Math.min(100, Math.round((loaded / total) * 100));
    bar.value = pct;
    els.loadModelValue.textContent = `${formatBytes(loaded)} of ${formatBytes(total)} (${pct}%)${p.fromCache ? " from cache" : ""}`;
  } else {
    els.loadModelValue.textContent = `${formatBytes(loaded)}${p.fromCache ? " from cache" : ""}`;
  }
}

function showModelReady(entry, info) {
  els.loadModel.dataset.state = "done";
  const where = info.fromCache ? "from cache" : entry.source === "bundled" ? "bundled" : "downloaded";
  const threads = info.backend === "webgpu" ? "WebGPU" : `WASM × ${info.threads || 1} thread${info.threads === 1 ? "" : "s"}`;
  els.loadModelValue.textContent = `${where} · ${threads} · ${(info.loadMs / 1000).toFixed(1)} s`;
  els.loadModelValue.title = entry.id;
  if (info.fallbackReason) setError("model", "");
}

function shortLabel(entry) {
  return entry ? entry.id : "";
}

function describeModel(entry, el) {
  if (!entry) { el.textContent = ""; return; }
  const badge = document.createElement("span");
  badge.className = `badge ${entry.source === "bundled" ? "badge-bundled" : "badge-hub"}`;
  badge.textContent = entry.source === "bundled" ? "bundled" : "hub";
  const size = entry.size_bytes ? formatBytes(entry.size_bytes) : (entry.size_hint || "size unknown").split(" (")[0];
  const text = entry.source === "bundled"
    ? ` ships with this page · ${size} · max ${entry.max_length} tokens`
    : ` downloads ${size} once, then cached · max ${entry.max_length} tokens`;
  el.replaceChildren(badge, document.createTextNode(text));
  el.title = entry.description || "";
}

// ---------------------------------------------------------------------------------------------- catalog & presets

function rerankers() {
  return state.catalog.filter((e) => e.kind !== "bi-encoder");
}

function fillModelSelect(select, withNone) {
  const options = rerankers().map((entry) => {
    const o = document.createElement("option");
    o.value = entry.id;
    o.textContent = entry.label || entry.id;
    return o;
  });
  if (withNone) {
    const none = document.createElement("option");
    none.value = "";
    none.textContent = "None";
    options.unshift(none);
  }
  select.replaceChildren(...options);
}

function entryById(id) {
  return rerankers().find((e) => e.id === id) || null;
}

function defaultEntry() {
  return rerankers().find((e) => e.default) || rerankers()[0] || null;
}

async function initCatalog(wantedModel) {
  try {
    state.catalog = await loadCatalog();
  } catch (err) {
    setError("model", err.message);
    setPhase("error");
    return;
  }
  fillModelSelect(els.model, false);
  fillModelSelect(els.modelB, true);
  let entry = defaultEntry();
  if (wantedModel) {
    const wanted = entryById(wantedModel);
    if (wanted) entry = wanted;
    else setError("model", `The link asks for the model “${wantedModel}”, which this page does not offer; using ${shortLabel(entry)}.`);
  }
  if (!entry) { setError("model", "The model list is empty."); return; }
  els.model.value = entry.id;
  state.lanes.a.load(entry);
}

// ---------------------------------------------------------------------------------------------- bi-encoder column

/** A catalog entry of kind "bi-encoder" adds a vector-search column. It loads once the page is ready (Python and
 *  the reranker first: on 2 cores a third runtime compiling during start-up delays `ready` by about a second). */
const bi = { entry: null, scorer: null, ready: false, loading: false, scores: null, session: null };

async function initBiencoder() {
  const entry = state.catalog.find((e) => e.kind === "bi-encoder");
  if (!entry || bi.entry) return;
  bi.entry = entry;
  bi.loading = true;
  bi.scorer = new Scorer({ workerUrl: new URL("./biencoder-worker.js", import.meta.url) });
  try {
    await bi.scorer.load(entry);
    bi.ready = true;
  } catch (err) {
    bi.error = err.message || String(err); // the column is optional: the reranker keeps working
  } finally {
    bi.loading = false;
  }
}

/** Embed the run's passages once the cross-encoder is done (it has the CPU first); feeds the compare column. */
async function scoreBiencoder(lane) {
  bi.scores = null;
  bi.session = lane.session;
  if (!lane.session) return;
  if (!bi.entry) initBiencoder();
  if (!bi.entry) return;
  const session = lane.session;
  bi.scores = new Array(lane.texts.length).fill(null);
  scheduleCompare();
  while (bi.loading) await new Promise((resolve) => setTimeout(resolve, 200));
  if (!bi.ready || bi.session !== session) { if (bi.session === session) bi.scores = null; drawCompare(); return; }
  const pairs = lane.texts.map((text, i) => ({ key: String(i), query: lane.query, text }));
  let last = 0;
  try {
    await bi.scorer.score(pairs, {
      onResult: (r) => {
        if (bi.session !== session) return;
        bi.scores[Number(r.key)] = r.logit;
        const now = performance.now();
        if (now - last > 400) { last = now; scheduleCompare(); }
      },
    });
  } catch (err) {
    bi.error = err.message || String(err);
    if (bi.session === session) bi.scores = null;
  }
  if (bi.session === session) drawCompare();
}

async function initPresets() {
  try {
    const resp = await fetch(new URL("../static/presets/index.json", import.meta.url));
    if (!resp.ok) throw new Error(`HTTP ${resp.status}`);
    state.presetIndex = await resp.json();
  } catch (err) {
    els.presets.replaceChildren(Object.assign(document.createElement("li"), { className: "muted", textContent: "Examples could not be loaded." }));
    return;
  }
  const items = state.presetIndex.map((p) => {
    const li = document.createElement("li");
    const b = document.createElement("button");
    b.type = "button";
    b.className = "preset-chip";
    b.dataset.preset = p.id;
    b.setAttribute("aria-pressed", "false");
    b.textContent = p.title;
    b.title = p.description || "";
    b.addEventListener("click", () => applyPreset(p.id));
    b.addEventListener("pointerenter", () => fetchPreset(p.id).catch(() => {}), { once: true });
    li.append(b);
    return li;
  });
  els.presets.replaceChildren(...items);
}

async function fetchPreset(id) {
  if (state.presetCache.has(id)) return state.presetCache.get(id);
  const meta = state.presetIndex.find((p) => p.id === id);
  if (!meta) throw new Error(`There is no example called “${id}”.`);
  const promise = fetch(new URL(`../static/presets/${meta.file}`, import.meta.url)).then((r) => {
    if (!r.ok) throw new Error(`The example “${meta.title}” could not be loaded (HTTP ${r.status}).`);
    return r.json();
  });
  state.presetCache.set(id, promise);
  promise.catch(() => state.presetCache.delete(id));
  return promise;
}

/** Fill the inputs from a preset (plain copying: texts one per line, or JSON when a text spans lines). */
async function applyPreset(id) {
  let preset;
  try {
    preset = await fetchPreset(id);
  } catch (err) {
    setError("passages", err.message);
    return null;
  }
  const texts = preset.passages.map((p) => p.text);
  const multiline = texts.some((t) => /\n/.test(t));
  els.query.value = preset.query;
  els.passages.value = multiline ? JSON.stringify(texts, null, 1) : texts.join("\n");
  setMode(multiline ? "json" : "lines");
  state.labels = new Map(preset.passages.filter((p) => p.relevance !== undefined && p.relevance !== null).map((p) => [p.text, p.relevance]));
  state.preset = preset;
  markPreset(id);
  clearInputErrors();
  scheduleInspect(0);
  return preset;
}

function markPreset(id) {
  for (const b of els.presets.querySelectorAll(".preset-chip")) b.setAttribute("aria-pressed", String(b.dataset.preset === id));
}

function getMode() {
  return document.querySelector('input[name="mode"]:checked')?.value || "auto";
}

function setMode(mode) {
  const radio = document.querySelector(`input[name="mode"][value="${mode}"]`);
  if (radio) radio.checked = true;
}

// ---------------------------------------------------------------------------------------------- live counts

/** Python work per live-count slice: well under a 50 ms long task, and Python runs ~10x slower here than natively. */
const INSPECT_SLICE_MS = 30;

function scheduleInspect(delay = 150) {
  clearTimeout(state.inspectTimer);
  // Counting parses and windows every passage in Python (hundreds of ms at 2,000 passages): after the typing pause,
  // run it in slices when the main thread is idle, so it never lands in the middle of a frame or a re-sort.
  state.inspectTimer = setTimeout(() => onIdle(() => inspectInput(), 500), delay);
}

function inspectInput() {
  if (!state.glue) {
    els.counts.textContent = "Counting passages once Python is ready…";
    return;
  }
  const entry = state.lanes.a.entry;
  const res = py("inspect", { query: els.query.value, passages: els.passages.value, mode: getMode(), model: entry || {},
    budgetMs: INSPECT_SLICE_MS });
  if (res.pending) {
    // Python prepared part of the passages (windows, BM25 terms) in this slice: go on in the next idle period.
    els.counts.textContent = `${res.count.toLocaleString()} passage${res.count === 1 ? "" : "s"} · counting windows…`;
    state.inspectTimer = setTimeout(() => onIdle(() => inspectInput(), 500), 0);
    return;
  }
  if (res.error) {
    els.counts.textContent = "0 passages";
    if (res.error.code !== "no_passages") {
      setError("passages", res.error.message);
      state.liveError = true;
    }
    return;
  }
  if (state.liveError) {
    setError("passages", "");
    state.liveError = false;
  }
  const parts = [`${res.count.toLocaleString()} passage${res.count === 1 ? "" : "s"}`];
  parts.push(`${res.windowed.toLocaleString()} windowed`);
  if (res.labelled) parts.push(`${res.labelled} labelled`);
  if (getMode() === "auto" && res.mode) parts.push(`read as ${res.mode}`);
  let text = parts.join(" · ");
  if (res.notices.length) text += ` — ${res.notices.map((n) => n.message).join(" ")}`;
  els.counts.textContent = text;
}

// ---------------------------------------------------------------------------------------------- settings

function readTopK() {
  const value = Number(els.topK.value);
  if (!Number.isInteger(value) || value < 1) {
    setError("top_k", "Enter a whole number of passages to send, 1 or more.");
    return null;
  }
  setError("top_k", "");
  return value;
}

function readThreshold() {
  const value = Number(els.threshold.value);
  els.thresholdValue.textContent = value.toFixed(2);
  return value;
}

function onSettingsChange() {
  const threshold = readThreshold();
  const topK = readTopK();
  if (topK === null) return;
  for (const lane of activeLanes()) {
    if (!lane.session || !state.glue) continue;
    lane.flush();
    const view = py("settings", lane.slot, threshold, topK);
    if (view.error) { showError(view.error); continue; }
    lane.apply(view);
  }
  drawCompare();
}

function activeLanes() {
  return [state.lanes.a, state.lanes.b].filter((l) => l.session);
}

// ---------------------------------------------------------------------------------------------- runs

function runPayload(lane) {
  return {
    slot: lane.slot, query: els.query.value, passages: els.passages.value, mode: getMode(),
    model: lane.entry, threshold: readThreshold(), topK: readTopK(), labels: [...state.labels],
  };
}

/** Finish what the live count had not prepared yet (windows, BM25 terms of a list pasted and ranked at once) in
 *  slices, so Python's `start` and the first BM25 column stay short; false when a newer Rerank took over. */
async function prepareInput(token) {
  const payload = { query: els.query.value, passages: els.passages.value, mode: getMode(),
    model: state.lanes.a.entry || {}, budgetMs: INSPECT_SLICE_MS };
  for (let res = py("inspect", payload); res.pending; res = py("inspect", payload)) {
    els.progressNote.textContent = `Preparing ${res.count.toLocaleString()} passages…`;
    await nextFrame();
    if (token !== state.runToken) return false;
  }
  return true;
}

/** Rerank: validate in Python, then score lane A (and lane B when a second model is chosen). */
async function rerank() {
  const pressedAt = performance.now();
  clearInputErrors();
  if (state.pythonFailed) {
    announce("Python could not start, so nothing can be ranked. Reload the page to try again (copy your text first).");
    return;
  }
  if (!isReady()) {
    const lane = state.lanes.a;
    if (!lane.ready && !lane.loading && lane.entry) lane.load(lane.entry); // the model failed: retry it
    state.queued = true;
    const waiting = !state.glue ? "Python" : "the model";
    announce(`Rerank will start as soon as ${waiting} is ready.`);
    els.progressNote.textContent = `Queued: waiting for ${waiting}.`;
    return;
  }
  if (readTopK() === null) { els.topK.focus(); return; }
  const token = ++state.runToken;
  if (!(await prepareInput(token))) return;
  if (state.running) stopRun(false);
  const run = { token, cancelled: false };
  state.running = run;

  const lanes = [state.lanes.a];
  const b = state.lanes.b;
  if (els.modelB.value && b.entry) lanes.push(b);
  else b.reset();

  const started = [];
  for (const lane of lanes) {
    const res = py("start", runPayload(lane));
    if (res.error) {
      const field = showError(res.error);
      fieldInputs[field]?.focus();
      announce(res.error.message);
      state.running = null;
      setPhase(document.documentElement.dataset.phase === "scoring" ? "ready" : document.documentElement.dataset.phase);
      return;
    }
    started.push([lane, res]);
  }
  for (const lane of lanes) if (lane.ready) setError(lane.errorKey, "");
  for (const n of started[0][1].notices) announce(n.message);
  setPhase("scoring");
  els.cancel.disabled = false;
  setExportEnabled(false);
  for (const [lane, res] of started) {
    lane.reset();
    lane.session = res.session;
    lane.texts = res.texts;
    lane.query = res.query;
  }
  bi.session = null;
  bi.scores = null;
  // The first lane's pairs go to the worker before anything is drawn: it scores while the page draws the pending
  // rows in the next frame (Python's start and that drawing are two tasks, not one long one).
  for (const [lane, res] of started) lane.firstView = res.view;
  const [firstLane, firstRes] = started[0];
  const early = firstLane.ready ? scoreLane(firstLane, firstRes, run, pressedAt) : null;
  await nextFrame();
  if (state.running !== run) return;
  for (const [lane] of started) lane.showFirstView();
  state.lanes.a.compareAt = performance.now();
  scheduleCompare(); // BM25 and the other columns: computed when idle, not in the run's first frame
  const total = started[0][1].texts.length;
  announce(`Scoring ${total} passages with ${shortLabel(state.lanes.a.entry)}…`);

  for (const [lane, res] of started) {
    if (lane === firstLane && early) { await early; continue; }
    if (run.cancelled || state.running !== run) break;
    if (!lane.ready && lane.loading) await lane.loadPromise;
    if (state.running !== run) break;
    if (!lane.ready) {
      setError(lane.errorKey, errorEls[lane.errorKey].textContent || "This model is not loaded; choose it again to retry.");
      continue;
    }
    await scoreLane(lane, res, run, lane.slot === "a" ? pressedAt : performance.now());
  }
  if (state.running !== run) return;
  state.running = null;
  els.cancel.disabled = true;
  setExportEnabled(true);
  drawCompare();
  if (run.cancelled) return;
  if (run.failed) { setPhase("error"); return; }
  setPhase("done");
  announceResult();
  scoreBiencoder(state.lanes.a);
}

async function scoreLane(lane, res, run, t0) {
  lane.stats = { t0, firstResult: null, renderedFirst: null, lastResult: null, results: 0, cached: res.cached,
    pairs: res.pairs.length, end: null, passages: res.texts.length, model: lane.entry, info: lane.info,
    updates: 0, pyMs: 0, renderMs: 0, maxUpdateMs: 0 };
  renderStats(lane);
  if (res.pairs.length) {
    let done;
    try {
      done = await lane.scorer.score(res.pairs, {
        onResult: (r) => {
          if (state.running !== run) return;
          const now = performance.now();
          if (lane.stats.firstResult === null) lane.stats.firstResult = now;
          lane.stats.lastResult = now;
          lane.stats.results += 1;
          lane.buffer.push({ key: r.key, logit: r.logit, tokens: r.tokens });
          lane.schedule();
        },
      });
    } catch (err) {
      if (state.running !== run) return;
      lane.flush();
      run.failed = true;
      setError(lane.errorKey, err.message || String(err));
      announce(err.message || String(err));
      return;
    }
    if (state.running !== run) return;
    lane.flush();
    lane.stats.workerMs = done?.ms ?? null;
    if (done?.cancelled) run.cancelled = run.cancelled || !lane.done;
  } else {
    lane.apply(py("view", lane.slot));
  }
  lane.stats.end = performance.now();
  renderStats(lane);
}

function stopRun(userAsked) {
  const run = state.running;
  if (!run) return;
  run.cancelled = true;
  state.running = null;
  for (const lane of [state.lanes.a, state.lanes.b]) {
    if (!lane.session || lane.done) continue;
    lane.scorer?.cancel();
    lane.flush();
    const view = py("cancel", lane.slot);
    if (!view.error && view.session) lane.apply(view);
    if (lane.stats) { lane.stats.end = performance.now(); lane.stats.cancelled = true; renderStats(lane); }
  }
  els.cancel.disabled = true;
  setExportEnabled(true);
  if (userAsked) {
    const view = state.lanes.a;
    const scored = [...view.rows.values()].filter((r) => r.state === "scored").length;
    announce(`Cancelled: ${scored} of ${view.texts.length} passages were scored; everything you typed is kept.`);
    els.progressNote.textContent = "Cancelled.";
    setPhase("ready");
  }
}

function progress(lane, view) {
  if (lane.slot !== "a") return;
  const s = lane.stats;
  if (s && !view.done && performance.now() - (s.announcedAt ?? s.t0) > 5000) {
    s.announcedAt = performance.now(); // long runs: a progress line every 5 s at most, never per re-sort
    announce(`Scoring… ${view.scored} of ${view.total} passages scored.`);
  }
  els.progressNote.textContent = view.done
    ? `All ${view.total} scored · ${view.sunk} below the threshold.`
    : `${view.scored} of ${view.total} scored…`;
}

function announceResult() {
  const lane = state.lanes.a;
  const first = lane.rows.get(lane.order[0]);
  if (!first) return;
  const text = lane.texts[first.index];
  const short = text.length > 120 ? `${text.slice(0, 117)}…` : text;
  const s = lane.stats;
  const secs = s && s.end ? ` in ${((s.end - s.t0) / 1000).toFixed(2)} s` : "";
  announce(`Done: ${lane.texts.length} passages ranked${secs}. Top result (score ${first.score.toFixed(2)}, was #${first.index + 1}): ${short}`);
}

// ---------------------------------------------------------------------------------------------- stats

function stat(label, value, key) {
  const wrap = document.createElement("div");
  wrap.className = "stat";
  const dt = document.createElement("dt");
  dt.className = "stat-label";
  dt.textContent = label;
  const dd = document.createElement("dd");
  dd.className = "stat-value";
  dd.dataset.stat = key;
  dd.textContent = value;
  wrap.append(dt, dd);
  return wrap;
}

function renderStats(lane) {
  const s = lane.stats;
  if (!s) return;
  const info = s.info || lane.info || {};
  const ms = (a, b) => (a !== null && b !== null && a !== undefined && b !== undefined ? `${Math.round(b - a)} ms` : "–");
  const backend = info.backend === "webgpu" ? "WebGPU" : info.backend ? `WASM × ${info.threads || 1}` : "–";
  const elapsed = s.lastResult !== null && s.results ? (s.lastResult - s.t0) / 1000 : null;
  const rate = elapsed ? `${(s.results / elapsed).toFixed(1)}` : "–";
  lane.statsEl.hidden = false;
  lane.statsEl.replaceChildren(
    stat("Model", shortLabel(s.model), "model"),
    stat("Backend", backend + (info.fallbackReason ? " (fallback)" : ""), "backend"),
    stat("Passages", String(s.passages), "passages"),
    stat("New inferences", String(s.results), "inferences"),
    stat("From cache", String(s.cached), "cached"),
    stat("First score", ms(s.t0, s.firstResult), "first"),
    stat("Total", s.end ? ms(s.t0, s.end) : "…", "total"),
    stat("Pairs / s", rate, "rate"),
    stat("Re-sorts", String(s.updates), "updates"),
    stat("Main thread / re-sort", s.updates ? `${((s.pyMs + s.renderMs) / s.updates).toFixed(1)} ms (max ${Math.round(s.maxUpdateMs)})` : "–", "update-ms"),
  );
  lane.statsEl.dataset.pyMs = s.pyMs.toFixed(1);
  lane.statsEl.dataset.renderMs = s.renderMs.toFixed(1);
  lane.statsEl.dataset.state = s.end ? (s.cancelled ? "cancelled" : "done") : "running";
  lane.statsEl.setAttribute("aria-label", `Statistics for ${shortLabel(s.model)}`);
}

// ---------------------------------------------------------------------------------------------- compare columns

// While scoring, the comparison (below the fold) is redrawn at most this often, in idle time.
const COMPARE_EVERY_MS = 2000;
let compareQueued = false;


/** Redraw the comparison when the main thread is idle (coalesced). */
function scheduleCompare() {
  if (compareQueued) return;
  compareQueued = true;
  onIdle(() => { compareQueued = false; drawCompare(); }, 1000);
}

function drawCompare() {
  const lane = state.lanes.a;
  if (!lane.session || !state.glue) return;
  const vectors = bi.scores && bi.session === lane.session ? bi.scores : null;
  const res = py("compare", "a", null, vectors);
  if (res.error) return;
  const columns = res.columns;
  const b = state.lanes.b;
  if (b.session) {
    const other = py("compare", "b", null);
    const col = other.columns?.find((c) => c.id === "cross_encoder");
    if (col) columns.push({ ...col, id: "cross_encoder_b", label: `Cross-encoder: ${shortLabel(b.entry)}` });
  }
  const ce = columns.find((c) => c.id === "cross_encoder");
  if (ce) ce.label = `Cross-encoder: ${shortLabel(lane.entry)}`;
  renderCompare(els.compare, columns, { relevance: res.relevance, texts: lane.texts, k: res.k, limit: 10 });
}

// ---------------------------------------------------------------------------------------------- share & export

function setExportEnabled(on) {
  for (const id of ["export-json", "export-markdown", "export-csv"]) $(id).disabled = !on || !state.lanes.a.session;
}

async function copyText(text) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    return false;
  }
}

async function doExport(fmt) {
  if (!state.lanes.a.session) return;
  state.lanes.a.flush();
  const res = py("export", "a", fmt);
  if (res.error) { setError("share", res.error.message); return; }
  els.exportPreview.value = res.text;
  els.exportPreview.dataset.format = fmt;
  const copied = await copyText(res.text);
  const name = { json: "JSON", markdown: "Markdown", csv: "CSV" }[fmt];
  announce(copied ? `${name} copied to the clipboard.` : `${name} is in the “Last export” box below; copy it from there.`);
}

async function doShare() {
  setError("share", "");
  if (!state.glue) { setError("share", "Share links are made by Python, which is still loading. Try again in a moment."); return; }
  const topK = readTopK();
  if (topK === null) return;
  const res = py("share", {
    query: els.query.value, passages: els.passages.value, mode: getMode(), model: els.model.value,
    defaultModel: defaultEntry()?.id || "", threshold: readThreshold(), topK, labels: [...state.labels], preset: state.preset,
  });
  if (res.error) {
    showError(res.error);
    announce(res.error.message);
    return;
  }
  const url = new URL(location.href);
  url.search = "";
  url.hash = "";
  url.searchParams.set("s", res.code);
  els.shareUrl.value = url.href;
  const copied = await copyText(url.href);
  announce(copied ? "Share link copied to the clipboard." : "Share link ready in the box below.");
}

/** Restore a decoded share state, then run (a share link restores the ranking, not just the input). */
async function restoreShared(code) {
  state.pendingRestore = null;
  const res = py("restore", code);
  if (res.error) {
    setError("share", res.error.message);
    announce(res.error.message);
    return;
  }
  if (res.preset) {
    const preset = await applyPreset(res.preset);
    if (!preset) return;
  } else {
    els.query.value = res.query;
    els.passages.value = res.passages;
    setMode(res.mode);
    state.labels = new Map(res.labels);
    state.preset = null;
    markPreset(null);
  }
  if (res.threshold !== null && res.threshold !== undefined) els.threshold.value = String(res.threshold);
  readThreshold();
  if (res.topK) els.topK.value = String(res.topK);
  if (res.model && res.model !== els.model.value) {
    const entry = entryById(res.model);
    if (entry) {
      els.model.value = entry.id;
      state.lanes.a.load(entry);
    } else {
      setError("model", `The link was made with the model “${res.model}”, which this page does not offer; using ${shortLabel(state.lanes.a.entry || defaultEntry())}.`);
    }
  }
  scheduleInspect(0);
  rerank();
}

// ---------------------------------------------------------------------------------------------- theme

function applyTheme(theme) {
  document.documentElement.dataset.theme = theme;
  const dark = theme === "dark";
  els.themeToggle.setAttribute("aria-pressed", String(dark));
}

function initTheme() {
  let saved = null;
  try { saved = localStorage.getItem("reranker-theme"); } catch { /* storage blocked */ }
  const prefersDark = typeof matchMedia === "function" && matchMedia("(prefers-color-scheme: dark)").matches;
  applyTheme(saved === "dark" || saved === "light" ? saved : prefersDark ? "dark" : "light");
  els.themeToggle.addEventListener("click", () => {
    const next = document.documentElement.dataset.theme === "dark" ? "light" : "dark";
    applyTheme(next);
    try { localStorage.setItem("reranker-theme", next); } catch { /* storage blocked */ }
  });
}

// ---------------------------------------------------------------------------------------------- wiring

function onInputEdited() {
  if (state.preset) markPreset(null);
  scheduleInspect();
}

function wire() {
  els.rerank.addEventListener("click", () => rerank());
  els.cancel.addEventListener("click", () => stopRun(true));
  els.query.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.isComposing) { e.preventDefault(); rerank(); }
  });
  els.passages.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) { e.preventDefault(); rerank(); }
  });
  document.addEventListener("keydown", (e) => {
    if (e.key === "Escape" && state.running) { e.preventDefault(); stopRun(true); }
  });
  els.query.addEventListener("input", () => { setError("query", ""); onInputEdited(); });
  els.passages.addEventListener("input", () => { setError("passages", ""); onInputEdited(); });
  els.passages.addEventListener("paste", (event) => guardOversizedInsert(event, event.clipboardData, "pasted"));
  els.passages.addEventListener("drop", (event) => guardOversizedInsert(event, event.dataTransfer, "dropped"));
  for (const radio of document.querySelectorAll('input[name="mode"]')) radio.addEventListener("change", () => scheduleInspect(0));
  els.threshold.addEventListener("input", onSettingsChange);
  els.topK.addEventListener("input", onSettingsChange);
  els.model.addEventListener("change", () => {
    const entry = entryById(els.model.value);
    if (!entry) return;
    if (state.running) stopRun(true);
    state.lanes.a.load(entry);
    scheduleInspect(0);
  });
  els.modelB.addEventListener("change", () => {
    const entry = entryById(els.modelB.value);
    const b = state.lanes.b;
    els.resultsColB.hidden = !entry;
    els.resultsModelA.hidden = !entry;
    els.resultsArea.classList.toggle("split", Boolean(entry));
    setError("modelB", "");
    if (!entry) {
      b.entry = null;
      b.reset();
      els.statsB.hidden = true;
      els.modelBMeta.textContent = "";
      return;
    }
    els.resultsModelA.textContent = shortLabel(state.lanes.a.entry || entry);
    els.resultsModelB.textContent = shortLabel(entry);
    b.load(entry);
  });
  for (const list of [els.results, els.resultsB]) {
    list.addEventListener("relevance-toggle", (e) => {
      const { index, relevance } = e.detail;
      const lane = list === els.results ? state.lanes.a : state.lanes.b;
      const text = lane.texts[index];
      if (text !== undefined) state.labels.set(text, relevance);
      for (const l of activeLanes()) {
        const i = l.texts.indexOf(text);
        if (i < 0) continue;
        const view = py("relevance", l.slot, i, relevance);
        if (!view.error) l.apply(view);
      }
      drawCompare();
    });
  }
  els.share.addEventListener("click", doShare);
  $("export-json").addEventListener("click", () => doExport("json"));
  $("export-markdown").addEventListener("click", () => doExport("markdown"));
  $("export-csv").addEventListener("click", () => doExport("csv"));
}

function readUrl() {
  const params = new URLSearchParams(location.search);
  if (params.has("q")) els.query.value = params.get("q");
  if (params.has("p")) els.passages.value = params.get("p");
  if (params.has("s")) state.pendingRestore = params.get("s");
  if (params.get("run") === "1" && !params.has("s")) state.queued = true;
  return params.get("model");
}

watchPythonResources();
watchPythonFetches();
watchPythonImports();
initTheme();
wire();
readThreshold();
const wantedModel = readUrl();
if (state.queued) announce("Rerank will start as soon as Python and the model are ready.");
initCatalog(wantedModel);
initPresets();
inspectInput();
onGlueReady(); // in case Python finished first
