"""Finding passages by the words they contain (for marking relevant passages by hand) and pasted texts as
documents: the Python behind the Documents panel's search box and "Add as document"."""

from __future__ import annotations

import pytest

from reranker.collection import Collection
from reranker.collection_search import SHOWN, excerpt, find_passages, found_json, search_terms
from reranker.documents import check_pasted, pasted_name
from reranker.errors import InputError
from reranker.limits import MAX_FILE_BYTES


def built(*texts: str) -> Collection:
    collection = Collection(budget=32, overlap=0)
    collection.add_files([(f"{i}.md", text.encode()) for i, text in enumerate(texts)])
    collection.build()
    return collection


def test_terms_are_words_and_quoted_phrases_folded_once_each():
    assert search_terms('Crème  "free  OF charge" crème') == ["creme", "free of charge"]
    assert search_terms('"unclosed phrase') == ["unclosed phrase"]
    assert search_terms('  "" ') == []


def test_every_term_must_match_in_any_order_and_hits_keep_collection_order():
    collection = built("Debian is free of charge.", "Nothing here.", "Charge the battery; it is free.")
    assert find_passages(collection, "free charge").ids == [0, 2]
    assert find_passages(collection, '"free of charge"').ids == [0]
    assert find_passages(collection, "CHARGE battery").ids == [2]
    assert find_passages(collection, "free zebra").ids == []


def test_a_blank_search_or_an_empty_collection_is_a_message():
    with pytest.raises(InputError) as blank:
        find_passages(built("text"), '  ""  ')
    assert blank.value.field == "search"
    with pytest.raises(InputError) as empty:
        find_passages(Collection(), "word")
    assert empty.value.code == "no_documents"


def test_excerpt_is_a_window_around_the_first_match_cut_at_spaces():
    text = " ".join(f"w{i}" for i in range(200)) + " needle " + " ".join(f"v{i}" for i in range(200))
    cut = excerpt(text, "needle", 120)
    assert "needle" in cut and cut.startswith("\u2026") and cut.endswith("\u2026") and len(cut) <= 122
    assert " w1 " not in cut and not cut[1:].startswith(" ")
    assert excerpt("short  text\nhere", "text") == "short text here"
    accented = "é" * 300 + " Crème brûlée " + "x" * 300
    assert "Crème" in excerpt(accented, "creme", 60)


def test_the_payload_says_where_stage1_put_each_hit_and_counts_the_rest():
    collection = built(*[f"Paragraph {i} about tides and the moon." for i in range(60)])
    stage1 = collection.stage1("paragraph 3", "bm25", k=10)
    found = find_passages(collection, "tides")
    out = found_json(collection, found, stage1)
    assert out["total"] == 60 and len(out["items"]) == SHOWN and "first 50 are listed" in out["summary"]
    by_id = {item["id"]: item for item in out["items"]}
    first = stage1.order[0]
    assert by_id[first]["rank"] == 1 and "among the 10 candidates" in by_id[first]["where"]
    outside = next(i for i in by_id if i not in stage1.candidates and by_id[i]["rank"])
    assert f"#{by_id[outside]['rank']}: not among the 10" in by_id[outside]["where"]
    assert found_json(collection, found, None)["items"][0]["where"] == ""
    one = found_json(collection, find_passages(collection, '"paragraph 7 "'), stage1)
    assert one["summary"] == "1 passage contains \u201cparagraph 7\u201d." and one["items"][0]["source"] == "7.md"


def test_pasted_text_checks_and_names():
    with pytest.raises(InputError) as blank:
        check_pasted(" \n\t")
    assert blank.value.code == "paste_empty" and blank.value.field == "paste"
    with pytest.raises(InputError) as large:
        check_pasted("é" * (MAX_FILE_BYTES // 2 + 1))
    assert large.value.code == "paste_too_large" and "5.1 MB" in large.value.message
    check_pasted("x" * MAX_FILE_BYTES)
    assert pasted_name("", []) == "pasted text.md"
    assert pasted_name(" My  notes ", []) == "My notes.md"
    assert pasted_name("page.html", []) == "page.html"
    assert pasted_name("v1.2 notes", []) == "v1.2 notes.md"
    assert pasted_name("../etc/x", []) == ".. etc x.md"
    assert pasted_name("", ["pasted text.md", "pasted text (2).md"]) == "pasted text (3).md"
