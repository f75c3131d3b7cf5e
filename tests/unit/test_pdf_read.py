"""PDF files: pages through pypdf become documents (one per page with text); bad PDFs are skipped with a reason."""

import pytest

from reranker import pdftext
from reranker.collection import Collection
from reranker.documents import DocumentReader
from reranker.errors import InputError
from tests.support.pdfs import make_pdf

PAGES = [["Tidal power converts the energy of tides into electricity.", "Barrages dam an estuary."], [],
         ["Lagoons enclose part of the sea (a fish ladder helps)."]]


def test_pages_are_read_in_order():
    pages = pdftext.pdf_pages("tides.pdf", make_pdf(PAGES))
    assert pages[0] == "Tidal power converts the energy of tides into electricity.\nBarrages dam an estuary."
    assert pages[1] == ""
    assert "(a fish ladder helps)" in pages[2]


def test_ligatures_are_split_and_blank_runs_squeezed():
    assert pdftext._clean("a \ufb01sh  \n\n\n\nof\ufb02ine \r\n") == "a fish\n\noffline"


def test_each_page_with_text_is_a_document_named_by_its_page():
    reader = DocumentReader()
    report = reader.read_files([("tides.pdf", make_pdf(PAGES))])
    note = report.notes[0]
    assert not note.skipped and note.code == "read" and report.files_read == 1
    assert "2 pages of text; 1 page without text (images only) left out" in note.message
    assert [(d.source, d.record, d.kind) for d in report.documents] == [("tides.pdf", "page 1", "pdf"),
                                                                      ("tides.pdf", "page 3", "pdf")]
    assert "Read 1 file (2 documents)" in report.summary()


def test_pdf_passages_keep_file_and_page_and_are_found():
    col = Collection()
    col.add_files([("notes.txt", b"Wind turbines turn in the wind."), ("tides.pdf", make_pdf(PAGES))])
    while not col.work(max_ms=1000).done:
        pass
    found = col.stage1("lagoons sea", "bm25", 10)
    first = col.chunks[found.order[0]]
    assert (first.source, first.record) == ("tides.pdf", "page 3")


def test_a_duplicate_pdf_is_left_out():
    data = make_pdf(PAGES)
    report = DocumentReader().read_files([("a.pdf", data), ("b.pdf", data)])
    assert report.duplicates == 1 and report.notes[1].code == "duplicate"


@pytest.mark.parametrize("data,code,words", [
    (make_pdf([["secret minutes"]], password="hunter2"), "pdf_encrypted", "encrypted (password-protected) PDF"),
    (make_pdf([[], []]), "pdf_no_text", "without a text layer"),
    (b"%PDF-1.4\n" + bytes(range(256)) * 20, "pdf_broken", "damaged"),
    (make_pdf(PAGES)[:400], "pdf_broken", "damaged"),
])
def test_bad_pdfs_are_skipped_with_a_reason_and_lose_nothing(data, code, words):
    reader = DocumentReader()
    report = reader.read_files([("ok.md", b"# Kept\n\nText read before."), ("bad.pdf", data),
                                ("after.txt", b"Text read after.")])
    note = report.notes[1]
    assert note.skipped and note.code == code and words in note.message and note.message.startswith("bad.pdf ")
    assert [d.source for d in report.documents] == ["ok.md", "after.txt"]
    reason = {"pdf_encrypted": "encrypted PDF", "pdf_no_text": "PDF without text", "pdf_broken": "damaged PDF"}[code]
    assert f"1 file skipped (1 {reason})" in report.summary()


def test_a_pdf_locked_only_against_editing_is_read():
    pages = pdftext.pdf_pages("open.pdf", make_pdf([["open minutes"]], password=""))
    assert pages == ["open minutes"]


def test_without_the_reader_a_pdf_is_refused_saying_what_to_do(monkeypatch):
    monkeypatch.setattr(pdftext, "pdf_reader_available", lambda: False)
    with pytest.raises(InputError) as caught:
        pdftext.pdf_pages("x.pdf", make_pdf(PAGES))
    assert caught.value.code == "pdf_unavailable" and "save it as text" in caught.value.message
