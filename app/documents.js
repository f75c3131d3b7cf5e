// Documents mode: the person's files (or the shipped demo collection) become a collection in Python, stage 1
// (BM25) picks K candidates for each query, and the run controller reranks exactly those (this module is its
// `source`: `prepare` runs stage 1, `payload` asks Python's `start` for the candidates). Files are read here as
// bytes and handed to Python, which decodes, splits, indexes and decides everything; splitting and indexing run
// in slices of ~30 ms between frames.
//
// Events: "mode" {mode} (passages | documents), "indexed" (a collection is ready to search), "run" (a labelled
// query was picked: rerank now). On the document: "rerank:stage1" {order, k, retriever, ms}.

import { announce, phase, setError, setPhase } from "./feedback.js";
import { nextFrame } from "./idle.js";
import { drawRecall, drawStage, drawStatus, formatMs } from "./documents-view.js";
import { ensurePdfReader } from "./documents-pdf.js";
import { formatBytes } from "./format.js";
import { RUNTIME } from "./runtime.js";

const $ = (id) => document.getElementById(id);
const WORK_SLICE_MS = 30;        // Python's split + index work per slice
const SLICE_FILES = 100;         // files measured, checked and read between two frames
const PACK_BYTES = 400_000;      // bytes read with one FileReader and handed to Python in one call
const DEMO_INDEX = "static/collections/index.json";

/** A file's bytes as base64 (the glue's JSON cannot carry bytes; Python decodes them). */
function readBase64(blob) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => {
      const url = String(reader.result || "");
      const comma = url.indexOf(",");
      resolve(comma < 0 ? "" : url.slice(comma + 1));
    };
    reader.onerror = () => reject(reader.error || new Error("unreadable"));
    reader.readAsDataURL(blob);
  });
}

/** Set `size` on each {name, blob}, yielding a frame every ~30 ms: the first `.size` of a picked file asks the
 * disk (a fraction of a millisecond each, seconds for thousands of files). */
async function measure(files) {
  let until = performance.now() + WORK_SLICE_MS;
  for (const file of files) {
    file.size = file.blob.size;
    if (performance.now() > until) {
      await nextFrame();
      until = performance.now() + WORK_SLICE_MS;
    }
  }
}

export class DocumentsMode extends EventTarget {
  /** `vectors`: the collection's VectorIndex (app/vector-index.js), the cosines of vector stage 1. */
  constructor({ python, inputs, vectors }) {
    super();
    this.python = python;
    this.inputs = inputs;
    this.vectors = vectors;
    this.passageCount = 0;
    this.mode = "passages";
    this.files = $("documents-files");
    this.retriever = $("retriever");
    this.candidates = $("candidates");
    this.budget = $("passage-budget");
    this.demoQuery = $("demo-query");
    this.indexing = null;    // the split + index loop in progress (a Promise)
    this.indexMs = 0;        // Python's split + index time of the current passages
    this.queries = [];       // the demo collection's labelled queries
    this.relevant = new Set(); // collection ids marked relevant
    this.picked = [];        // texts the last labelled query marked (unmarked when another is picked)
    this.stage1 = null;      // the last stage 1 {order, k, retriever, ms, scores, matched}
    this.loads = Promise.resolve(); // loads run one after another
    this.pending = 0;        // loads queued or running
    this.budgetPending = false; // a link's budget, applied before the first files are read
  }

  emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }

  wire() {
    const { MAX_FILES, MAX_FILE_BYTES } = RUNTIME.limits; // reranker.limits, enforced in Python; stated up front here
    if (MAX_FILES) $("documents-max-files").textContent = MAX_FILES.toLocaleString("en-US");
    if (MAX_FILE_BYTES) $("documents-max-bytes").textContent = formatBytes(MAX_FILE_BYTES);
    for (const radio of document.querySelectorAll('input[name="page-mode"]')) {
      radio.addEventListener("change", () => { if (radio.checked) this.setMode(radio.value); });
    }
    this.files.addEventListener("change", () => {
      const picked = [...this.files.files].map((f) => ({ name: f.name, blob: f }));
      this.files.value = "";
      if (picked.length) this.queueLoad(() => this.loadFiles(picked));
    });
    $("documents-demo").addEventListener("click", () => this.queueLoad(() => this.loadDemo()));
    this.budget.addEventListener("change", () => this.queueLoad(() => this.setBudget()));
    this.demoQuery.addEventListener("change", () => this.pickQuery());
  }

  get active() {
    return this.mode === "documents";
  }

  /** Show one mode's inputs; the other mode's inputs and everything loaded stay as they are. */
  setMode(mode) {
    const documents = mode === "documents";
    this.mode = documents ? "documents" : "passages";
    const radio = document.querySelector(`input[name="page-mode"][value="${this.mode}"]`);
    if (radio) radio.checked = true;
    $("documents-panel").hidden = !documents;
    $("funnel-panel").hidden = !documents;
    for (const node of document.querySelectorAll('[data-mode-only="passages"]')) node.hidden = documents;
    this.emit("mode", { mode: this.mode });
  }

  whenPython() {
    if (this.python.glue) return Promise.resolve();
    drawStatus("Python is still starting; your files will be read as soon as it is ready.");
    return new Promise((resolve) => this.python.addEventListener("ready", () => resolve(), { once: true }));
  }

  /** Run a load after the ones before it; `#documents-status[data-state]` is "indexing" until all are done. */
  queueLoad(job) {
    this.pending += 1;
    $("documents-status").dataset.state = "indexing";
    this.loads = this.loads.then(job).catch((err) => this.showError(`Loading failed: ${err.message || err}`))
      .finally(() => {
        this.pending -= 1;
        if (!this.pending) $("documents-status").dataset.state = this.passageCount ? "ready" : "empty";
      });
    return this.loads;
  }

  showError(message) {
    $("documents-error").textContent = message || "";
    if (message) announce(message);
  }

  /** Read files [{name, blob}] into the collection: past the file limit refused by name, then in slices. */
  async loadFiles(files) {
    await this.whenPython();
    this.showError("");
    if (this.budgetPending) {
      this.budgetPending = false;
      const status = this.python.call("docs_budget", Number(this.budget.value));
      if (status.error) this.showError(status.error.message);
    }
    await nextFrame(); // the pick itself was one task; thousands of names are a second one
    const take = this.python.call("docs_take", files.map((f) => f.name));
    const notes = [...(take.notes || [])];
    const kept = take.error ? files : files.slice(0, take.take);
    await ensurePdfReader(this.python, kept, readBase64);
    for (let i = 0; i < kept.length; i += SLICE_FILES) {
      await this.readSlice(kept.slice(i, i + SLICE_FILES), notes);
      await nextFrame();
    }
    await this.index(notes);
  }

  /** One slice of files: measured, checked by Python (too large), the rest read in packs of ~0.4 MB. */
  async readSlice(files, notes) {
    await measure(files);
    const check = this.python.call("docs_check", files.map((f) => [f.name, f.size]));
    const refused = new Set(check.refused || []);
    notes.push(...(check.notes || []));
    let pack = [];
    let bytes = 0;
    for (const file of files.filter((f) => !refused.has(f.name))) {
      if (pack.length && bytes + file.size > PACK_BYTES) { await this.readPack(pack, notes); pack = []; bytes = 0; }
      pack.push(file);
      bytes += file.size;
    }
    await this.readPack(pack, notes);
  }

  /** Read a pack of files with one FileReader and hand it to Python; one by one when any of them is unreadable. */
  async readPack(pack, notes) {
    if (!pack.length) return;
    let report;
    try {
      const data = await readBase64(new Blob(pack.map((f) => f.blob)));
      report = this.python.call("docs_add_packed", pack.map((f) => [f.name, f.size]), data);
    } catch {
      const batch = [];
      const unreadable = [];
      for (const file of pack) {
        try {
          batch.push([file.name, await readBase64(file.blob)]);
        } catch (err) {
          unreadable.push([file.name, err.message || String(err)]);
        }
      }
      if (unreadable.length) notes.push(...(this.python.call("docs_unreadable", unreadable).notes || []));
      report = this.python.call("docs_add", batch);
    }
    if (report.error) { this.showError(report.error.message); return; }
    notes.push(...report.notes);
    drawStatus(report.status.summary, notes);
  }

  /** Fetch the shipped demo collection and load it like dropped files; its labelled queries fill the picker. */
  async loadDemo() {
    const button = $("documents-demo");
    button.disabled = true;
    try {
      const [demo] = await (await fetch(DEMO_INDEX)).json();
      const base = DEMO_INDEX.replace(/index\.json$/, `${demo.folder}/`);
      const files = await Promise.all(demo.files.map(async (name) => {
        const response = await fetch(base + name);
        if (!response.ok) throw new Error(`${name}: HTTP ${response.status}`);
        return { name, blob: await response.blob() };
      }));
      await this.loadFiles(files);
      this.queries = demo.queries;
      this.demoQuery.replaceChildren(this.demoQuery.firstElementChild, ...demo.queries.map((q, i) => {
        const option = document.createElement("option");
        option.value = String(i);
        option.textContent = q.query;
        return option;
      }));
      $("demo-queries-field").hidden = false;
    } finally {
      button.disabled = false;
    }
  }

  /** A new passage budget: Python re-splits and re-indexes every document. */
  async setBudget() {
    await this.whenPython();
    const status = this.python.call("docs_budget", Number(this.budget.value));
    if (status.error) { this.showError(status.error.message); return; }
    this.showError("");
    this.stage1 = null;
    await this.index();
  }

  /** Split and index in slices until done; `<html data-phase>` says "indexing" meanwhile (when idle before). */
  index(notes) {
    if (this.indexing) return this.indexing;
    const run = this.runIndex(notes);
    this.indexing = run;
    // cleared only after the assignment above: an empty collection finishes without ever awaiting
    run.finally(() => { if (this.indexing === run) this.indexing = null; });
    return run;
  }

  /** The split + index loop behind `index()`. */
  async runIndex(notes) {
    const before = phase();
    const mark = before === "ready" || before === "done";
    if (mark) setPhase("indexing");
    this.indexMs = 0;
    let progress;
    do {
      progress = this.python.call("docs_work", WORK_SLICE_MS);
      if (progress.error) { this.showError(progress.error.message); break; }
      this.indexMs += progress.ms;
      const { documentsDone: done, documentsTotal: total, passages } = progress;
      drawStatus(progress.done ? progress.status.summary : `Splitting and indexing: ${done.toLocaleString()} of ` +
        `${total.toLocaleString()} documents, ${passages.toLocaleString()} passages…`, notes);
      if (!progress.done) await nextFrame();
    } while (!progress.done);
    if (mark && phase() === "indexing") setPhase(before);
    if (progress.done) this.passageCount = progress.passages;
    if (progress.done) {
      drawStage("passages", progress.passages, `split and indexed in ${formatMs(this.indexMs)}`);
      announce(progress.status.summary);
    }
    this.emit("indexed");
  }

  /** The run controller's first step in this mode: stage 1 for the query; false (message shown) when refused. */
  async prepare(isCurrent) {
    this.showError("");
    if (this.pending) {
      $("progress-note").textContent = "Waiting for the documents to be read and indexed…";
      await this.loads;
      if (!isCurrent() || !this.active) return false;
    }
    if (!this.python.glue) return false;
    const retriever = this.retriever.value;
    this.embedMs = 0;
    let sims = null;
    if (retriever !== "bm25" && this.passageCount) {
      sims = await this.embed(isCurrent);
      if (sims === null) return false;
    }
    if (!this.active) return false; // the person switched to Passages mode while stage 1 ran
    const res = this.python.call("docs_stage1", this.inputs.query.value, retriever, Number(this.candidates.value), sims);
    if (res.error) {
      if (res.error.field === "query") setError("query", res.error.message);
      else this.showError(res.error.message);
      announce(res.error.message);
      return false;
    }
    this.stage1 = res;
    const { order, k, ms } = res;
    const total = ms + (this.embedMs || 0);
    document.dispatchEvent(new CustomEvent("rerank:stage1", { detail: { order, k, retriever: res.retriever, ms: total } }));
    const how = { bm25: "BM25", vectors: "vectors", hybrid: "BM25 + vectors" }[res.retriever] || res.retriever;
    drawStage("candidates", order.length, `${how} over every passage in ${formatMs(total)}`);
    drawStage("sent", null, "");
    this.drawFunnel();
    return true;
  }

  /** The query's cosine with every passage, from the vector index (embedding what is missing, progress shown in
   *  the panel); null (message shown) when refused, cancelled or superseded. */
  async embed(isCurrent) {
    const started = performance.now();
    this.embedMs = 0;
    const query = this.inputs.query.value.trim();
    if (!query) return [];  // Python's stage 1 refuses the empty query with its own message
    const note = $("progress-note");
    note.textContent = "Waiting for the passages' vectors…";
    let sims;
    try {
      sims = await this.vectors.similarities(query, this.passageCount);
    } catch (err) {
      this.showError(err.message || String(err));
      return null;
    }
    if (sims === null && isCurrent()) note.textContent = "Stopped: not every passage has a vector yet.";
    if (!isCurrent() || sims === null) return null;
    this.embedMs = performance.now() - started;
    return sims;
  }

  /** What Python's `start` needs in this mode: the last stage 1's candidates are the run's passages. */
  payload() {
    return { collection: true };
  }

  /** The run's pairs for the worker, the shortest passage first: the worker scores the shortest of the first eight
   *  pairs alone to show a score fast, and here the first eight are full-size stage-1 candidates. */
  orderPairs(pairs) {
    let shortest = 0;
    pairs.forEach((p, i) => { if (p.text.length < pairs[shortest].text.length) shortest = i; });
    return shortest ? [pairs[shortest], ...pairs.slice(0, shortest), ...pairs.slice(shortest + 1)] : pairs;
  }

  /** The settings a Documents-mode share link carries. */
  shareSettings() {
    return { retriever: this.retriever.value, k: Number(this.candidates.value), budget: Number(this.budget.value) };
  }

  /** A Documents-mode link's settings (?retriever, ?k, ?budget; Python checks them when they are used). */
  readUrl(params) {
    if (params.has("retriever")) {
      const option = this.retriever.querySelector(`option[value="${CSS.escape(params.get("retriever"))}"]`);
      if (option && !option.disabled) this.retriever.value = option.value;
    }
    if (params.has("k")) this.candidates.value = params.get("k");
    if (params.has("budget")) {
      this.budget.value = params.get("budget");
      this.budgetPending = true;
    }
  }

  /** A labelled demo query: fill the query, mark its answers relevant, and ask for a run. */
  pickQuery() {
    const q = this.queries[Number(this.demoQuery.value)];
    if (!q || !this.python.glue || this.demoQuery.value === "") return;
    const res = this.python.call("docs_resolve", q.relevant);
    if (res.error) { this.showError(res.error.message); return; }
    for (const text of this.picked) this.inputs.labels.delete(text);
    for (const text of res.texts) this.inputs.labels.set(text, 2);
    this.picked = res.texts;
    this.relevant = new Set(res.ids);
    this.inputs.fill({ query: q.query });
    setError("query", "");
    this.emit("run");
  }

  /** A row was (un)marked relevant in the ranking (`id` = its collection id). */
  relabel(id, relevance) {
    if (relevance === 2) this.relevant.add(id);
    else this.relevant.delete(id);
    this.drawFunnel();
  }

  /** The run ended: what was sent on and the reranker's time. */
  onRunEnd(stats) {
    if (!this.active || !this.stage1) return;
    const took = stats && stats.end ? `reranked in ${formatMs(stats.end - stats.t0)}` : "";
    this.drawFunnel(took);
  }

  drawFunnel(sentNote) {
    if (!this.stage1 || !this.python.glue) { drawRecall(null); return; }
    const f = this.python.call("docs_funnel", this.inputs.readTopK() ?? 0, [...this.relevant]);
    if (f.error || !f.passages) { drawRecall(null); return; }
    if (sentNote !== undefined) drawStage("sent", f.sent, sentNote);
    drawRecall(f);
  }
}
