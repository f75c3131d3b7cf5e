"""PDFs in Documents mode, in real Chromium: a PDF printed by Chromium itself is read page by page through the
pinned pypdf wheel (fetched from the page's own origin only when the first PDF arrives), split into passages named
by the file, and found by a query; a damaged PDF says so and loses nothing already loaded."""

from __future__ import annotations

from typing import Any

from harness.page import wait_for_done
from test_documents import doc_rows, open_documents, wait_indexed

REPORT = """<html><body><h1>Harbour report</h1>
<p>The harbour gate closes two hours before low water, so fishing boats wait outside on the ebb.</p>
<h2>Dredging</h2><ul><li>Silt builds up behind the breakwater every winter.</li>
<li>The dredger clears the channel each spring.</li></ul>
<table><tr><th>Berth</th><th>Depth (m)</th></tr><tr><td>North quay</td><td>4.5</td></tr></table>
<div style="break-before: page"><h2>Lighthouse</h2>
<p>The lighthouse keeper logs every passing tanker in a leather-bound ledger.</p></div></body></html>"""
NOTES = b"Tide tables list the times of high water.\n\nThe moon pulls the oceans into two bulges."


def printed_pdf(page: Any, html: str) -> bytes:
    """`html` printed to PDF by this Chromium (page.pdf), in a page of its own."""
    printer = page.context.new_page()
    try:
        printer.set_content(html)
        return printer.pdf()
    finally:
        printer.close()


def notes_by_name(page: Any) -> dict[str, dict[str, str]]:
    return page.evaluate("() => Object.fromEntries([...document.querySelectorAll('.documents-note')].map(li => "
                         "[li.textContent.split(' ')[0], {code: li.dataset.code, text: li.textContent}]))")


def test_a_printed_pdf_is_split_found_and_a_broken_one_explains_itself(page: Any, base_url: str) -> None:
    data = printed_pdf(page, REPORT)
    wheels: list[str] = []
    page.on("request", lambda request: wheels.append(request.url) if request.url.endswith(".whl") else None)
    open_documents(page, base_url)
    page.set_input_files("#documents-files", [{"name": "tides.txt", "mimeType": "text/plain", "buffer": NOTES}])
    wait_indexed(page)
    assert wheels == [], "the PDF reader loads only when a PDF arrives"
    page.set_input_files("#documents-files", [{"name": "harbour.pdf", "mimeType": "application/pdf", "buffer": data}])
    page.wait_for_function("() => [...document.querySelectorAll('.documents-note')]"
                           ".some(li => li.textContent.startsWith('harbour.pdf'))")
    wait_indexed(page)
    assert len(wheels) == 1 and "/wheels/pypdf-" in wheels[0], wheels
    note = notes_by_name(page)["harbour.pdf"]
    assert note["code"] == "read" and "2 pages of text" in note["text"], note
    passages = int(page.inner_text('#funnel [data-stat="passages"] .funnel-n'))
    assert passages >= 3, passages

    page.fill("#candidates", "10")
    page.fill("#query", "who logs passing tankers in a ledger")
    page.click("#rerank")
    wait_for_done(page)
    rows = doc_rows(page)
    pdf_rows = [r for r in rows if r["source"] == "harbour.pdf"]
    assert pdf_rows and {r["source"] for r in rows} <= {"harbour.pdf", "tides.txt"}, rows
    top = min(rows, key=lambda r: r["stage1Rank"])
    assert top["source"] == "harbour.pdf" and "leather-bound ledger" in top["text"], top

    page.set_input_files("#documents-files", [{"name": "broken.pdf", "mimeType": "application/pdf",
                                               "buffer": b"%PDF-1.7\n" + bytes(range(256)) * 8}])
    page.wait_for_function("() => [...document.querySelectorAll('.documents-note')]"
                           ".some(li => li.textContent.startsWith('broken.pdf'))")
    wait_indexed(page)
    note = notes_by_name(page)["broken.pdf"]
    assert note["code"] == "pdf_broken" and "damaged" in note["text"], note
    assert "broken.pdf" in page.inner_text("#documents-status")
    assert int(page.inner_text('#funnel [data-stat="passages"] .funnel-n')) == passages
    assert len(wheels) == 1, "the reader is fetched once per visit"
