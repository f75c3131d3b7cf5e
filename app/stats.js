// The run statistics panel: one <dl> per lane (#stats, #stats-b), items [data-stat=...], drawn from the
// lane's `stats` (measured by app/runs.js and app/lane.js) at a run's start and end.

import { modelName } from "./format.js";

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

export class StatsPanel {
  constructor() {
    this.el = { a: document.getElementById("stats"), b: document.getElementById("stats-b") };
  }

  hide(slot) {
    this.el[slot].hidden = true;
  }

  /** Draw a lane's statistics (nothing before its first run). */
  show(lane) {
    const s = lane.stats;
    if (!s) return;
    const el = this.el[lane.slot];
    const info = s.info || lane.info || {};
    const ms = (a, b) => (a !== null && b !== null && a !== undefined && b !== undefined ? `${Math.round(b - a)} ms` : "–");
    const backend = info.backend === "webgpu" ? "WebGPU" : info.backend ? `WASM × ${info.threads || 1}` : "–";
    const elapsed = s.lastResult !== null && s.results ? (s.lastResult - s.t0) / 1000 : null;
    const rate = elapsed ? `${(s.results / elapsed).toFixed(1)}` : "–";
    const perUpdate = s.updates ? `${((s.pyMs + s.renderMs) / s.updates).toFixed(1)} ms (max ${Math.round(s.maxUpdateMs)})` : "–";
    el.hidden = false;
    el.replaceChildren(
      stat("Model", modelName(s.model), "model"),
      stat("Backend", backend + (info.fallbackReason ? " (fallback)" : ""), "backend"),
      stat("Passages", String(s.passages), "passages"),
      stat("New inferences", String(s.results), "inferences"),
      stat("From cache", String(s.cached), "cached"),
      stat("First score", ms(s.t0, s.firstResult), "first"),
      stat("Total", s.end ? ms(s.t0, s.end) : "…", "total"),
      stat("Pairs / s", rate, "rate"),
      stat("Re-sorts", String(s.updates), "updates"),
      stat("Main thread / re-sort", perUpdate, "update-ms"),
    );
    const backendCell = el.querySelector('[data-stat="backend"]');
    if (info.fallbackReason) backendCell.title = `WebGPU was asked for but is not available: ${info.fallbackReason}`;
    el.dataset.pyMs = s.pyMs.toFixed(1);
    el.dataset.renderMs = s.renderMs.toFixed(1);
    el.dataset.state = s.end ? (s.cancelled ? "cancelled" : "done") : "running";
    el.setAttribute("aria-label", `Statistics for ${modelName(s.model)}`);
  }
}
