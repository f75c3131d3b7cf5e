// The loading strip above the inputs: Python's start, the main model's download/load, and whether the page
// can rank yet. It only draws; app/page.js feeds it the events of app/python.js and the main lane.

import { setError } from "./feedback.js";
import { formatBytes } from "./format.js";

const $ = (id) => document.getElementById(id);

export class LoadingStrip {
  constructor() {
    this.python = $("load-python");
    this.pythonVersion = $("python-version");
    this.pythonStart = $("python-start");
    this.pyodideVersion = $("pyodide-version");
    this.model = $("load-model");
    this.modelValue = $("load-model-value");
    this.ready = $("load-ready");
    this.readyLabel = $("load-ready-label");
  }

  /** Python is up: the footer's Pyodide version and " · 2.3 s" since navigation, titled with how it started
   *  (`start` is app/pyodide-boot.js's globalThis.rerankerPythonStart). */
  showPythonReady(info, start) {
    this.python.dataset.state = "done";
    this.pyodideVersion.textContent = info.pyodide || "?";
    this.pythonStart.textContent = ` · ${(performance.now() / 1000).toFixed(1)} s`;
    this.pythonStart.title = start?.source === "snapshot"
      ? "Python was restored from a snapshot of a booted interpreter, made with this page"
      : `Python booted${start?.reason ? ` (the start-up snapshot was not used: ${start.reason})` : ""}`;
    this.python.dataset.start = start?.source ?? "boot";
  }

  showPythonFailed() {
    this.python.dataset.state = "error";
    this.pythonVersion.textContent = "failed";
    this.ready.dataset.state = "error";
    this.readyLabel.textContent = "Python did not load";
  }

  /** The main model is loading; `p` is the worker's progress message (null before the first one). */
  showModelLoading(entry, p) {
    const bar = this.model.querySelector("progress");
    this.model.dataset.state = "loading";
    if (!p) {
      bar.removeAttribute("value");
      this.modelValue.textContent = entry.source === "bundled" ? "loading bundled model…" : "starting download…";
      return;
    }
    const total = p.overallTotal || entry.size_bytes || 0;
    const loaded = p.overallLoaded || 0;
    const cached = p.fromCache ? " from cache" : "";
    if (total > 0) {
      const pct = Math.min(100, Math.round((loaded / total) * 100));
      bar.value = pct;
      this.modelValue.textContent = `${formatBytes(loaded)} of ${formatBytes(total)} (${pct}%)${cached}`;
    } else {
      this.modelValue.textContent = `${formatBytes(loaded)}${cached}`;
    }
  }

  showModelReady(entry, info) {
    this.model.dataset.state = "done";
    const where = info.fromCache ? "from cache" : entry.source === "bundled" ? "bundled" : "downloaded";
    const threads = info.backend === "webgpu" ? "WebGPU" : `WASM × ${info.threads || 1} thread${info.threads === 1 ? "" : "s"}`;
    this.modelValue.textContent = `${where} · ${threads} · ${(info.loadMs / 1000).toFixed(1)} s`;
    this.modelValue.title = entry.id;
    if (info.fallbackReason) setError("model", "");
  }

  showModelFailed() {
    this.model.dataset.state = "error";
    this.modelValue.textContent = "failed";
  }

  /** The last item: ready, or what the page is still waiting for (app/runs.js's "readiness" detail). */
  showReadiness({ ready, python, modelLoading, modelReady }) {
    this.ready.dataset.state = ready ? "done" : modelLoading ? "loading" : python && !modelReady ? "error" : "loading";
    this.readyLabel.textContent = ready ? "Ready"
      : !python && modelLoading ? "Loading Python and the model…"
        : !python ? "Loading Python…" : modelLoading ? "Loading the model…" : "Choose a model that loads";
  }
}
