"""Documents mode's "bad input" rows in real Chromium, each after the demo collection is loaded: every bad file gets
a clear message in #documents-status and the collection already loaded is kept (same files, same passages).

Rows: binary and unreadable files, non-UTF-8 text, empty files, a file over the size limit, 20,000 files at once,
duplicates, a passage longer than the model window, markup and scripts in HTML, switching mode or model mid-run."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from harness import wait_for_phase
from harness.faults import wait_for_message
from harness.page import RUN_TIMEOUT_MS, wait_for_done
from harness.paths import ROOT
from reranker.limits import MAX_FILE_BYTES, MAX_FILES
from reranker.tokenize import estimate_tokens
from reranker.windows import passage_budget, split_windows
from support.hub import hub_mirror, hub_site  # noqa: F401 - fixtures
from test_documents import DEMO, doc_rows, load_demo, open_documents, wait_indexed
from test_incremental import LONG, MAX_LENGTH, WORKER_SPY, passage_of

SECOND_MODEL = "Xenova/ms-marco-TinyBERT-L-2-v2"
SUMMARY = "#documents-status .documents-summary"
# Long main-thread tasks (PerformanceObserver 'longtask'), and when the file input's change event fired.
LONGTASKS = """
window.__longtasks = [];
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) window.__longtasks.push([e.startTime, e.duration]);
}).observe({type: 'longtask'});
document.addEventListener('change', (e) => {
  if (e.target.id === 'documents-files') window.__picked = performance.now();
}, true);
"""


def passages(page: Any) -> int:
    return int(page.get_attribute('#funnel [data-stat="passages"]', "data-value") or 0)


def notes(page: Any) -> list[dict[str, str]]:
    """The status notes the page shows: {code, skipped, text}."""
    return page.evaluate("""() => [...document.querySelectorAll('#documents-status .documents-note')].map(li => ({
      code: li.dataset.code, skipped: li.dataset.skipped, text: li.textContent}))""")


def demo_loaded(page: Any) -> int:
    """Documents mode with the demo collection loaded; its passage count."""
    load_demo(page)
    return passages(page)


def pick(page: Any, files: list[Any]) -> str:
    """Pick files (payload dicts or paths) and wait until they are read and indexed; the status text."""
    page.evaluate("() => { document.getElementById('documents-status').dataset.state = 'picking'; }")
    page.set_input_files("#documents-files", files)
    return wait_indexed(page)


def assert_kept(page: Any, before: int, files: int = len(DEMO["files"])) -> None:
    """The demo collection is still there: same passage count, the files it had."""
    assert passages(page) == before
    assert page.inner_text(SUMMARY).startswith(f"{files:,} files, {before:,} passages"), page.inner_text(SUMMARY)


def search(page: Any, query: str, k: int = 10) -> list[dict[str, Any]]:
    """Run a query in Documents mode; the reranked rows."""
    page.fill("#candidates", str(k))
    page.fill("#query", query)
    page.click("#rerank")
    wait_for_done(page)
    return doc_rows(page)


def test_binary_and_unreadable_files_are_named_and_skipped(page: Any, base_url: str, tmp_path: Path) -> None:
    """A damaged PDF, a ZIP, an image, bytes with NULs and a file that changed on disk after it was picked (the browser
    refuses to read it) are each named with the reason; the demo collection is untouched."""
    page.add_init_script("""document.addEventListener('change', (e) => {
      if (e.target.id === 'documents-files') for (const f of e.target.files) void f.size; }, true);""")
    open_documents(page, base_url)
    held: list[Any] = []
    page.route("**/static/collections/index.json", lambda route: held.append(route))
    page.click("#documents-demo")
    while not held:
        page.wait_for_timeout(50)
    changed = tmp_path / "changed.txt"
    changed.write_text("This note was edited after it was picked.\n")
    page.set_input_files("#documents-files", [changed])  # read after the demo: the load is queued behind it
    changed.write_text("This note was edited after it was picked, and is longer now.\n")
    held[0].continue_()
    page.wait_for_function("() => [...document.querySelectorAll('.documents-note')]"
                           ".some(li => li.textContent.includes('changed.txt'))")
    wait_indexed(page)
    [unreadable] = [n for n in notes(page) if "changed.txt" in n["text"]]
    assert unreadable["code"] == "unreadable" and "could not be read" in unreadable["text"], unreadable
    assert "; 1 file skipped (1 unreadable)." in page.inner_text(SUMMARY)
    before = passages(page)
    assert_kept(page, before)
    status = pick(page, [
        {"name": "paper.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.7\n" + bytes(range(256)) * 8},
        {"name": "report.docx", "mimeType": "application/zip", "buffer": b"PK\x03\x04" + bytes(range(256)) * 8},
        {"name": "photo.jpg", "mimeType": "image/jpeg", "buffer": b"\xff\xd8\xff\xe0" + bytes(range(256)) * 8},
        {"name": "data.txt", "mimeType": "text/plain", "buffer": b"some text\x00\x00\x01\x02" * 50},
    ])
    assert "5 files skipped (3 not text, " in status and "1 unreadable" in status, status
    assert "1 damaged PDF" in status, status
    shown = {n["text"].split(" ")[0]: n for n in notes(page)}
    pdf = shown.pop("paper.pdf")
    assert pdf["code"] == "pdf_broken" and "damaged" in pdf["text"] and pdf["skipped"] == "true", pdf
    assert "ZIP archive" in shown["report.docx"]["text"] and "JPEG image" in shown["photo.jpg"]["text"]
    assert "not a text file" in shown["data.txt"]["text"]
    assert all(n["code"] == "binary_file" and n["skipped"] == "true" for n in shown.values())
    assert page.inner_text("#documents-error") == ""
    assert_kept(page, before)


def test_text_that_is_not_utf8_is_read_with_replacement_and_the_page_says_so(page: Any, base_url: str) -> None:
    """Latin-1 bytes are read with U+FFFD where they are not UTF-8; the note counts them; UTF-16 with a BOM reads
    cleanly; the demo collection stays."""
    open_documents(page, base_url)
    before = demo_loaded(page)
    latin = "Marée haute au quai de Saint-Malo: la capitainerie ouvre à l'écluse.".encode("latin-1")
    utf16 = "Gezeiten im Hafen: die Schleuse öffnet bei Flut.".encode("utf-16")
    status = pick(page, [{"name": "maree.txt", "mimeType": "text/plain", "buffer": latin},
                         {"name": "gezeiten.txt", "mimeType": "text/plain", "buffer": utf16}])
    assert status.startswith("18 files"), status
    [note] = [n for n in notes(page) if n["code"] == "not_utf8"]
    assert note["text"].startswith("maree.txt is not valid UTF-8: 3 characters could not be read and show as \ufffd")
    assert note["skipped"] == "false"
    assert passages(page) == before + 2
    texts = [r["text"] for r in search(page, "capitainerie quai Saint-Malo")]
    assert any(t.startswith("Mar\ufffde haute au quai") for t in texts), texts
    assert any(t == "Gezeiten im Hafen: die Schleuse öffnet bei Flut." for t in
               (r["text"] for r in search(page, "Schleuse Hafen Gezeiten"))), "UTF-16 with a BOM reads cleanly"


def test_empty_files_are_named_and_skipped(page: Any, base_url: str) -> None:
    """Zero bytes, only whitespace, HTML without text and a CSV with a header only: each named, nothing lost."""
    open_documents(page, base_url)
    before = demo_loaded(page)
    status = pick(page, [
        {"name": "zero.txt", "mimeType": "text/plain", "buffer": b""},
        {"name": "blank.md", "mimeType": "text/markdown", "buffer": b" \n\n\t \r\n"},
        {"name": "bare.html", "mimeType": "text/html",
         "buffer": b"<html><body><script>1</script><p> </p></body></html>"},
        {"name": "header.csv", "mimeType": "text/csv", "buffer": b"id,text\n"},
    ])
    assert "4 files skipped" in status and "3 empty" in status, status
    shown = {n["text"].split(" ")[0]: n for n in notes(page)}
    assert shown["zero.txt"]["text"] == "zero.txt is empty." and shown["blank.md"]["text"] == "blank.md is empty."
    assert shown["bare.html"]["text"] == "bare.html has no text."
    assert "header.csv has no rows" in shown["header.csv"]["text"]
    assert all(n["skipped"] == "true" for n in shown.values())
    assert_kept(page, before)


def test_a_file_over_the_size_limit_is_refused_unread_and_the_collection_stays(
        page: Any, base_url: str, tmp_path: Path) -> None:
    """The limit is in the page before anything is picked; a file past it is refused by its size (never read,
    so even a far larger file costs nothing) and the demo collection stays."""
    open_documents(page, base_url)
    hint = page.inner_text("#documents-hint")
    assert f"{MAX_FILE_BYTES / 1e6:.1f} MB" in hint and f"{MAX_FILES:,}" in hint, hint
    before = demo_loaded(page)
    huge = tmp_path / "huge.txt"
    with huge.open("wb") as out:  # sparse: 2 GB on disk costs nothing, reading it would freeze the tab
        out.truncate(2_000_000_000)
    over = tmp_path / "just-over.txt"
    over.write_bytes(b"a" * (MAX_FILE_BYTES + 1))
    started = time.monotonic()
    status = pick(page, [huge, over])
    assert time.monotonic() - started < 30
    assert "2 files skipped (2 over 5 MB)" in status, status
    shown = {n["text"].split(" ")[0]: n["text"] for n in notes(page)}
    assert shown["huge.txt"] == "huge.txt is 2,000.0 MB; files over 5 MB are not read."
    assert shown["just-over.txt"] == "just-over.txt is 5.0 MB; files over 5 MB are not read."
    assert_kept(page, before)


def test_twenty_thousand_files_load_up_to_the_limit_without_freezing(page: Any, base_url: str, tmp_path: Path) -> None:
    """20,000 picked files: the first ones up to the file limit are read (in slices between frames), the rest are
    refused in one sentence that names the limit; the demo collection is kept and no long task blocks the page."""
    files = []
    for i in range(20_000):
        path = tmp_path / f"note-{i:05d}.txt"
        path.write_bytes(f"Note {i} on the tide at pier {i % 97} and the harbour crane {i % 89}.\n".encode())
        files.append(path)
    page.add_init_script(LONGTASKS)
    open_documents(page, base_url)
    before = demo_loaded(page)
    started = time.monotonic()
    status = pick(page, files)
    took = time.monotonic() - started
    accepted = MAX_FILES - len(DEMO["files"])
    refused = 20_000 - accepted
    assert status.startswith(f"{MAX_FILES:,} files, "), status
    assert f"{refused:,} files skipped ({refused:,} over the {MAX_FILES:,}-file limit)" in status, status
    [limit] = [n for n in notes(page) if n["code"] == "too_many_files"]
    assert limit["text"] == (f"{refused:,} files were not read, from note-{accepted:05d}.txt on: a collection holds "
                             f"at most {MAX_FILES:,} files.")
    assert passages(page) == before + accepted
    picked, tasks = page.evaluate("() => [window.__picked, window.__longtasks]")
    # The task that delivered the pick also holds the browser's own work of making 20,000 File objects: only its
    # part from the change event on is the page's.
    own = [end - picked for start, d in tasks if start <= picked <= (end := start + d)]
    own += [d for start, d in tasks if start > picked]
    longest = max(own, default=0)
    print(f"\n20,000 files: {took:.1f} s to read and index {accepted:,}; longest main-thread task of the page "
          f"{longest:.0f} ms ({len(own)} tasks over 50 ms)")
    assert took < 60, took
    assert longest < 1000, own
    rows = search(page, "How do I remove an old kernel package?")
    assert any(r["source"] in DEMO["files"] for r in rows), "the demo collection is still searched"
    more = tmp_path / "one-more.txt"
    more.write_text("One more note past the limit.\n")
    pick(page, [more])
    assert "one-more.txt was not read: a collection holds at most" in page.inner_text("#documents-status")
    assert passages(page) == before + accepted


def test_duplicate_files_are_left_out_and_counted(page: Any, base_url: str) -> None:
    """The same bytes under other names, in one pick and across picks (a demo file again): kept once, counted."""
    open_documents(page, base_url)
    before = demo_loaded(page)
    tide = b"Spring tides come twice a month, with the new and the full moon.\n"
    demo_file = DEMO["files"][0]
    demo_bytes = (ROOT / "static" / "collections" / DEMO["folder"] / demo_file).read_bytes()
    status = pick(page, [
        {"name": "tides.txt", "mimeType": "text/plain", "buffer": tide},
        {"name": "tides (1).txt", "mimeType": "text/plain", "buffer": tide},
        {"name": "tides-copy.txt", "mimeType": "text/plain", "buffer": tide},
        {"name": "again-" + demo_file, "mimeType": "text/html", "buffer": demo_bytes},
    ])
    assert status.startswith(f"{len(DEMO['files']) + 1} files, {before + 1:,} passages; 3 duplicates left out"), status
    dupes = [n["text"] for n in notes(page) if n["code"] == "duplicate"]
    assert sorted(dupes) == sorted([
        "tides (1).txt has the same content as tides.txt and was left out.",
        "tides-copy.txt has the same content as tides.txt and was left out.",
        f"again-{demo_file} has the same content as {demo_file} and was left out."])
    status = pick(page, [{"name": "tides-again.txt", "mimeType": "text/plain", "buffer": tide}])
    assert "4 duplicates left out" in status and passages(page) == before + 1, status


def test_a_passage_longer_than_the_model_window_is_windowed_as_today(page: Any, base_url: str) -> None:
    """With a 2,000-token passage budget one paragraph becomes one passage far over the model's 256-token window:
    the reranker scores it window by window (as in Passages mode) and the row marks its best window."""
    page.add_init_script(WORKER_SPY)
    open_documents(page, base_url)
    page.fill("#passage-budget", "2000")
    before = demo_loaded(page)
    pick(page, [{"name": "long.txt", "mimeType": "text/plain", "buffer": LONG.encode()}])
    assert passages(page) == before + 1
    query = "how does the package manager verify signatures"
    budget = passage_budget(query, MAX_LENGTH, estimate_tokens)
    windows = split_windows(LONG, budget, estimate_tokens)
    assert len(windows) >= 3
    posted0 = page.evaluate("() => window.__spy.posted.length")
    rows = search(page, query)
    [long_row] = [r for r in rows if r["source"] == "long.txt"]
    assert long_row["state"] == "scored" and "Best window: " in long_row["text"]
    posted = page.evaluate("() => window.__spy.posted")[posted0:]
    stage1_index = long_row["stage1Rank"] - 1  # pair keys name the run's passage: its stage-1 position
    assert sum(passage_of(k) == stage1_index for k in posted) == len(windows), posted
    row = page.locator('#results > li.passage[data-source="long.txt"]')
    assert row.locator("mark.passage-window").count() == 1


def test_markup_and_scripts_in_html_files_are_text_and_never_run(page: Any, base_url: str) -> None:
    """Script, event handlers, iframes, javascript: links and a hostile file name: shown as text, never run, no
    element of theirs in the page; the demo collection stays."""
    open_documents(page, base_url)
    page.evaluate("() => { window.__pwned = null; }")
    before = demo_loaded(page)
    html = ("<html><head><title>Pier</title><script>window.__pwned = 'script'</script>"
            "<style>body { display: none }</style></head><body><h1>Pier rules</h1>"
            "<p>Crane hours &lt;img src=x onerror=\"window.__pwned='entity'\"&gt; are posted at the pier gate.</p>"
            "<img src=x onerror=\"window.__pwned = 'img'\"><svg onload=\"window.__pwned = 'svg'\"></svg>"
            "<iframe srcdoc=\"<script>parent.__pwned='iframe'</script>\"></iframe>"
            "<p><a href=\"javascript:window.__pwned='link'\">Crane schedule</a> for the pier gate.</p></body></html>")
    markdown = "# Pier gate\n\n<script>window.__pwned = 'md'</script> The pier gate crane opens at dawn.\n"
    hostile_name = "<img src=x onerror=window.__pwned='name'>.html"
    pick(page, [{"name": "pier.html", "mimeType": "text/html", "buffer": html.encode()},
                {"name": "gate.md", "mimeType": "text/markdown", "buffer": markdown.encode()},
                {"name": hostile_name, "mimeType": "text/html", "buffer": b"<p>The crane at the pier gate.</p>"}])
    assert passages(page) >= before + 3
    rows = search(page, "pier gate crane")
    texts = " ".join(r["text"] for r in rows)
    assert "Crane hours <img src=x onerror=\"window.__pwned='entity'\"> are posted" in texts, texts
    assert "<script>window.__pwned = 'md'</script>" in texts and "window.__pwned = 'script'" not in texts
    assert hostile_name in {r["source"] for r in rows}
    page.set_input_files("#documents-files", [{"name": hostile_name, "mimeType": "text/plain", "buffer": b""}])
    page.wait_for_function("n => [...document.querySelectorAll('.documents-note')].some(li => li.textContent"
                           ".startsWith(n))", arg=hostile_name)
    wait_indexed(page)
    page.wait_for_timeout(300)
    assert page.evaluate("() => window.__pwned") is None
    for where in ("#results", "#documents-status", "#missed", "#funnel"):
        hostile = f"{where} script, {where} img, {where} iframe, {where} [onerror], {where} a[href^='javascript']"
        assert page.locator(hostile).count() == 0, where


def test_switching_model_mid_run_cancels_it_and_keeps_the_collection(page: Any, hub_site: Any) -> None:  # noqa: F811
    """Another model picked while the cross-encoder scores the candidates: the run stops, the collection and query
    stay, and the next run scores the same candidates with the new model."""
    hub_site.mirror.add_model(SECOND_MODEL)
    page.set_default_timeout(RUN_TIMEOUT_MS)
    page.goto(hub_site.url + "?mode=documents")
    wait_for_phase(page, "ready", timeout=RUN_TIMEOUT_MS)
    before = demo_loaded(page)
    page.fill("#candidates", "200")
    page.fill("#query", "Which package installed this file on my system?")
    page.click("#rerank")
    page.wait_for_selector('#results > li.passage[data-state="scored"]')
    page.select_option("#model", SECOND_MODEL)
    wait_for_message(page, r"Cancelled")
    assert page.input_value("#query") == "Which package installed this file on my system?"
    assert_kept(page, before)
    page.wait_for_function("() => document.querySelector('#load-model').dataset.state === 'done'")
    page.fill("#candidates", "20")
    page.click("#rerank")
    wait_for_done(page)
    rows = doc_rows(page)
    assert len(rows) == 20 and all(r["state"] == "scored" for r in rows)
    assert page.inner_text('#stats [data-stat="model"]') == SECOND_MODEL
    assert_kept(page, before)
