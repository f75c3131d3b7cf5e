"""Bad and hostile input in the page: specific messages next to the field, nothing typed is lost,
HTML stays text, any script survives, and a model that fails to load is reported and can be retried."""

from __future__ import annotations

from typing import Any

import pytest

from harness import wait_for_phase
from harness.page import RUN_TIMEOUT_MS, assert_final_order, load_preset, open_page, rows, run


def press_rerank_expect_error(page: Any, field: str, needle: str) -> str:
    """Press Rerank; the run must not start and #<field>-error must contain `needle`."""
    page.click("#rerank")
    page.wait_for_function("id => document.getElementById(id).textContent.trim() !== ''", arg=f"{field}-error")
    message = page.inner_text(f"#{field}-error")
    assert needle.lower() in message.lower(), message
    assert page.get_attribute(f"#{field}", "aria-invalid") == "true"
    assert page.evaluate("() => document.documentElement.dataset.phase") in ("ready", "done")
    return message


def test_bad_input_gets_a_specific_message_and_keeps_the_text(page: Any, base_url: str) -> None:
    """Empty query, one passage, too many passages and broken JSON each explain themselves in place."""
    open_page(page, base_url)
    passages = "The first passage.\nThe second passage."
    page.fill("#passages", passages)
    press_rerank_expect_error(page, "query", "type a query")
    assert page.input_value("#passages") == passages

    page.fill("#query", "  which passage?  ")
    page.fill("#passages", "Only this one line.")
    press_rerank_expect_error(page, "passages", "only one passage")
    assert page.input_value("#passages") == "Only this one line."
    assert page.input_value("#query") == "  which passage?  "
    assert page.inner_text("#query-error") == "", "a fixed field must lose its message"

    many = "\n".join(f"line {i}" for i in range(2_001))
    page.fill("#passages", many)
    message = press_rerank_expect_error(page, "passages", "2,000")
    assert "2,001" in message
    assert page.input_value("#passages") == many

    page.check('input[name="mode"][value="json"]')
    page.fill("#passages", '["first", "second",')
    press_rerank_expect_error(page, "passages", "not valid JSON")
    assert page.input_value("#passages") == '["first", "second",'

    page.fill("#top-k", "0")
    page.wait_for_function("() => document.getElementById('top-k-error').textContent !== ''")
    assert "whole number" in page.inner_text("#top-k-error")
    page.fill("#top-k", "5")
    page.check('input[name="mode"][value="json"]')
    page.fill("#passages", '["first passage", {"text": "second passage", "relevance": 2}]')
    run(page)
    final = rows(page)
    assert_final_order(final)
    assert {r["text"]: r["relevance"] for r in final} == {"first passage": None, "second passage": 2}


HOSTILE = [
    "<script>window.__pwned = 1</script>Plain words after a script tag.",
    '<img src="x-does-not-exist.png" onerror="window.__pwned = 2">An image tag with onerror.',
    "<b>bold</b> &amp; &lt;entities&gt; stay literal.",
    "</textarea><textarea>closing the textarea early",
    '<a href="javascript:window.__pwned=3">a javascript: link</a>',
]
UNICODE = [
    "Emoji survive: the tide 🌊 rises twice 🌙🌕 a day 👍🏽.",
    "العربية: المد والجزر يحدثان مرتين في اليوم بسبب القمر.",
    "עברית: הגאות והשפל נגרמים בגלל הירח.",
    "中文：潮汐每天两次，因为月球的引力。",
    "日本語：潮の満ち引きは一日二回起こる。",
    "Mixed ‮bidi override‬ and zero-width\u200bspace text.",
]


def test_html_is_inert_and_any_script_is_shown_exactly(page: Any, base_url: str) -> None:
    """Markup in passages and the query is displayed as text and never executed; RTL/CJK/emoji round-trip."""
    open_page(page, base_url)
    page.fill("#query", "<img src=q onerror=\"window.__pwned=9\"> why two tides? 🌊")
    texts = HOSTILE + UNICODE
    page.fill("#passages", "\n".join(texts))
    run(page)
    final = rows(page)
    assert sorted(r["text"] for r in final) == sorted(texts)
    assert_final_order(final)
    assert page.evaluate("() => window.__pwned") is None
    assert page.locator("#results img, #results script, #results b, #results a[href], #results textarea").count() == 0
    assert page.locator("#compare img, #compare script, #compare b, #compare a[href]").count() == 0
    assert page.evaluate("() => [...document.querySelectorAll('#results .passage-text')].every(p => p.dir === 'auto')")
    assert "Done:" in page.inner_text("#status")
    assert page.input_value("#passages") == "\n".join(texts)


@pytest.mark.allow_console_errors("404", "Failed to load resource", "model")
def test_model_failure_is_reported_and_retry_works(page: Any, base_url: str) -> None:
    """A model file that 404s gives a message by the model picker; inputs survive; Rerank retries once fixed."""
    page.route("**/models/**/*.onnx", lambda route: route.fulfill(status=404, body="missing"))
    open_page(page, base_url, wait=None)
    wait_for_phase(page, "error", timeout=RUN_TIMEOUT_MS)
    message = page.inner_text("#model-error")
    assert message.strip(), "the model picker must say what went wrong"
    assert page.get_attribute("#load-model", "data-state") == "error"
    data = load_preset(page, "shop-wide-hiking-boots")  # the rest of the page still works
    page.fill("#query", data["query"] + " (typed)")
    page.unroute("**/models/**/*.onnx")
    page.click("#rerank")  # retries the model, then runs the queued ranking
    wait_for_phase(page, "done", timeout=RUN_TIMEOUT_MS)
    assert page.inner_text("#model-error") == ""
    assert page.input_value("#query") == data["query"] + " (typed)"
    assert_final_order(rows(page))


@pytest.mark.allow_console_errors("404", "Failed to load resource")
def test_python_that_cannot_load_is_reported_and_the_inputs_still_work(page: Any, base_url: str) -> None:
    """Pyodide's wasm missing: the page names the file instead of loading forever; presets still fill in."""
    page.route("**/vendor/pyodide/pyodide.asm.wasm", lambda route: route.fulfill(status=404, body="missing"))
    open_page(page, base_url, wait=None)
    wait_for_phase(page, "error", timeout=RUN_TIMEOUT_MS)
    status = page.inner_text("#status")
    assert "Python could not start" in status and "pyodide.asm.wasm" in status, status
    assert page.get_attribute("#load-python", "data-state") == "error"
    data = load_preset(page, "rag-tides")
    assert page.input_value("#passages").split("\n")[0] == data["passages"][0]["text"]
