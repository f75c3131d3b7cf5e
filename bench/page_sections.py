"""The page benchmark's inputs and measurements: preset-based passage sets, the browser steps (visits, runs, clicks,
memory) and one runner per section of bench_page.py, each returning its raw figures."""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (HELLO_PATH, PROBE_JS, ROOT, RUN_JS, USABLE_JS, case_variant, fill_inputs,  # noqa: E402
                    launch_profile)

sys.path.insert(0, str(ROOT / "py"))

TIMEOUT_MS = 240_000

# Long animation frames (Chromium's LoAF API): which script (function, file, invoker) and how much forced
# style/layout made a frame long. Only frames over 100 ms are kept; read per run to say where a long task came from.
LOAF_JS = """
(() => {
  const B = window.__bench;
  B.loaf = [];
  try {
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) {
        if (e.duration < 100) continue;
        B.loaf.push({start: e.startTime, duration: e.duration, blocking: e.blockingDuration,
                     styleLayout: e.styleAndLayoutStart ? e.startTime + e.duration - e.styleAndLayoutStart : 0,
                     scripts: e.scripts.map((s) => ({fn: s.sourceFunctionName, src: (s.sourceURL || "").split("/").pop(),
                       invoker: s.invoker, ms: Math.round(s.duration), forced: Math.round(s.forcedStyleAndLayoutDuration)}))});
      }
    }).observe({type: "long-animation-frame", buffered: true});
  } catch (e) { B.loafError = String(e); }
})();
"""


# ------------------------------------------------------------------------------------------------ inputs


def preset_texts() -> list[str]:
    """Every passage text of every preset, in index order (deduplicated)."""
    folder = ROOT / "static" / "presets"
    seen: dict[str, None] = {}
    for meta in json.loads((folder / "index.json").read_text(encoding="utf-8")):
        for p in json.loads((folder / meta["file"]).read_text(encoding="utf-8"))["passages"]:
            seen.setdefault(p["text"], None)
    return list(seen)


def reference_query_and_10() -> tuple[str, list[str]]:
    """D's 10-pair reference set (bench_scoring.reference_10): the RAG tides query and its first ten passages."""
    from bench_scoring import reference_10

    pairs = reference_10()
    return pairs[0]["query"], [p["text"] for p in pairs]


def mixed_passages(n: int) -> list[str]:
    """`n` distinct passages of mixed length: every tenth joins five preset passages (longer than the model's
    256-token window, so the page splits it into windows), the rest are single passages (tagged when repeated)."""
    texts = preset_texts()
    out: list[str] = []
    for i in range(n):
        if i % 10 == 0:
            text = " ".join(texts[(i + k) % len(texts)] for k in range(5))
        else:
            text = texts[i % len(texts)]
        if i >= len(texts) or i % 10 == 0:
            text = f"{text} (item {i})"
        out.append(text)
    assert len(set(out)) == n
    return out


# ------------------------------------------------------------------------------------------------ browser steps


def bench(page: Any, expr: str) -> Any:
    return page.evaluate(f"() => window.__bench.{expr}")


def wait_ready(page: Any) -> None:
    page.wait_for_function("() => ['ready', 'error'].includes(document.documentElement.dataset.phase)",
                           timeout=TIMEOUT_MS, polling=50)
    phase = page.evaluate("() => document.documentElement.dataset.phase")
    if phase != "ready":
        raise RuntimeError(f"page did not become ready: phase={phase}, status={page.inner_text('#status')!r}")


def open_profile(pw: Any, profile: Path, *, usable: bool = False) -> tuple[Any, Any]:
    """Browser on `profile` with the probes installed; returns (context, its first page)."""
    context = launch_profile(pw, profile)
    context.add_init_script(PROBE_JS)
    context.add_init_script(LOAF_JS)
    if usable:
        context.add_init_script(USABLE_JS)
    page = context.pages[0] if context.pages else context.new_page()
    return context, page


def measure_hello(pw: Any, url: str, tmp: Path) -> float:
    """Fresh profile: navigation -> the hello page's one line of Python has run (ms)."""
    context, page = open_profile(pw, Path(tempfile.mkdtemp(dir=tmp)))
    try:
        page.goto(url + HELLO_PATH, wait_until="commit")
        page.wait_for_function("() => window.__bench && window.__bench.hello !== null", timeout=TIMEOUT_MS, polling=50)
        return bench(page, "hello")
    finally:
        context.close()


def measure_cold(pw: Any, url: str, log: Any, tmp: Path) -> tuple[Path, dict[str, Any]]:
    """Fresh profile: navigation -> inputs usable (a preset filled the query) and -> phase=ready."""
    profile = Path(tempfile.mkdtemp(dir=tmp))
    context, page = open_profile(pw, profile, usable=True)
    try:
        mark = log.mark()
        page.goto(url, wait_until="commit")
        wait_ready(page)
        page.wait_for_function("() => window.__bench.usable !== undefined", timeout=TIMEOUT_MS)
        page.wait_for_timeout(1000)  # let the worker finish writing the model into Cache Storage
        b = page.evaluate("() => ({usable: window.__bench.usable, ready: window.__bench.firstPhase.ready,"
                          " glue: window.__bench.glueReady, workerReady: window.__bench.workerReadyAt,"
                          " worker: window.__bench.worker.ready || null})")
        b["bytes"] = sum(size for _, _, size in log.since(mark))
        return profile, b
    finally:
        context.close()


def measure_warm(pw: Any, url: str, log: Any, profile: Path) -> tuple[Any, Any, dict[str, Any]]:
    """Same profile, browser restarted, second visit: phase=ready, and what was downloaded again."""
    context, page = open_profile(pw, profile)
    mark = log.mark()
    page.goto(url, wait_until="commit")
    wait_ready(page)
    models = log.since(mark, "/models/")
    again = [e for e in log.since(mark) if e[2] > 0]
    return context, page, {
        "ready": bench(page, "firstPhase.ready"),
        "glue": bench(page, "glueReady"),
        "workerReady": bench(page, "workerReadyAt"),
        "worker": bench(page, "worker.ready"),
        "model_requests": len(models),
        "model_bytes": sum(size for _, _, size in models),
        "bytes": sum(size for _, _, size in again),
        "downloaded_again": again,
    }


# A person cannot paste and press Rerank in the same frame: let the paste land (the textarea lays out its text,
# the live count runs when idle) before the click, so a run's figures are the run's own work.
SETTLE_INPUT_JS = """
() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(() => setTimeout(() =>
  (window.requestIdleCallback ? requestIdleCallback(() => resolve(), {timeout: 2000}) : resolve()), 200))))
"""

# The run's trailing work is done: the vector-search (bi-encoder) column, which starts when scoring is done.
IDLE_AFTER_RUN_JS = """
() => { const c = document.querySelector('#compare .compare-col[data-column="biencoder"]');
        return !c || !c.classList.contains('is-pending'); }
"""


def run(page: Any, timeout_ms: int = TIMEOUT_MS) -> dict[str, Any]:
    """Click Rerank and measure the run in the page (see common.RUN_JS), plus the run's long animation frames."""
    page.evaluate(SETTLE_INPUT_JS)
    mark = page.evaluate("() => performance.now()")
    result = page.evaluate(RUN_JS, {"timeoutMs": timeout_ms})
    result["loaf"] = page.evaluate("(t) => (window.__bench.loaf || []).filter((e) => e.start >= t)", mark)
    return result


def open_ready(pw: Any, url: str, tmp: Path) -> tuple[Any, Any]:
    """One fresh visit up to phase=ready, no start-up figures (--skip start: quicker runs of the other sections)."""
    context, page = open_profile(pw, Path(tempfile.mkdtemp(dir=tmp)))
    page.goto(url, wait_until="commit")
    wait_ready(page)
    return context, page


def median(xs: list[float]) -> float:
    return statistics.median(xs) if xs else float("nan")


def fps_median(frames: list[float]) -> float:
    return 1000 / median(frames) if frames else float("nan")


def worker_counts(page: Any) -> tuple[int, int]:
    """(results received, pairs posted) by the scoring worker spy so far."""
    return page.evaluate("() => [window.__bench.worker.results,"
                         " window.__bench.worker.scorePosts.reduce((n, p) => n + p.length, 0)]")


def settle(page: Any, ms: int = 400) -> None:
    """Let pending frames and worker messages land (counts, not timing)."""
    page.wait_for_timeout(ms)


def measure_incremental(page: Any, query: str, passages: list[str]) -> dict[str, int]:
    """New inferences for: the first run, an identical re-run, one edited passage, threshold and k changes."""
    out: dict[str, int] = {}
    fill_inputs(page, case_variant(query, 900), passages)
    out["first"] = run(page)["results"]
    out["same"] = run(page)["results"]
    edited = list(passages)
    edited[3] = edited[3] + " (edited)"
    fill_inputs(page, case_variant(query, 900), edited)
    out["edit"] = run(page)["results"]
    before = worker_counts(page)
    page.evaluate("""() => {
        const t = document.querySelector('#threshold'); t.value = '0.9'; t.dispatchEvent(new Event('input', {bubbles: true}));
        const k = document.querySelector('#top-k'); k.value = '2'; k.dispatchEvent(new Event('input', {bubbles: true}));
    }""")
    settle(page)
    after = worker_counts(page)
    out["settings"] = (after[0] - before[0]) + (after[1] - before[1])
    page.evaluate("""() => {
        const t = document.querySelector('#threshold'); t.value = '0.5'; t.dispatchEvent(new Event('input', {bubbles: true}));
        const k = document.querySelector('#top-k'); k.value = '5'; k.dispatchEvent(new Event('input', {bubbles: true}));
    }""")
    return out


def measure_big(page: Any, query: str, n: int) -> dict[str, Any]:
    """n passages: the run completes while real clicks (theme toggle) keep getting answered; input delay per click."""
    fill_inputs(page, case_variant(query, 700), mixed_passages(n))
    page.evaluate(SETTLE_INPUT_JS)
    mark = page.evaluate("() => performance.now()")
    page.evaluate("() => { window.__bench.clickDelays = []; }")
    page.evaluate(f"() => {{ window.__bigRun = ({RUN_JS})({{timeoutMs: {TIMEOUT_MS * 4}}})"
                  ".then((r) => (window.__bigResult = r), (e) => (window.__bigResult = {error: String(e)})); }")
    clicks = 0
    round_trips: list[float] = []
    deadline = time.monotonic() + TIMEOUT_MS * 4 / 1000
    while time.monotonic() < deadline and page.evaluate("() => window.__bigResult === undefined"):
        t = time.perf_counter()
        page.click("#theme-toggle", timeout=30_000)
        round_trips.append((time.perf_counter() - t) * 1000)
        clicks += 1
        page.wait_for_timeout(300)
    result = page.evaluate("() => window.__bigResult")
    if result is None or "error" in result:
        raise RuntimeError(f"the {n}-passage run failed: {result}")
    delays = bench(page, "clickDelays")
    result["loaf"] = page.evaluate("(t) => (window.__bench.loaf || []).filter((e) => e.start >= t)", mark)
    result.update(clicks=clicks, max_click_delay=max(delays) if delays else float("nan"),
                  max_click_round_trip=max(round_trips) if round_trips else float("nan"))
    if clicks % 2:
        page.click("#theme-toggle")
    return result


# Like common.MEMORY_JS, but attributed to the page or to each worker by its script file (which worker grows).
MEMORY_BY_SCRIPT_JS = """
async () => {
  if (typeof performance.measureUserAgentSpecificMemory !== "function") return null;
  const m = await performance.measureUserAgentSpecificMemory();
  const byType = {};
  for (const b of m.breakdown) {
    const a = b.attribution[0];
    const where = a ? `${a.scope}:${(a.url || "").split("?")[0].split("/").pop() || "page"}` : "shared";
    byType[where] = (byType[where] || 0) + b.bytes;
  }
  return {bytes: m.bytes, byType};
}
"""


def memory_bytes(page: Any, cdp: Any) -> dict[str, Any]:
    """Page + worker memory by performance.measureUserAgentSpecificMemory, else main-thread JS heap by CDP."""
    measured = page.evaluate(MEMORY_BY_SCRIPT_JS)
    if measured:
        return {"bytes": measured["bytes"], "how": "measureUserAgentSpecificMemory", "byType": measured["byType"]}
    page.evaluate("() => window.gc && window.gc()")
    metrics = {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}
    return {"bytes": metrics["JSHeapUsedSize"], "how": "CDP JSHeapUsedSize (main thread only)", "byType": {}}


# ------------------------------------------------------------------------------------------------ sections


def measure_start(pw: Any, url: str, log: Any, tmp: Path, repeats: int) -> tuple[Any, Any, dict[str, Any]]:
    """`repeats` hello / cold / warm visits, interleaved so slow moments hit both sides; returns the last warm
    visit's context and page (the later sections run in it) and the raw {hello, cold, warm}."""
    hello: list[float] = []
    cold: list[dict[str, Any]] = []
    warm: list[dict[str, Any]] = []
    repeats = max(1, repeats)
    for i in range(repeats):
        hello.append(measure_hello(pw, url, tmp))
        profile, c = measure_cold(pw, url, log, tmp)
        cold.append(c)
        # each cold profile's second visit: one warm visit swung 0.53-0.90x of cold on the same build
        context, page, w = measure_warm(pw, url, log, profile)
        warm.append(w)
        if i < repeats - 1:  # the last warm visit's page goes on to the stream and scale runs
            context.close()
    return context, page, {"hello": hello, "cold": cold, "warm": warm}


def measure_stream(page: Any, query: str, passages: list[str], threads: int, repeats: int) -> dict[str, Any]:
    """`repeats + 2` runs of the 10-pair set, each followed by the native reference: raw {stream, native}."""
    # Native reference: D's runner (same ONNX file, HF tokenizer ids, the worker's thread count),
    # timed right after each page run so load swings hit both sides alike.
    from bench_scoring import native_runner, reference_10

    native_run = native_runner(reference_10(), threads)
    fill_inputs(page, query, passages)
    run(page)  # warm-up: the first inference allocates and compiles
    streams, natives = [], []
    for r in range(repeats + 2):
        # the previous run's vector column (bi-encoder worker) must not share the CPU with this run
        page.wait_for_function(IDLE_AFTER_RUN_JS, timeout=TIMEOUT_MS, polling=100)
        fill_inputs(page, case_variant(query, r + 1), passages)  # same ids, new cache key
        streams.append(run(page))
        page.wait_for_function(IDLE_AFTER_RUN_JS, timeout=TIMEOUT_MS, polling=100)
        natives.append(native_run())
    return {"stream": streams, "native": natives}


def measure_scale(page: Any, cdp: Any, query: str, memory_runs: int, with_memory: bool) -> dict[str, Any]:
    """200 mixed passages, once, or `memory_runs` (at least 2) times with memory after each: raw {scale, memory}."""
    big = mixed_passages(200)
    runs200, memory = [], []
    n_runs = max(2, memory_runs) if with_memory else 1
    for r in range(n_runs):
        fill_inputs(page, case_variant(query, 100 + r), big)
        runs200.append(run(page, TIMEOUT_MS * 5))  # a loaded 2-core machine needs minutes
        if with_memory:  # every run, so the details show the curve (leak or plateau)
            # after the run's trailing work (vector column), so run 1 and run N are like for like
            page.wait_for_function(IDLE_AFTER_RUN_JS, timeout=TIMEOUT_MS, polling=200)
            memory.append(memory_bytes(page, cdp))
        print(f"  200-passage run {r + 1}/{n_runs}: {runs200[-1]['ms']:.0f} ms, "
              f"{runs200[-1]['results']} inferences", file=sys.stderr)
    scale = [{k: v for k, v in r.items() if k != "frames"} | {"fps": fps_median(r["frames"])} for r in runs200]
    return {"scale": scale, "memory": memory}
