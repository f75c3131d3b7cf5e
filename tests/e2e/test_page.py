"""The page end to end: the DOM contract, live re-sort, keyboard flow, incremental re-scoring, windows.

Real Chromium, real Pyodide running py/reranker through py/glue.py, the real scoring worker and bundled model.
Model quality is not asserted here (the bundled model may still be a placeholder): only behaviour."""

from __future__ import annotations

from typing import Any

from harness import wait_for_phase
from harness.page import (RUN_TIMEOUT_MS, assert_final_order, load_preset, open_page, preset, rows, run,
                          stat, updates, wait_for_done)


def test_shell_works_before_python_and_a_queued_rerank_runs_when_ready(page: Any, base_url: str) -> None:
    """Presets and inputs work while the Python glue is held back; Rerank pressed then runs once it is ready."""
    held: list[Any] = []
    page.route("**/py/glue.py", lambda route: held.append(route))
    open_page(page, base_url, wait=None)
    # Wait until PyScript asks for the glue (the interpreter itself is up; nothing can rank yet).
    for _ in range(1800):
        if held:
            break
        page.wait_for_timeout(100)
    assert held, "PyScript never asked for py/glue.py"
    page.wait_for_function("() => document.querySelectorAll('.preset-chip').length >= 6")
    page.wait_for_function("() => document.querySelector('#model').options.length >= 1")
    data = load_preset(page, "support-router-reset")
    assert page.input_value("#passages").split("\n") == [p["text"] for p in data["passages"]]
    assert page.get_attribute('.preset-chip[data-preset="support-router-reset"]', "aria-pressed") == "true"
    page.wait_for_function("() => document.querySelector('#load-model').dataset.state !== 'loading'",
                           timeout=RUN_TIMEOUT_MS)
    assert page.evaluate("() => document.documentElement.dataset.phase") == "loading"
    assert page.evaluate("() => !window.rerankerGlue"), "Python must still be held back"
    assert "once Python is ready" in page.inner_text("#counts")
    page.click("#rerank")
    assert "as soon as Python is ready" in page.inner_text("#status")
    assert page.evaluate("() => document.documentElement.dataset.phase") == "loading"
    held[0].continue_()
    wait_for_done(page)
    phases = page.evaluate("() => window.__phases")
    assert phases[:4] == ["loading", "ready", "scoring", "done"], phases
    assert_final_order(rows(page))
    assert page.inner_text("#python-version").startswith("3.")


def test_live_resort_follows_the_contract(page: Any, base_url: str) -> None:
    """Rows start pending in original order, re-sort as scores land, end in descending score, sunk last."""
    open_page(page, base_url)
    data = load_preset(page, "rag-tides")
    n = len(data["passages"])
    run(page)
    events = updates(page)
    assert len(events) >= 3, f"expected a live re-sort over several updates, got {len(events)}"
    first = events[0]
    assert first["detail"] == {"order": list(range(n)), "scored": 0, "total": n}
    assert all(r["state"] == "pending" for r in first["rows"])
    assert [r["index"] for r in first["rows"]] == list(range(n))
    scored = [e["detail"]["scored"] for e in events]
    assert scored == sorted(scored) and scored[-1] == n
    assert any(0 < s < n for s in scored), f"no intermediate re-sort: {scored}"
    for event in events:
        dom_order = [r["index"] for r in event["rows"]]
        assert dom_order == event["detail"]["order"], "event order differs from the DOM at that moment"
        assert sorted(event["detail"]["order"]) == list(range(n))
        assert sum(r["state"] == "scored" for r in event["rows"]) == event["detail"]["scored"]
        # Every row shows its current place and how far it moved from its original one, at every re-sort
        # (Python sends only the rows whose own facts changed; places follow from the order).
        assert [r["rank"] for r in event["rows"]] == list(range(1, n + 1))
        assert [r["change"] for r in event["rows"]] == [r["index"] + 1 - r["rank"] for r in event["rows"]]
    final = rows(page)
    assert [r["index"] for r in final] == events[-1]["detail"]["order"]
    assert_final_order(final)
    assert [r["text"] for r in sorted(final, key=lambda r: r["index"])] == [p["text"] for p in data["passages"]]
    # Preset labels are shown on the rows, and every column of the comparison has metrics.
    labels = {r["index"]: r["relevance"] for r in final}
    assert labels == {i: p["relevance"] for i, p in enumerate(data["passages"])}
    assert page.locator("#compare .compare-col").count() >= 3
    assert page.locator("#compare .compare-col .metric-value").count() >= 6
    # The final announcement names the top passage once.
    status = page.inner_text("#status")
    top_text = final[0]["text"]
    assert status.startswith("Done:") and top_text[:60] in status
    assert stat(page, "passages") == str(n) and stat(page, "inferences") == str(n)
    assert stat(page, "first").endswith("ms") and stat(page, "total").endswith("ms")


def test_threshold_and_top_k_change_the_view_without_rescoring(page: Any, base_url: str) -> None:
    """The slider and the top-k field re-sort and move the cut line; no new inference is issued."""
    open_page(page, base_url)
    data = load_preset(page, "legal-lease-notice")
    n = len(data["passages"])
    run(page)
    assert stat(page, "inferences") == str(n)
    page.evaluate("() => { window.__updates = []; }")
    page.focus("#threshold")
    page.keyboard.press("Home")  # threshold 0: nothing sinks
    page.wait_for_function("() => !document.querySelector('#results li.passage[data-sunk=\"true\"]')")
    assert page.inner_text("#threshold-value") == "0.00"
    assert_final_order(rows(page), threshold=0.0)
    page.keyboard.press("End")  # threshold 1: everything sinks
    page.wait_for_function(
        "n => document.querySelectorAll('#results li.passage[data-sunk=\"true\"]').length === n", arg=n)
    assert_final_order(rows(page), threshold=1.0)
    page.fill("#top-k", "3")
    page.wait_for_function("() => document.querySelector('#results .cut-line').dataset.cutAfter === '3'")
    before_cut = page.evaluate(
        "() => [...document.querySelector('#results').children].findIndex(li => li.classList.contains('cut-line'))")
    assert before_cut == 3, "the cut line must sit after the third row"
    assert len(updates(page)) >= 3, "every re-sort dispatches rerank:update"
    assert stat(page, "inferences") == str(n), "changing the view must not score again"
    assert page.evaluate("() => document.documentElement.dataset.phase") == "done"


def test_editing_one_passage_rescores_exactly_one_pair(page: Any, base_url: str) -> None:
    """Scores are cached per (model, query, text): an edit re-scores one pair, an unchanged re-run none."""
    open_page(page, base_url)
    data = load_preset(page, "code-python-reverse-list")
    n = len(data["passages"])
    run(page)
    assert stat(page, "inferences") == str(n)
    lines = page.input_value("#passages").split("\n")
    lines[4] = lines[4] + " (edited)"
    page.fill("#passages", "\n".join(lines))
    run(page)
    assert stat(page, "inferences") == "1"
    assert stat(page, "cached") == str(n - 1)
    assert any(r["text"].endswith("(edited)") for r in rows(page))
    assert_final_order(rows(page))
    run(page)
    assert stat(page, "inferences") == "0"
    assert_final_order(rows(page))


def test_keyboard_only_flow_runs_labels_and_cancels(page: Any, base_url: str) -> None:
    """Tab to the fields, type, Ctrl+Enter runs, Space ticks a label, Enter re-runs, Esc cancels."""
    open_page(page, base_url)

    def tab_to(element_id: str) -> None:
        for _ in range(60):
            if page.evaluate("() => document.activeElement && document.activeElement.id") == element_id:
                return
            page.keyboard.press("Tab")
        raise AssertionError(f"#{element_id} cannot be reached with Tab")

    tab_to("query")
    page.keyboard.type("how do I boil an egg")
    tab_to("passages")
    page.keyboard.type("Boil the egg for eight minutes.\nThe stock market fell today.\nEggs come from hens.")
    page.evaluate("() => { window.__updates = []; }")
    page.keyboard.press("Control+Enter")
    wait_for_done(page)
    final = rows(page)
    assert len(final) == 3
    assert_final_order(final)
    # Label the top row by keyboard: focus its checkbox and press Space.
    box = page.locator("#results li.passage").first.locator("input.relevance-box")
    box.focus()
    page.keyboard.press("Space")
    page.wait_for_function("() => document.querySelector('#results li.passage').dataset.relevance === '2'")
    assert page.locator("#compare .metric-value").count() >= 3
    # Enter in the query re-runs (all cached), then a long run is cancelled with Esc.
    page.focus("#query")
    page.keyboard.press("Enter")
    wait_for_done(page)
    assert stat(page, "inferences") == "0"
    many = "\n".join(f"Passage {i}: notes about topic {i % 9} and a detail numbered {i * 7}." for i in range(160))
    page.fill("#passages", many)
    page.evaluate("() => { window.__updates = []; }")
    page.focus("#passages")
    page.keyboard.press("Control+Enter")
    page.wait_for_function("() => window.__updates.some(u => u.detail.scored > 0)", timeout=RUN_TIMEOUT_MS)
    page.keyboard.press("Escape")
    wait_for_phase(page, "ready")
    assert "Cancelled" in page.inner_text("#status")
    states = [r["state"] for r in rows(page)]
    assert "pending" in states and "scored" in states
    assert page.input_value("#passages") == many
    assert page.input_value("#query") == "how do I boil an egg"


def test_long_passages_show_the_winning_window(page: Any, base_url: str) -> None:
    """Passages longer than the model's window are split; the winning window is highlighted in the row."""
    open_page(page, base_url)
    load_preset(page, "long-everest-boiling")
    page.wait_for_function("() => /[1-9]\\d* windowed/.test(document.querySelector('#counts').textContent)")
    run(page)
    assert_final_order(rows(page))
    marks = page.locator("#results li.passage mark.passage-window")
    assert marks.count() >= 1
    text = marks.first.inner_text()
    assert len(text) > 20
    row_text = marks.first.locator("xpath=ancestor::li[contains(@class,'passage')]").locator(".passage-text")
    assert text.replace("Best window: ", "") in row_text.inner_text().replace("Best window: ", "")


def test_url_parameters_prefill_and_run(page: Any, base_url: str) -> None:
    """?q=&p=&model=&run=1 fills the inputs and scores once ready, without a click."""
    from urllib.parse import quote

    passages = ["Tides rise twice a day because of the Moon.", "Bananas are rich in potassium.",
                "Der Mond verursacht Gezeiten.", "潮汐は月の引力で起こる。"]
    query = "what causes tides?"
    open_page(page, base_url, f"?q={quote(query)}&p={quote(chr(10).join(passages))}"
                              f"&model={quote(preset_model())}&run=1", wait=None)
    wait_for_done(page)
    assert page.input_value("#query") == query
    assert page.input_value("#passages") == "\n".join(passages)
    final = rows(page)
    assert sorted(r["text"] for r in final) == sorted(passages)
    assert_final_order(final)
    assert page.input_value("#model") == preset_model()


def preset_model() -> str:
    """The default model id (what a link names)."""
    from harness.page import default_model_id

    return default_model_id()


def test_presets_are_all_loadable_and_run(page: Any, base_url: str) -> None:
    """Every preset chip fills the inputs with its labelled passages and scores to a complete order."""
    open_page(page, base_url)
    chips = page.eval_on_selector_all(".preset-chip", "els => els.map(e => e.dataset.preset)")
    assert len(chips) >= 6
    for preset_id in chips:
        data = load_preset(page, preset_id)
        run(page)
        final = rows(page)
        assert len(final) == len(data["passages"]), preset_id
        assert_final_order(final)
        assert {r["index"]: r["relevance"] for r in final} == {
            i: p["relevance"] for i, p in enumerate(preset(preset_id)["passages"])}


def test_index_html_ships_every_reranker_module() -> None:
    """PyScript cannot list directories: the page's `files` config must name every module of py/reranker."""
    import html
    import json
    import re

    from harness.paths import ROOT

    source = (ROOT / "index.html").read_text(encoding="utf-8")
    match = re.search(r"<script type=\"py\" src=\"py/glue.py\" config='([^']*)'", source)
    assert match, "index.html must load py/glue.py with an inline JSON config"
    config = json.loads(html.unescape(match.group(1)))
    assert config["interpreter"] == "app/pyodide-boot.js", "Python starts through the snapshot-aware loader"
    modules = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "py" / "reranker").rglob("*.py"))
    assert sorted(config["files"]) == modules
    for url, target in config["files"].items():
        assert target == url.removeprefix("py/"), (url, target)


def test_a_long_list_ranked_right_after_pasting_is_prepared_in_slices(page: Any, base_url: str) -> None:
    """600 passages pasted and ranked at once (before the live count got to them): Rerank first prepares them in
    short slices, saying so, then scores; every passage is listed and the page keeps what was typed."""
    open_page(page, base_url)
    texts = [p["text"] for p in preset("long-everest-boiling")["passages"]]
    passages = "\n\n".join(f"{texts[i % len(texts)]} (item {i})" for i in range(600))
    page.evaluate("""(passages) => {
      const notes = [];
      new MutationObserver(() => notes.push(document.getElementById('progress-note').textContent))
        .observe(document.getElementById('progress-note'), {childList: true, characterData: true, subtree: true});
      window.__notes = notes;
      document.getElementById('query').value = 'boiling point on a mountain';
      const area = document.getElementById('passages');
      area.value = passages;
      area.dispatchEvent(new Event('input', {bubbles: true}));
      document.getElementById('rerank').click();
    }""", passages)
    page.wait_for_function("() => document.documentElement.dataset.phase === 'scoring'")
    page.click("#cancel")
    page.wait_for_function("() => document.querySelectorAll('#results li.passage').length === 600")
    notes = page.evaluate("() => window.__notes")
    assert "Preparing 600 passages…" in notes
    assert page.input_value("#passages") == passages
