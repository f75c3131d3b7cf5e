"""Documents mode in real Chromium with the shipped demo collection: stage 1 (BM25) over every passage, the
cross-encoder on the K candidates, the funnel, "never reached the reranker", and bad files that each explain
themselves without losing what was loaded."""

from __future__ import annotations

import json
from typing import Any

from harness import save_screenshot, wait_for_phase
from harness.page import open_page, wait_for_done
from harness.paths import ROOT

DEMO = json.loads((ROOT / "static" / "collections" / "index.json").read_text(encoding="utf-8"))[0]
STAGE1_RECORDER = """
document.addEventListener('rerank:stage1', (e) => { (window.__stage1 ||= []).push(e.detail); });
"""
# The text lengths of the first `score` request a worker receives (the cross-encoder's; the vector column comes later).
FIRST_SCORE_SPY = """(() => { const W = window.Worker; window.Worker = class extends W {
  postMessage(msg, ...rest) {
    if (msg && msg.type === "score" && !window.__firstScore) window.__firstScore = msg.pairs.map((p) => p.text.length);
    return super.postMessage(msg, ...rest);
  } }; })();"""
DOC_ROWS_JS = """() => [...document.querySelectorAll('#results > li.passage')].map(li => ({
  index: Number(li.dataset.index), rank: Number(li.dataset.rank), state: li.dataset.state,
  score: li.dataset.score === undefined ? null : Number(li.dataset.score), source: li.dataset.source,
  stage1Rank: Number(li.dataset.stage1Rank), stage1Score: Number(li.dataset.stage1Score),
  relevance: li.dataset.relevance === undefined ? null : Number(li.dataset.relevance),
  text: li.querySelector('.passage-text').textContent}))"""


def open_documents(page: Any, base_url: str) -> None:
    """The page in Documents mode, ready."""
    page.add_init_script(STAGE1_RECORDER)
    open_page(page, base_url, "?mode=documents")
    assert page.is_checked('#mode input[value="documents"]')
    assert page.is_visible("#documents-files") and not page.is_visible("#passages")


def wait_indexed(page: Any) -> str:
    """Wait until the collection is split and indexed; the status text."""
    page.wait_for_selector('#documents-status[data-state="ready"]')
    wait_for_phase(page, ("ready", "done"))
    return page.inner_text("#documents-status")


def load_demo(page: Any) -> str:
    """Load the demo collection with its button."""
    page.click("#documents-demo")
    page.wait_for_function("() => document.querySelector('#documents-status .documents-summary')"
                           ".textContent.startsWith('16 files')")
    return wait_indexed(page)


def doc_rows(page: Any) -> list[dict[str, Any]]:
    """Result rows with the documents-mode attributes."""
    return page.evaluate(DOC_ROWS_JS)


def funnel_value(page: Any, stat: str) -> str:
    return page.get_attribute(f'#funnel [data-stat="{stat}"]', "data-value") or ""


def test_retrieve_then_rerank_the_candidates(page: Any, base_url: str) -> None:
    """Stage 1 returns K ids (rerank:stage1), the cross-encoder ranks exactly those, rows carry their facts; the
    shortest candidate goes to the worker first, so the first score is not held up by a full-size passage."""
    page.add_init_script(FIRST_SCORE_SPY)
    open_documents(page, base_url)
    status = load_demo(page)
    assert "passages" in status
    passages = int(funnel_value(page, "passages"))
    assert passages > 300
    page.fill("#candidates", "20")
    page.fill("#query", "How do I remove an old kernel package?")
    page.evaluate("() => { window.__stage1 = []; }")
    page.click("#rerank")
    wait_for_done(page)
    events = page.evaluate("() => window.__stage1")
    assert len(events) == 1
    stage1 = events[0]
    assert set(stage1) == {"order", "k", "retriever", "ms"}
    assert stage1["k"] == 20 and stage1["retriever"] == "bm25" and len(stage1["order"]) == 20
    final = doc_rows(page)
    assert len(final) == 20 and all(r["state"] == "scored" for r in final)
    lengths = page.evaluate("() => window.__firstScore")
    assert len(lengths) >= 20 and lengths[0] == min(lengths), lengths
    assert sorted(r["stage1Rank"] for r in final) == list(range(1, 21))
    by_stage1 = sorted(final, key=lambda r: r["stage1Rank"])
    assert [r["index"] for r in by_stage1] == stage1["order"]
    assert all(r["source"] in DEMO["files"] for r in final)
    s1_scores = [r["stage1Score"] for r in by_stage1]
    assert s1_scores == sorted(s1_scores, reverse=True) and s1_scores[0] > 0
    scores = [r["score"] for r in final]
    assert scores == sorted(scores, reverse=True)
    assert [r["rank"] for r in final] == list(range(1, 21))
    assert funnel_value(page, "candidates") == "20"
    assert funnel_value(page, "sent") == page.input_value("#top-k")
    assert "ms" in page.inner_text('#funnel [data-stat="candidates"]')
    page.click("#export-csv")
    page.wait_for_function("() => document.getElementById('export-preview').value.includes('stage1_rank')")
    assert "rerank_score" in page.input_value("#export-preview")
    save_screenshot(page, "documents-run")
    # The share link carries the query and settings, never the collection.
    page.click("#share")
    page.wait_for_function("() => document.getElementById('share-url').value.includes('mode=documents')")
    link = page.input_value("#share-url")
    assert "k=20" in link and "retriever=bm25" in link and "?s=" not in link and "&s=" not in link
    assert "documents stay on this device" in page.inner_text("#status")
    page.goto(link)
    wait_for_phase(page, "ready")
    assert page.is_checked('#mode input[value="documents"]')
    assert page.input_value("#query") == "How do I remove an old kernel package?"
    assert page.input_value("#candidates") == "20"


def test_hybrid_stage1_fuses_bm25_and_the_bi_encoder(page: Any, base_url: str) -> None:
    """Vectors come from the bundled bi-encoder over every passage; hybrid fuses them with BM25."""
    open_documents(page, base_url)
    page.fill("#passage-budget", "1000")  # fewer, longer passages: the bi-encoder embeds each one per query
    load_demo(page)
    page.fill("#candidates", "10")
    page.select_option("#retriever", "hybrid")
    index = next(i for i, q in enumerate(DEMO["queries"]) if "pay" in q["query"])
    page.evaluate("() => { window.__stage1 = []; }")
    page.select_option("#demo-query", str(index))
    wait_for_done(page)
    [stage1] = page.evaluate("() => window.__stage1")
    assert stage1["retriever"] == "hybrid" and len(stage1["order"]) == 10
    final = doc_rows(page)
    assert sorted(r["index"] for r in final) == sorted(stage1["order"])
    assert all(r["state"] == "scored" for r in final)
    assert "BM25 + vectors" in page.inner_text('#funnel [data-stat="candidates"]')


def run_labelled_query_stage1_misses(page: Any) -> None:
    """Load the demo, set K = 10 and pick the labelled "pay" query, whose answer BM25 ranks far below 10."""
    load_demo(page)
    page.fill("#candidates", "10")
    index = next(i for i, q in enumerate(DEMO["queries"]) if "pay" in q["query"])
    page.select_option("#demo-query", str(index))
    wait_for_done(page)
    page.wait_for_selector("#missed li[data-source]")


def test_labelled_query_shows_what_never_reached_the_reranker(page: Any, base_url: str) -> None:
    """One pick of a labelled query searches, reranks and marks its answer; stage 1 missed it at K = 10."""
    open_documents(page, base_url)
    run_labelled_query_stage1_misses(page)
    missed = page.locator("#missed li[data-source]").first
    assert missed.get_attribute("data-source") == "basic-defs.en.html"
    rank = missed.get_attribute("data-rank")
    assert rank and int(rank) > 10, rank
    assert f"K = {rank}" in missed.inner_text() and "never reached the reranker" in missed.inner_text()
    assert "0 of 1" in page.inner_text("#recall")
    # Marking a reranked row relevant counts it as found.
    page.locator("#results > li.passage .relevance-box").first.check()
    page.wait_for_function("() => document.getElementById('recall').textContent.includes('1 of 2')")
    save_screenshot(page, "documents-missed")


def test_bad_files_explain_themselves_and_lose_nothing(page: Any, base_url: str) -> None:
    """Binary, non-UTF-8, empty and duplicate files each get a message; HTML markup is text, scripts never run."""
    open_documents(page, base_url)
    page.evaluate("() => { window.__ran = false; }")
    notes = "Tide tables list the times of high water.\\n\\nThe moon pulls the oceans into two bulges."
    html = ("<html><head><title>Hostile</title><script>window.__ran = true;</script></head><body>"
            "<h1>Harbour notes</h1><p>The harbour gate closes &lt;script&gt;window.__ran = true&lt;/script&gt; "
            "at every low tide.</p><img src=x onerror=\"window.__ran = true\"><p>Boats wait for the tide.</p>"
            "</body></html>")
    page.set_input_files("#documents-files", [
        {"name": "notes.md", "mimeType": "text/markdown", "buffer": notes.replace("\\n", "\n").encode()},
        {"name": "copy.md", "mimeType": "text/markdown", "buffer": notes.replace("\\n", "\n").encode()},
        {"name": "photo.png", "mimeType": "image/png", "buffer": b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4},
        {"name": "empty.txt", "mimeType": "text/plain", "buffer": b""},
        {"name": "latin.txt", "mimeType": "text/plain", "buffer": "Café tides at the quai, déjà vu.".encode("latin-1")},
        {"name": "harbour.html", "mimeType": "text/html", "buffer": html.encode()},
    ])
    status = wait_indexed(page)
    assert "1 duplicate" in status, status
    assert "photo.png" in status and "empty.txt" in status and "latin.txt" in status, status
    codes = page.evaluate("() => [...document.querySelectorAll('.documents-note')].map(li => li.dataset.code)")
    assert {"duplicate", "binary_file", "empty_file", "not_utf8"} <= set(codes), codes
    before = int(page.inner_text('#funnel [data-stat="passages"] .funnel-n'))
    page.fill("#candidates", "10")
    page.fill("#query", "when does the harbour gate close")
    page.click("#rerank")
    wait_for_done(page)
    texts = [r["text"] for r in doc_rows(page)]
    assert any("<script>window.__ran = true</script>" in t for t in texts), texts
    assert page.evaluate("() => window.__ran") is False
    assert page.locator("#results script, #results img").count() == 0
    # A later bad load keeps what was loaded.
    page.set_input_files("#documents-files", [{"name": "again.bin", "mimeType": "application/octet-stream",
                                               "buffer": b"\x00\x01\x02\x03" * 64}])
    page.wait_for_function("() => [...document.querySelectorAll('.documents-note')]"
                           ".some(li => li.textContent.includes('again.bin'))")
    wait_indexed(page)
    assert int(page.inner_text('#funnel [data-stat="passages"] .funnel-n')) == before
    assert page.locator("#results > li.passage").count() == len(texts)


def test_a_file_over_the_size_limit_is_refused_before_reading(page: Any, base_url: str) -> None:
    """The limit is stated up front; a larger file gets a message naming it, the other file is read."""
    open_documents(page, base_url)
    assert "5,000" in page.inner_text("#documents-hint") and "5.0 MB" in page.inner_text("#documents-hint")
    page.set_input_files("#documents-files", [
        {"name": "huge.txt", "mimeType": "text/plain", "buffer": b"word " * 1_000_001},
        {"name": "small.txt", "mimeType": "text/plain", "buffer": b"A small file about tides.\n\nAnd harbours."},
    ])
    status = wait_indexed(page)
    assert "huge.txt" in status and status.startswith("1 file"), status
    assert page.locator('.documents-note[data-code="file_too_large"]').count() == 1


def test_switching_mode_mid_run_stops_it_and_keeps_everything(page: Any, base_url: str) -> None:
    """Passages typed and documents loaded both survive a mode switch during a run; Passages mode looks as before."""
    open_documents(page, base_url)
    page.click('#mode input[value="passages"]')
    page.fill("#passages", "first passage\nsecond passage")
    page.click('#mode input[value="documents"]')
    load_demo(page)
    page.fill("#candidates", "200")
    page.fill("#query", "Which package installed this file on my system?")
    page.click("#rerank")
    wait_for_phase(page, "scoring")
    page.click('#mode input[value="passages"]')
    wait_for_phase(page, "ready")
    assert "switched to passages mode" in page.inner_text("#status")
    assert page.input_value("#passages") == "first passage\nsecond passage"
    assert page.is_visible("#passages") and page.is_visible("#presets")
    assert not page.is_visible("#documents-panel") and not page.is_visible("#funnel-panel")
    page.click('#mode input[value="documents"]')
    assert page.inner_text("#documents-status .documents-summary").startswith("16 files")


def test_axe_finds_nothing_in_documents_mode(page: Any, base_url: str) -> None:
    """The new controls, status, funnel and missed list pass axe (WCAG 2.1 AA)."""
    from test_a11y import axe_violations  # noqa: PLC0415 - the one axe runner
    page.emulate_media(reduced_motion="reduce")
    open_documents(page, base_url)
    assert axe_violations(page) == []
    run_labelled_query_stage1_misses(page)
    for theme in ("light", "dark"):
        if page.evaluate("() => document.documentElement.dataset.theme") != theme:
            page.click("#theme-toggle")
        assert axe_violations(page) == [], theme
