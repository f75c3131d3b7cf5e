"""The backend choice (Auto / WASM / WebGPU) next to the model picker: WebGPU scores match WASM on a software
WebGPU adapter, a browser without WebGPU falls back to WASM and says why, and the choice is remembered.

The session's browser runs with --disable-gpu and no WebGPU adapter; the WebGPU test launches a second Chromium
with --enable-unsafe-webgpu, which gives a software adapter (SwiftShader) on a machine without a GPU."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import pytest

from conftest import guarded_page
from harness import GuardedContext, launch_options
from harness.page import assert_final_order, load_preset, open_page, rows, run, stat

pytestmark = pytest.mark.model

# Measured on the bundled model (58 pairs of five presets, SwiftShader): WebGPU vs WASM differ by at most
# 9.5e-6 in the logit and 1.5e-6 in the calibrated score (its weights are int8 dequantised to float32 in the
# graph, so both backends compute in float32). 1e-3 leaves a wide margin for another adapter's float order.
SCORE_TOLERANCE = 1e-3
# SwiftShader runs WebGPU on the CPU and compiles a shader per new tensor shape: a 10-passage preset can take
# minutes on a busy 2-core machine.
WEBGPU_TIMEOUT_MS = 900_000
# The parity check scores this many of the preset's passages on each backend: every new batch shape costs
# SwiftShader a shader compile, and four passages already cover short and long pairs.
WEBGPU_PASSAGES = 4
PRESET = "es-cielo-azul"
NOTE = "#backend-note"

ADAPTER_JS = """async () => {
  if (!navigator.gpu) return null;
  const a = await navigator.gpu.requestAdapter();
  return a ? {vendor: a.info?.vendor ?? "", architecture: a.info?.architecture ?? ""} : null;
}"""


@pytest.fixture(scope="module")
def webgpu_browser(browser: Any) -> Iterator[Any]:
    """A second headless Chromium, with a (software) WebGPU adapter, from the session's Playwright (one sync
    Playwright per process)."""
    options = launch_options()
    options["args"] = [*options["args"], "--enable-unsafe-webgpu"]
    chromium = browser.browser_type.launch(**options)
    yield chromium
    chromium.close()


@pytest.fixture
def webgpu_page(request: pytest.FixtureRequest, webgpu_browser: Any,
                csp_reports: list[dict[str, Any]]) -> Iterator[Any]:
    """Like `page` (same guard: loopback only, no console errors, no CSP reports) in the WebGPU browser."""
    context = webgpu_browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(30_000)
    yield from guarded_page(request, GuardedContext(context), csp_reports)
    context.close()


def choose_backend(page: Any, choice: str, state: str, *, timeout: float = 180_000) -> str:
    """Pick `choice` in #backend and wait until the main lane's model is ready with note state `state`."""
    page.select_option("#backend", choice)
    page.wait_for_function(
        "([sel, s]) => document.querySelector(sel).dataset.state === s && document.documentElement.dataset.phase !== 'loading'",
        arg=[NOTE, state], timeout=timeout)
    return page.inner_text(NOTE)


def logit(score: float) -> float:
    """The logit behind a sigmoid-calibrated score (the bundled model's calibration)."""
    score = min(max(score, 1e-12), 1 - 1e-12)
    return math.log(score / (1 - score))


def scores_by_index(page: Any) -> dict[int, float]:
    """The final calibrated score of each passage, by its input index."""
    final = rows(page)
    assert_final_order(final)
    return {r["index"]: r["score"] for r in final}


def run_preset(page: Any, timeout: float) -> dict[int, float]:
    """Rerank PRESET's first WEBGPU_PASSAGES passages (every pair inferred anew: a fresh page's score cache is
    empty); their scores by index."""
    data = load_preset(page, PRESET)
    texts = [p["text"] for p in data["passages"][:WEBGPU_PASSAGES]]
    page.fill("#passages", "\n".join(texts))
    page.evaluate("() => { window.__updates = []; }")
    page.click("#rerank")
    page.wait_for_function("() => ['done', 'error'].includes(document.documentElement.dataset.phase)", timeout=timeout)
    assert page.evaluate("() => document.documentElement.dataset.phase") == "done", page.inner_text("#status")
    assert stat(page, "inferences") == str(len(texts)), stat(page, "inferences")
    return scores_by_index(page)


def test_webgpu_scores_match_wasm(webgpu_page: Any, base_url: str) -> None:
    """On a WebGPU adapter, choosing WebGPU reloads the model there (no fallback) and its scores equal WASM's."""
    page = webgpu_page
    open_page(page, base_url)
    adapter = page.evaluate(ADAPTER_JS)
    assert adapter is not None, "this Chromium gives no WebGPU adapter even with --enable-unsafe-webgpu"
    assert page.input_value("#backend") == "auto"
    assert "Auto runs on WASM" in page.inner_text(NOTE)
    note = choose_backend(page, "webgpu", "webgpu")
    assert note == "Runs on WebGPU.", note
    webgpu = run_preset(page, WEBGPU_TIMEOUT_MS)
    assert stat(page, "backend") == "WebGPU", stat(page, "backend")
    webgpu_total = stat(page, "total")

    page.reload()  # a new page: Python's score cache starts empty, so WASM infers every pair again
    page.wait_for_function("() => document.documentElement.dataset.phase === 'ready'", timeout=WEBGPU_TIMEOUT_MS)
    assert page.input_value("#backend") == "webgpu" and page.inner_text(NOTE) == "Runs on WebGPU."
    choose_backend(page, "wasm", "wasm")
    wasm = run_preset(page, WEBGPU_TIMEOUT_MS)
    assert stat(page, "backend").startswith("WASM ×"), stat(page, "backend")
    assert webgpu.keys() == wasm.keys()
    worst = max(abs(webgpu[i] - wasm[i]) for i in wasm)
    worst_logit = max(abs(logit(webgpu[i]) - logit(wasm[i])) for i in wasm)
    print(f"WebGPU ({adapter}) vs WASM on {PRESET}: max |score diff| {worst:.2e}, max |logit diff| {worst_logit:.2e}, "
          f"total WebGPU {webgpu_total}, WASM {stat(page, 'total')}")
    assert worst <= SCORE_TOLERANCE, (worst, wasm, webgpu)


def test_webgpu_without_an_adapter_falls_back_to_wasm_and_says_why(page: Any, base_url: str) -> None:
    """The test browser has no GPU: a WebGPU choice loads on WASM, the page shows the worker's reason, ranking works."""
    open_page(page, base_url)
    assert page.evaluate(ADAPTER_JS) is None, "the session's browser was expected to have no WebGPU adapter"
    note = choose_backend(page, "webgpu", "fallback")
    assert note.startswith("WebGPU is not available, so the model runs on WASM: "), note
    assert "WebGPU adapter" in note or "navigator.gpu" in note, note
    load_preset(page, PRESET)
    run(page)
    assert_final_order(rows(page))
    backend = stat(page, "backend")
    assert backend.startswith("WASM") and backend.endswith("(fallback)"), backend
    title = page.get_attribute('#stats [data-stat="backend"]', "title")
    assert title and "WebGPU" in title, title


def test_backend_choice_is_remembered_and_auto_keeps_wasm(page: Any, base_url: str) -> None:
    """Nothing is stored until the choice changes; a changed choice survives a reload; Auto runs on WASM."""
    open_page(page, base_url)
    assert page.input_value("#backend") == "auto"
    assert page.evaluate("() => localStorage.getItem('reranker-backend')") is None
    choose_backend(page, "wasm", "wasm")
    assert page.evaluate("() => localStorage.getItem('reranker-backend')") == "wasm"
    page.reload()
    page.wait_for_function("() => document.documentElement.dataset.phase === 'ready'", timeout=180_000)
    assert page.input_value("#backend") == "wasm"
    assert page.inner_text(NOTE).startswith("Runs on WASM"), page.inner_text(NOTE)
    choose_backend(page, "auto", "wasm")
    page.reload()
    page.wait_for_function("() => document.documentElement.dataset.phase === 'ready'", timeout=180_000)
    assert page.input_value("#backend") == "auto"
    assert page.inner_text(NOTE).startswith("Auto runs on WASM"), page.inner_text(NOTE)
    load_preset(page, PRESET)
    run(page)
    assert stat(page, "backend").startswith("WASM ×"), stat(page, "backend")
    assert not stat(page, "backend").endswith("(fallback)")


def test_backend_change_stops_a_run_and_blocked_storage_breaks_nothing(page: Any, base_url: str) -> None:
    """With localStorage throwing, the page starts and the choice still applies; a change during a run stops it."""
    page.add_init_script("""(() => {
      for (const name of ["getItem", "setItem", "removeItem", "key"]) {
        Storage.prototype[name] = () => { throw new DOMException("blocked", "SecurityError"); };
      }
    })();""")
    open_page(page, base_url)
    assert page.input_value("#backend") == "auto"
    page.fill("#query", "which passage mentions the harbour?")
    page.fill("#passages", "\n".join(f"Passage {i} about boats, tides and the harbour wall." for i in range(400)))
    page.click("#rerank")
    page.wait_for_function("() => document.documentElement.dataset.phase === 'scoring'")
    choose_backend(page, "webgpu", "fallback")  # this browser has no adapter: the models reload on WASM
    assert page.evaluate("() => document.querySelector('#stats').dataset.state") == "cancelled"
    assert page.input_value("#backend") == "webgpu"
    load_preset(page, PRESET)
    run(page)
    assert_final_order(rows(page))
