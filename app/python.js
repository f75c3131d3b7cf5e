// Python's start as the page sees it: waits for py/glue.py to publish window.rerankerGlue, calls it, and
// watches the downloads Python needs so a failed start is reported instead of leaving the page loading.
//
//   const python = new Python();
//   python.addEventListener("ready", ...);   // python.glue and python.info are set
//   python.addEventListener("failed", ...);  // detail: {reason}; python.failed is true
//   python.watch(); python.connect();
//   python.call("inspect", payload)          // JSON-able arguments in, parsed result out ({error} on bad input)

import { RUNTIME } from "./runtime.js";
import { announce, setPhase } from "./feedback.js";

/** URLs of the files Python needs to start (vendored Pyodide/PyScript, the py/ package). */
const PYTHON_RUNTIME_URL = /\/(vendor\/pyodide|vendor\/pyscript|py)\/|pyodide|pyscript/;
/** Python's start-up snapshot is optional: without it app/pyodide-boot.js boots Python instead. */
const PYTHON_SNAPSHOT_URL = new URL(RUNTIME.pythonSnapshot.url, import.meta.url).href;
const pythonNeeds = (url) => PYTHON_RUNTIME_URL.test(String(url)) && String(url).split("?")[0] !== PYTHON_SNAPSHOT_URL;

/** The last two path segments of a URL ("full/pyodide.asm.mjs"): enough to name the file in a message. */
function runtimeFile(url) {
  return String(url).split("?")[0].split("/").slice(-2).join("/");
}

export class Python extends EventTarget {
  constructor() {
    super();
    this.glue = null;     // window.rerankerGlue once Python is up
    this.info = null;     // {python, implementation, pyodide, defaults}
    this.failed = false;
  }

  /** Call a glue method with JSON-able arguments; returns the parsed result ({error} on bad input). */
  call(name, ...args) {
    const out = this.glue[name](...args.map((a) => JSON.stringify(a)));
    return JSON.parse(out);
  }

  /** Take the glue when py/glue.py announces it, or now if it already has. */
  connect() {
    document.addEventListener("reranker:glue-ready", () => this.onGlueReady());
    this.onGlueReady();
  }

  onGlueReady() {
    if (this.glue || !window.rerankerGlue) return;
    this.glue = window.rerankerGlue;
    this.info = JSON.parse(this.glue.info);
    this.dispatchEvent(new CustomEvent("ready"));
  }

  /** Install the three watchdogs: resource timings, fetches and rejected runtime imports. */
  watch() {
    this.watchResources();
    this.watchFetches();
    this.watchImports();
  }

  /** Pyodide does not report a failed download; watch the resources Python needs and say which one failed. */
  watchResources() {
    if (typeof PerformanceObserver !== "function") return;
    const observer = new PerformanceObserver((list) => {
      if (this.glue) { observer.disconnect(); return; }
      for (const entry of list.getEntries()) {
        const status = entry.responseStatus || 0;
        if (status < 400 || !pythonNeeds(entry.name)) continue;
        this.fail(`${runtimeFile(entry.name)} could not be downloaded (HTTP ${status})`);
        observer.disconnect();
        return;
      }
    });
    try { observer.observe({ type: "resource", buffered: true }); } catch { /* old browser */ }
  }

  /** Same idea for fetches: PyScript and Pyodide download through fetch(), and a failed one ends Python's start. */
  watchFetches() {
    const realFetch = window.fetch;
    const python = this;
    window.fetch = async function fetchWatched(input, init) {
      const url = typeof input === "string" || input instanceof URL ? String(input) : input?.url || "";
      try {
        const response = await realFetch.call(this, input, init);
        if (!response.ok && !python.glue && pythonNeeds(response.url || url)) {
          python.fail(`${runtimeFile(response.url || url)} could not be downloaded (HTTP ${response.status})`);
        }
        return response;
      } catch (err) {
        if (!python.glue && pythonNeeds(url)) python.fail(`${runtimeFile(url)} could not be downloaded (${err.message || err})`);
        throw err;
      }
    };
  }

  /** A runtime module the browser refuses (integrity mismatch, blocked, offline) rejects an import() nobody
   * catches: before Python is up, an uncaught error naming a Python runtime file means it will not start. */
  watchImports() {
    const runtime = /pyodide|pyscript|dynamically imported module/i;
    const failed = (error) => {
      const message = String(error?.message || error || "");
      if (this.glue || !runtime.test(message)) return;
      const file = runtimeFile((message.match(/https?:\/\/\S+/) || [""])[0]);
      this.fail(file ? `the browser refused ${file}` : message);
    };
    window.addEventListener("unhandledrejection", (event) => failed(event.reason));
    window.addEventListener("error", (event) => failed(event.error || event.message));
  }

  /** Python will not start: tell listeners (loading strip, runs), then the user. */
  fail(reason) {
    if (this.glue) return;
    this.failed = true;
    this.dispatchEvent(new CustomEvent("failed", { detail: { reason } }));
    setPhase("error");
    announce(`Python could not start: ${reason}. Ranking needs it; reload the page to try again (copy your text first).`);
  }
}
