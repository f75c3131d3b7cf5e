"""Share links, exports and the two-model comparison, driven through the page like a person would."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from harness.page import (RECORDER, assert_final_order, default_model_id, load_preset, open_page, preset, rows, run,
                          stat, wait_for_done)
from support.hub import hub_mirror, hub_site  # noqa: F401 - fixtures

SECOND_MODEL = "Xenova/ms-marco-TinyBERT-L-2-v2"


def share_link(page: Any) -> str:
    """Press "Copy share link" and return the link the page shows."""
    page.evaluate("() => { document.querySelector('#share-url').value = ''; }")
    page.click("#share")
    page.wait_for_function("() => document.querySelector('#share-url').value !== ''")
    return page.input_value("#share-url")


def test_preset_shares_as_its_short_id_and_restores(page: Any, base_url: str, guarded_context: Any) -> None:
    """An unchanged preset becomes ?s=1p.<id>; opening the link loads the preset and ranks it."""
    open_page(page, base_url)
    load_preset(page, "rag-tides")
    link = share_link(page)
    assert link.endswith("?s=1p.rag-tides"), link
    other = guarded_context.context.new_page()
    other.add_init_script(RECORDER)
    other.goto(link)
    wait_for_done(other)
    data = preset("rag-tides")
    assert other.input_value("#query") == data["query"]
    final = rows(other)
    assert_final_order(final)
    assert {r["index"]: r["relevance"] for r in final} == {i: p["relevance"] for i, p in enumerate(data["passages"])}
    other.close()


def test_share_link_restores_the_exact_state(page: Any, base_url: str, guarded_context: Any) -> None:
    """Query, passages, labels, threshold and top-k come back from the link, and the ranking is identical."""
    open_page(page, base_url)
    query = "Pourquoi y a-t-il deux marées par jour ? 🌊"
    passages = ["La Lune attire l'eau des océans.", "Les marées montent deux fois par jour.",
                "Le pain se fait avec de la farine.", "潮汐は月の引力で起こる。", "A line with | pipes, \"quotes\" and <tags>."]
    page.fill("#query", query)
    page.fill("#passages", "\n".join(passages))
    page.focus("#threshold")
    for _ in range(10):
        page.keyboard.press("ArrowLeft")
    assert page.inner_text("#threshold-value") == "0.40"
    page.fill("#top-k", "2")
    run(page)
    page.locator("#results li.passage").nth(1).locator("input.relevance-box").check()
    page.wait_for_function("() => document.querySelectorAll('#results li.passage[data-relevance=\"2\"]').length === 1")
    labelled = page.get_attribute('#results li.passage[data-relevance="2"]', "data-index")
    before = rows(page)
    link = share_link(page)
    assert "?s=1" in link and "Pourquoi" not in link

    other = guarded_context.context.new_page()
    other.add_init_script(RECORDER)
    other.goto(link)
    wait_for_done(other)
    assert other.input_value("#query") == query
    assert other.input_value("#passages") == "\n".join(passages)
    assert other.input_value("#threshold") == "0.4"
    assert other.input_value("#top-k") == "2"
    after = rows(other)
    assert [(r["index"], r["score"], r["sunk"]) for r in after] == [(r["index"], r["score"], r["sunk"]) for r in before]
    assert other.get_attribute('#results li.passage[data-relevance="2"]', "data-index") == labelled
    assert_final_order(after, threshold=0.4)
    assert other.evaluate(
        "() => [...document.querySelector('#results').children].findIndex(li => li.classList.contains('cut-line'))") == 2
    other.close()


def test_a_damaged_share_link_explains_itself(page: Any, base_url: str) -> None:
    """A cut or garbled link shows a message by the share controls; the page stays usable."""
    open_page(page, base_url, "?s=1z.not*base64")
    page.wait_for_function("() => document.querySelector('#share-error').textContent !== ''")
    assert "damaged" in page.inner_text("#share-error")
    load_preset(page, "es-cielo-azul")
    run(page)
    assert_final_order(rows(page))


def test_exports_match_the_ranking(page: Any, base_url: str, guarded_context: Any) -> None:
    """Copy JSON / Markdown / CSV produce the ranking on screen, in display order, via the clipboard."""
    guarded_context.context.grant_permissions(["clipboard-read", "clipboard-write"])
    open_page(page, base_url)
    data = load_preset(page, "de-blaetter-gruen")
    n = len(data["passages"])
    run(page)
    final = rows(page)

    page.click("#export-json")
    page.wait_for_function("() => document.querySelector('#export-preview').dataset.format === 'json'")
    exported = json.loads(page.input_value("#export-preview"))
    assert exported["query"] == data["query"] and exported["model"] == default_model_id()
    assert [p["position"] - 1 for p in exported["passages"]] == [r["index"] for r in final]
    assert [p["rank"] for p in exported["passages"]] == list(range(1, n + 1))
    assert [p["text"] for p in exported["passages"]] == [r["text"] for r in final]
    for p, r in zip(exported["passages"], final):
        assert abs(p["score"] - r["score"]) < 1e-9
    assert page.evaluate("() => navigator.clipboard.readText()") == page.input_value("#export-preview")

    page.click("#export-csv")
    page.wait_for_function("() => document.querySelector('#export-preview').dataset.format === 'csv'")
    table = list(csv.reader(io.StringIO(page.input_value("#export-preview"), newline="")))
    assert table[0][:3] == ["rank", "position", "score"] and len(table) == n + 1
    assert [int(row[1]) - 1 for row in table[1:]] == [r["index"] for r in final]

    page.click("#export-markdown")
    page.wait_for_function("() => document.querySelector('#export-preview').dataset.format === 'markdown'")
    lines = [ln for ln in page.input_value("#export-preview").splitlines() if ln.startswith("| ")]
    assert len(lines) == n + 2  # header, alignment row, one row per passage
    assert lines[2].startswith(f"| 1 | {final[0]['index'] + 1} |")
    assert "copied to the clipboard" in page.inner_text("#status")


def test_two_models_side_by_side_each_with_its_own_timing(page: Any, hub_site: Any) -> None:  # noqa: F811
    """A second model (from the hub mirror) ranks the same input in its own column with its own stats."""
    hub_site.mirror.add_model(SECOND_MODEL)
    open_page(page, hub_site.url)
    data = load_preset(page, "support-router-reset")
    n = len(data["passages"])
    page.select_option("#model-b", SECOND_MODEL)
    assert page.is_visible("#results-col-b")
    run(page)
    assert_final_order(rows(page))
    lane_b = page.evaluate("""() => [...document.querySelectorAll('#results-b li.passage')].map(li => ({
        state: li.dataset.state, score: Number(li.dataset.score), rank: Number(li.dataset.rank)}))""")
    assert len(lane_b) == n and all(r["state"] == "scored" for r in lane_b)
    assert [r["rank"] for r in lane_b] == list(range(1, n + 1))
    assert stat(page, "model", "#stats-b") == SECOND_MODEL
    assert stat(page, "inferences", "#stats-b") == str(n)
    assert stat(page, "total", "#stats-b").endswith("ms") and stat(page, "total").endswith("ms")
    assert page.locator('#compare .compare-col[data-column="cross_encoder_b"]').count() == 1
    assert any(p.startswith(f"/{SECOND_MODEL}/") for p in hub_site.mirror.requests)


def test_vector_search_column_from_a_real_biencoder(page: Any, hub_site: Any, tmp_path: Any) -> None:  # noqa: F811
    """With a bi-encoder in the catalog, the comparison gains a vector-search column with its own metrics,
    filled after the cross-encoder finished; the bi-encoder is never offered as a reranker."""
    from support.scoring import make_biencoder_dir

    hub_id = "vector-test/all-minilm-l6-v2-int8"
    hub_site.mirror.add_model(hub_id, make_biencoder_dir(tmp_path / "bi"))
    catalog = json.loads((hub_site.dist / "static" / "models.json").read_text(encoding="utf-8"))
    catalog.append({"id": hub_id, "kind": "bi-encoder", "label": "all-MiniLM-L6-v2 (bi-encoder)", "source": "hub",
                    "path": hub_id, "dtype": "q8", "size_bytes": None, "max_length": 256, "calibration": "identity"})
    page.route("**/static/models.json", lambda route: route.fulfill(
        status=200, content_type="application/json", body=json.dumps(catalog)))
    open_page(page, hub_site.url)
    options = page.eval_on_selector_all("#model option, #model-b option", "os => os.map(o => o.value)")
    assert hub_id not in options
    load_preset(page, "rag-tides")
    run(page)
    column = page.locator('#compare .compare-col[data-column="biencoder"]')
    page.wait_for_function(
        "() => { const c = document.querySelector('#compare .compare-col[data-column=\"biencoder\"]');"
        " return c && !c.classList.contains('is-pending') && c.querySelectorAll('.compare-item').length > 0; }")
    assert column.locator(".metric-value").count() == 2
    order = column.locator(".compare-item").evaluate_all("items => items.map(i => Number(i.dataset.index))")
    n = len(preset("rag-tides")["passages"])
    assert len(set(order)) == len(order) and all(0 <= i < n for i in order)
