"""Fault injection in real Chromium: the test server (through Playwright routes on the real responses) serves
broken model files, a broken tokenizer, no ORT wasm, a crashing worker, no Pyodide; the user cancels,
switches model mid-run and starts two runs at once. Each time: a specific message, the UI still responds,
everything typed is intact, and after the fault is removed a retry on the same page works."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from harness import wait_for_phase
from harness.faults import (CRASH_AFTER_RESULTS, assert_scores_consistent, assert_ui_responds, fetch_bytes,
                            fetch_text, fulfil_with, page_state, wait_for_message)
from harness.page import RUN_TIMEOUT_MS, load_preset, open_page, rows, run, wait_for_done
from support.hub import hub_mirror, hub_site  # noqa: F401 - fixtures

TYPED_QUERY = "why do tides come twice a day? (typed by hand)"
TYPED_PASSAGES = "\n".join([
    "The moon's gravity pulls the ocean into two bulges, one facing the moon and one opposite.",
    "The Earth rotates under both bulges, so most coasts see two high tides a day.",
    "Tide tables list the times of high and low water for each harbour.",
    "Lighthouses were automated during the twentieth century.",
    "Sourdough bread needs a starter that is fed every day.",
])
ONNX = "models/minilm-l6-debian-ce/onnx/model_quantized.onnx"
TOKENIZER = "models/minilm-l6-debian-ce/tokenizer.json"


def type_inputs(page: Any) -> None:
    """Type the query and passages like a person (the shell accepts input while things load or fail)."""
    page.fill("#query", TYPED_QUERY)
    page.fill("#passages", TYPED_PASSAGES)


def assert_input_intact(page: Any) -> None:
    """Nothing typed was lost or changed by the fault."""
    state = page_state(page)
    assert state["query"] == TYPED_QUERY and state["passages"] == TYPED_PASSAGES, state


def retry_and_finish(page: Any) -> None:
    """Press Rerank (retrying what failed) and wait for a consistent, finished ranking with no error left."""
    page.click("#rerank")
    wait_for_phase(page, "done", timeout=RUN_TIMEOUT_MS)
    final = assert_scores_consistent(page)
    assert len(final) == 5
    assert page_state(page)["errors"] == {}, page_state(page)
    assert_input_intact(page)


def truncated_onnx(base_url: str) -> Callable[[Any], None]:
    data = fetch_bytes(base_url + ONNX)
    return fulfil_with(data[: len(data) // 3])


LOAD_FAULTS = {
    # name: (route pattern, handler factory(base_url), message regex)
    "model-404": ("**/" + ONNX, lambda u: fulfil_with("Not Found", status=404, content_type="text/plain"),
                  r"model_quantized\.onnx.*not found.*404"),
    "model-truncated": ("**/" + ONNX, truncated_onnx, r"damaged or incomplete"),
    "model-html-content-type": ("**/" + ONNX,
                                lambda u: fulfil_with("<!doctype html><title>Home</title>", content_type="text/html"),
                                r"web page.*content-type text/html"),
    "tokenizer-corrupt": ("**/" + TOKENIZER,
                          lambda u: fulfil_with(fetch_text(u + TOKENIZER)[:5000], content_type="application/json"),
                          r"tokenizer.*(not valid JSON|could not be read)"),
    "ort-wasm-missing": ("**/vendor/ort/*.wasm", lambda u: fulfil_with("gone", status=404, content_type="text/plain"),
                         r"ONNX Runtime WebAssembly files could not be loaded"),
}


@pytest.mark.allow_console_errors()
@pytest.mark.parametrize("fault", list(LOAD_FAULTS))
def test_model_load_fault_is_explained_and_retry_works(page: Any, base_url: str, fault: str) -> None:
    """The model cannot load: a specific message by the model picker, the page responds, input kept, retry runs."""
    pattern, make_handler, message = LOAD_FAULTS[fault]
    page.route(pattern, make_handler(base_url))
    open_page(page, base_url, wait=None)
    type_inputs(page)
    state = wait_for_message(page, message)
    assert state["phase"] == "error", state
    assert state["errors"].get("model-error"), state
    assert_input_intact(page)
    assert_ui_responds(page)
    page.unroute(pattern)
    page.evaluate("() => { window.__phases = [document.documentElement.dataset.phase]; }")  # open_page's recorder
    retry_and_finish(page)
    # While the retried model loads the page says "loading" (not the old "error"), then ready, then the run.
    taken = page.evaluate("() => window.__phases")
    assert taken[:3] == ["error", "loading", "ready"], taken
    assert taken[-1] == "done" and "error" not in taken[1:], taken


@pytest.mark.allow_console_errors()
def test_worker_crash_mid_run_is_explained_and_retry_works(page: Any, base_url: str) -> None:
    """The scoring worker throws after 2 results: a message, the partial ranking stays, Rerank restarts it."""
    source = fetch_text(base_url + "app/scorer-worker.js") + CRASH_AFTER_RESULTS % 2
    route = "**/app/scorer-worker.js"

    def crashing_worker(r: Any) -> None:
        response = r.fetch()
        r.fulfill(response=response, body=source)

    page.route(route, crashing_worker)
    open_page(page, base_url)
    type_inputs(page)
    page.click("#rerank")
    state = wait_for_message(page, r"worker stopped unexpectedly")
    assert state["phase"] == "error", state
    assert_input_intact(page)
    assert_ui_responds(page)
    assert page.locator("#results li.passage").count() == 5, "the partial ranking should stay visible"
    page.unroute(route)
    retry_and_finish(page)


@pytest.mark.allow_console_errors()
def test_pyodide_failing_to_load_is_explained(page: Any, base_url: str) -> None:
    """Python's runtime cannot be fetched: the page says so (instead of 'loading' forever), input is kept,
    and a reload after the fault is gone works."""
    pattern = "**/vendor/pyodide/python_stdlib.zip"
    page.route(pattern, fulfil_with("gone", status=404, content_type="text/plain"))
    open_page(page, base_url, wait=None)
    type_inputs(page)
    page.click("#rerank")
    state = wait_for_message(page, r"Python.*(could not|failed|did not)")
    assert state["phase"] == "error", state
    assert_input_intact(page)
    assert_ui_responds(page)
    page.unroute(pattern)
    page.reload()
    wait_for_phase(page, "ready", timeout=RUN_TIMEOUT_MS)
    type_inputs(page)
    retry_and_finish(page)


def test_cancel_with_escape_and_two_rapid_runs(page: Any, base_url: str) -> None:
    """Esc mid-run stops scoring (no later update), keeps input; two Rerank presses in a row end in one
    consistent ranking of the latest input."""
    open_page(page, base_url)
    load_preset(page, "long-everest-boiling")
    many = "\n".join(f"Passage {i}: water boils at lower temperatures at altitude, point {i}." for i in range(80))
    page.fill("#passages", many)
    page.evaluate("() => { window.__updates = []; }")
    page.click("#rerank")
    page.wait_for_function("() => window.__updates.some((u) => u.detail.scored > 0)", timeout=RUN_TIMEOUT_MS)
    page.focus("#passages")
    page.keyboard.press("Escape")
    wait_for_message(page, r"Cancelled")
    state = page_state(page)
    assert state["phase"] == "ready" and state["passages"] == many, state
    count = page.evaluate("() => window.__updates.length")
    scored = page.evaluate("() => window.__updates.at(-1).detail.scored")
    assert 0 < scored < 80, f"the cancel should land mid-run (scored {scored} of 80)"
    page.wait_for_timeout(1500)
    assert page.evaluate("() => window.__updates.length") == count, "a re-sort happened after the cancel"
    assert_ui_responds(page)

    # Two runs started rapidly: the second (with an edited query) wins, nothing from the first leaks in.
    page.evaluate("() => { window.__updates = []; }")
    page.click("#rerank")
    page.fill("#query", "boiling point of water on a mountain")
    page.click("#rerank")
    wait_for_done(page)
    final = assert_scores_consistent(page)
    assert len(final) == 80
    sessions = page.evaluate("() => window.__updates.map((u) => u.detail.total)")
    assert set(sessions) == {80}
    page.wait_for_timeout(1000)
    assert page.evaluate("() => document.documentElement.dataset.phase") == "done"
    assert rows(page) == final, "the ranking changed after done (a stale result arrived)"


SECOND_MODEL = "Xenova/ms-marco-TinyBERT-L-2-v2"


def test_switching_model_mid_run_stops_the_old_run_and_the_next_run_uses_the_new_model(
        page: Any, hub_site: Any) -> None:  # noqa: F811
    """Choosing another model during a run cancels it (input kept); the next run is scored by the new model only."""
    hub_site.mirror.add_model(SECOND_MODEL)
    open_page(page, hub_site.url)
    many = "\n".join(f"Line {i} about routers, resets and blinking lights number {i}." for i in range(60))
    page.fill("#query", "how do I reset my router")
    page.fill("#passages", many)
    page.evaluate("() => { window.__updates = []; }")
    page.click("#rerank")
    page.wait_for_function("() => window.__updates.some((u) => u.detail.scored > 0)", timeout=RUN_TIMEOUT_MS)
    page.select_option("#model", SECOND_MODEL)
    state = wait_for_message(page, r"Cancelled")
    assert state["passages"] == many
    count = page.evaluate("() => window.__updates.length")
    page.wait_for_function("() => document.querySelector('#load-model').dataset.state === 'done'",
                           timeout=RUN_TIMEOUT_MS)
    assert page.evaluate("() => window.__updates.length") == count, "the old model's scores kept arriving"
    run(page)
    assert len(assert_scores_consistent(page)) == 60
    assert page.inner_text('#stats [data-stat="model"]') == SECOND_MODEL
    assert page.inner_text('#stats [data-stat="inferences"]') == "60", "every pair re-scored by the new model"
