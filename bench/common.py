"""Shared helpers of the bench scripts: build + serve the self-contained site (with the PyScript hello reference),
a request log on the server, headless Chromium with the test harness' options, and in-page probes.

The scoring-engine helpers (native onnxruntime reference, the 10-pair and 200-pair sets) live in
bench/bench_scoring.py and tests/support/scoring.py; this module does not duplicate them.
"""

from __future__ import annotations

import json
import os
import shutil
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out"
HELLO_SRC = ROOT / "bench" / "hello"
HELLO_PATH = "bench-hello/"  # where the hello page is served, next to index.html in the built site

import sys  # noqa: E402

sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "bench"))

from harness import launch_options, load_buildsite  # noqa: E402


def load_average() -> str:
    """The 1/5/15-minute load average (benchmarks are ratios, but a loaded machine is worth noting)."""
    try:
        return " ".join(f"{x:.1f}" for x in os.getloadavg())
    except OSError:
        return "n/a"


def build_site(out: Path = OUT / "page-dist") -> Path:
    """Incremental `build.py build` into `out`, then add the hello reference page (the build prunes it each time)."""
    build = load_buildsite()
    build.build(out, log=lambda m: None)
    return add_hello(out)


def add_hello(out: Path) -> Path:
    """Copy bench/hello/ into the built site at HELLO_PATH."""
    target = out / HELLO_PATH
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(HELLO_SRC, target)
    return out


@dataclass
class RequestLog:
    """Every response the server sent: (path, status, body bytes). Thread-safe append, snapshot by index."""

    entries: list[tuple[str, int, int]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, path: str, status: int, size: int) -> None:
        with self.lock:
            self.entries.append((path, status, size))

    def mark(self) -> int:
        """Position to diff against later."""
        with self.lock:
            return len(self.entries)

    def since(self, mark: int, prefix: str = "") -> list[tuple[str, int, int]]:
        """Responses after `mark` whose path starts with `prefix`."""
        with self.lock:
            return [e for e in self.entries[mark:] if e[0].startswith(prefix)]


def serve(dist: Path) -> tuple[Any, str, RequestLog]:
    """Serve `dist` with buildsite's handler and headers (exactly like `build.py serve`), logging each response."""
    import http.server

    build = load_buildsite()
    base = build.make_handler(dist)
    log = RequestLog()

    class LoggingHandler(base):  # type: ignore[misc, valid-type]
        def send_response(self, code: int, message: str | None = None) -> None:
            self._bench_status = code
            self._bench_length = 0
            super().send_response(code, message)

        def send_header(self, keyword: str, value: str) -> None:
            if keyword.lower() == "content-length":
                self._bench_length = int(value)
            super().send_header(keyword, value)

        def end_headers(self) -> None:
            super().end_headers()
            path = self.path.split("?", 1)[0]
            status = getattr(self, "_bench_status", 0)
            log.add(path, status, getattr(self, "_bench_length", 0) if self.command == "GET" and status == 200 else 0)

    server = build.QuietThreadingHTTPServer(("127.0.0.1", 0), LoggingHandler)
    threading.Thread(target=server.serve_forever, name="bench-http", daemon=True).start()
    del http
    return server, f"http://127.0.0.1:{server.server_address[1]}/", log


def launch_profile(playwright: Any, profile: Path) -> Any:
    """Headless Chromium (the harness' options) on a real on-disk profile, like a person's browser: a new
    directory is a first visit (empty HTTP cache, Cache Storage, code cache), the same one a returning visit.
    Eager memory measurement keeps performance.measureUserAgentSpecificMemory() quick."""
    options = launch_options()
    options.pop("headless", None)
    args = [*options.pop("args"), "--enable-blink-features=ForceEagerMeasureMemory"]
    return playwright.chromium.launch_persistent_context(str(profile), headless=True, args=args,
                                                        viewport={"width": 1280, "height": 900}, **options)


# Installed before any page script: phase / hello timestamps, long tasks, click input delay, and a spy on the
# scoring worker's messages (pairs posted, results and `done` received) that counts inferences independently of
# the page's own statistics.
PROBE_JS = """
(() => {
  const B = window.__bench = {phases: [], firstPhase: {}, longtasks: [], clickDelays: [], hello: null,
                              worker: {scorePosts: [], results: 0, done: []}};
  const note = () => {
    const el = document.documentElement;
    if (!el) return;
    const p = el.dataset.phase;
    if (p && (B.phases.length === 0 || B.phases[B.phases.length - 1][0] !== p)) {
      const t = performance.now();
      B.phases.push([p, t]);
      if (!(p in B.firstPhase)) B.firstPhase[p] = t;
    }
    if (el.dataset.hello && B.hello === null) B.hello = performance.now();
  };
  new MutationObserver(note).observe(document, {subtree: true, childList: true, attributes: true,
                                                attributeFilter: ["data-phase", "data-hello"]});
  try {
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) B.longtasks.push([e.startTime, e.duration]);
    }).observe({type: "longtask", buffered: true});
  } catch (e) { B.longtaskError = String(e); }
  // Python's share of main-thread time: every glue call, timed (wrapped before the page takes the object).
  B.py = {};
  document.addEventListener("reranker:glue-ready", () => {
    B.glueReady = performance.now();
    const g = window.rerankerGlue;
    if (!g) return;
    for (const name of Object.keys(g)) {
      const f = g[name];
      if (typeof f !== "function") continue;
      g[name] = (...args) => {
        const t = performance.now();
        try { return f(...args); } finally { (B.py[name] = B.py[name] || []).push(performance.now() - t); }
      };
    }
  });
  addEventListener("click", (e) => { B.clickDelays.push(performance.now() - e.timeStamp); }, true);
  const W = window.Worker;
  window.Worker = class extends W {
    constructor(...args) {
      super(...args);
      this.__scorer = /scorer-worker/.test(String(args[0]));  // not the bi-encoder (vector column) worker
      this.addEventListener("message", (ev) => {
        if (!this.__scorer) return;
        const m = ev.data || {};
        if (m.type === "result") B.worker.results += 1;
        else if (m.type === "done") B.worker.done.push(m);
        else if (m.type === "ready") { B.worker.ready = m; B.workerReadyAt = performance.now(); }
      });
    }
    postMessage(msg, ...rest) {
      if (this.__scorer && msg && msg.type === "score") B.worker.scorePosts.push((msg.pairs || []).map((p) => p.key));
      return super.postMessage(msg, ...rest);
    }
  };
})();
"""

# Click a preset chip as soon as it exists and record when the query field holds its query: "inputs usable".
USABLE_JS = """
(() => {
  const B = window.__bench;
  const start = () => {
    const chip = document.querySelector(".preset-chip");
    const query = document.querySelector("#query");
    if (!chip || !query) return false;
    B.chipAt = performance.now();
    chip.click();
    const poll = () => {
      if (query.value) { B.usable = performance.now(); return; }
      setTimeout(poll, 2);
    };
    poll();
    return true;
  };
  const obs = new MutationObserver(() => { if (start()) obs.disconnect(); });
  obs.observe(document, {subtree: true, childList: true});
})();
"""

# One Rerank click measured in the page: first scored row in the DOM, done, frames, long tasks, worker results.
RUN_JS = """
async ({timeoutMs}) => {
  const B = window.__bench;
  const results0 = B.worker.results;
  B.py = {};
  const done0 = B.worker.done.length;
  const frames = [];
  let last = null, stop = false;
  const frame = (t) => { if (last !== null) frames.push(t - last); last = t; if (!stop) requestAnimationFrame(frame); };
  requestAnimationFrame(frame);
  let first = null;
  let allScored = null;  // every passage scored by the cross-encoder (later work, e.g. the vector column, excluded)
  const onUpdate = (e) => {
    const d = e.detail || {};
    if (first === null && d.scored > 0) first = performance.now();
    if (allScored === null && d.total > 0 && d.scored === d.total) allScored = performance.now();
  };
  document.addEventListener("rerank:update", onUpdate);
  await new Promise((r) => requestAnimationFrame(() => r()));
  let settle;
  const finished = new Promise((resolve, reject) => { settle = {resolve, reject}; });
  const el = document.documentElement;
  // Every value data-phase takes after the click (records carry old values; the last new value is current).
  const obs = new MutationObserver((records) => {
    records.forEach((r, i) => {
      const value = i + 1 < records.length ? records[i + 1].oldValue : el.dataset.phase;
      if (value === "done") settle.resolve();
      if (value === "error") settle.reject(new Error("phase=error: " + document.querySelector("#status").textContent));
    });
  });
  obs.observe(el, {attributes: true, attributeOldValue: true, attributeFilter: ["data-phase"]});
  const limit = setTimeout(() => settle.reject(new Error(`run did not finish, phase=${el.dataset.phase}`)), timeoutMs);
  const t0 = performance.now();
  document.querySelector("#rerank").click();
  try { await finished; } finally { obs.disconnect(); clearTimeout(limit); }
  const end = performance.now();
  stop = true;
  document.removeEventListener("rerank:update", onUpdate);
  const longtasks = B.longtasks.filter(([s, d]) => s + d >= t0 && s <= end).map(([s, d]) => d);
  const done = B.worker.done.length > done0 ? B.worker.done[B.worker.done.length - 1] : null;
  return {ms: end - t0, firstMs: first === null ? null : first - t0, scoredMs: allScored === null ? null : allScored - t0, results: B.worker.results - results0,
          frames, longtasks, workerMs: done ? done.ms : null, workerFirstMs: done ? done.firstResultMs : null,
          batches: done ? done.batches : null,
          py: Object.fromEntries(Object.entries(B.py).map(([k, v]) => [k, {n: v.length, max: Math.max(...v),
                                                                              sum: v.reduce((a, b) => a + b, 0)}])),
          stats: {...document.querySelector("#stats").dataset,
                  perUpdate: document.querySelector('[data-stat="update-ms"]')?.textContent}};
}
"""

# JS heap + wasm memory of the page and its workers, measured by the browser (cross-origin isolated pages only).
MEMORY_JS = """
async () => {
  if (typeof performance.measureUserAgentSpecificMemory !== "function") return null;
  const m = await performance.measureUserAgentSpecificMemory();
  const byType = {};
  for (const b of m.breakdown) {
    const kind = (b.attribution[0] && b.attribution[0].scope) || "shared";
    for (const t of b.types.length ? b.types : ["Other"]) byType[`${kind}:${t}`] = (byType[`${kind}:${t}`] || 0) + b.bytes;
  }
  return {bytes: m.bytes, byType};
}
"""


def fill_inputs(page: Any, query: str, passages: list[str]) -> None:
    """Put a query and passages (JSON array mode: passages may contain newlines) into the form."""
    import json

    page.evaluate(
        """([q, text]) => {
            const set = (el, v) => { el.value = v; el.dispatchEvent(new Event('input', {bubbles: true})); };
            set(document.querySelector('#query'), q);
            document.querySelector('input[name="mode"][value="json"]').click();
            set(document.querySelector('#passages'), text);
        }""",
        [query, json.dumps(passages, ensure_ascii=False)],
    )


def case_variant(text: str, n: int) -> str:
    """The n-th letter-case variant of `text`: a new cache key for the page, the same token ids for an uncased
    tokenizer (the bundled model lowercases), so repeated runs do real inference on identical inputs."""
    if n == 0:
        return text
    letters = [i for i, c in enumerate(text) if c.isalpha()]
    chars = list(text)
    for bit, i in enumerate(letters):
        if (n >> (bit % 20)) & 1:
            chars[i] = chars[i].swapcase()
    return "".join(chars)


def add_folder(out: Path, src: Path, path: str) -> Path:
    """Copy a bench page folder `src` into the built site at `path` (like add_hello, for any reference page)."""
    target = out / path
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(src, target)
    return out


def write_json(path: Path | None, raw: dict) -> None:
    """Write the raw measurements to `path` (the scripts' --json), if one was given."""
    if path:
        path.write_text(json.dumps(raw, indent=1, default=str))


def finish(raw: dict, missed: list[str], json_path: Path | None, no_fail: bool) -> int:
    """A bench script's end: the raw measurements to --json, then exit 1 when a target was missed (unless --no-fail)."""
    write_json(json_path, raw)
    if missed and not no_fail:
        print(f"\nmissed: {'; '.join(missed)}")
        return 1
    return 0
