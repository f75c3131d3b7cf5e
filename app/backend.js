// The backend choice next to the model picker (<select id="backend">: auto | wasm | webgpu), remembered in
// localStorage ("reranker-backend") once the user changes it, like the theme. It says which ONNX Runtime backend
// the reranker lanes ask their workers for, and shows under the picker what the main lane really runs on (with
// the worker's reason when a WebGPU request fell back to WASM). The vector column's bi-encoder always runs on WASM.
//
// Auto asks for WASM: WebGPU has not been measured faster for these small int8 models (on a machine without a
// GPU it is a software adapter at best), so WebGPU stays opt-in.
//
// Events: "change" {choice, backend} when the user picks another choice (`backend` is what the workers get).

const KEY = "reranker-backend";
const CHOICES = ["auto", "wasm", "webgpu"];

/** The worker backend ("wasm" | "webgpu") a choice asks for. */
export function workerBackend(choice) {
  return choice === "webgpu" ? "webgpu" : "wasm";
}

function readSaved() {
  try {
    const saved = localStorage.getItem(KEY);
    return CHOICES.includes(saved) ? saved : null;
  } catch {
    return null; // storage blocked
  }
}

export class BackendChoice extends EventTarget {
  constructor(select = document.getElementById("backend"), note = document.getElementById("backend-note")) {
    super();
    this.select = select;
    this.note = note;
    this.choice = readSaved() ?? "auto";
    this.info = null; // the main lane's last `ready` message
    this.select.value = this.choice;
  }

  /** What the reranker workers are asked for now. */
  get backend() {
    return workerBackend(this.choice);
  }

  wire() {
    this.select.addEventListener("change", () => {
      const choice = CHOICES.includes(this.select.value) ? this.select.value : "auto";
      if (choice === this.choice) return;
      const before = this.backend;
      this.choice = choice;
      try { localStorage.setItem(KEY, choice); } catch { /* storage blocked: the choice lasts for this visit */ }
      this.dispatchEvent(new CustomEvent("change", { detail: { choice, backend: this.backend } }));
      if (this.backend === before && this.info) this.showReady(this.info); // same worker backend: no reload, new words
    });
  }

  /** The main lane is loading its model on the chosen backend. */
  showLoading() {
    this.info = null;
    this.note.dataset.state = "loading";
    this.note.textContent = this.choice === "webgpu" ? "Loading on WebGPU…" : "";
  }

  /** The main lane's worker said where the model runs (its `ready` message). */
  showReady(info) {
    this.info = info;
    const fellBack = Boolean(info.fallbackReason);
    this.note.dataset.state = fellBack ? "fallback" : info.backend;
    if (fellBack) {
      this.note.textContent = `WebGPU is not available, so the model runs on WASM: ${info.fallbackReason}.`;
    } else if (info.backend === "webgpu") {
      this.note.textContent = "Runs on WebGPU.";
    } else {
      const threads = `${info.threads || 1} thread${info.threads === 1 ? "" : "s"}`;
      this.note.textContent = this.choice === "auto" ? `Auto runs on WASM (CPU, ${threads}); WebGPU is opt-in.` : `Runs on WASM (CPU, ${threads}).`;
    }
  }

  /** The main lane's model did not load: nothing runs anywhere. */
  showFailed() {
    this.info = null;
    this.note.dataset.state = "failed";
    this.note.textContent = "";
  }
}
