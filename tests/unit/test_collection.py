"""Documents mode end to end in CPython: the Collection API the page calls, export rows, the demo collection."""

import csv
import io
import json
from pathlib import Path

import pytest

from reranker.collection import Collection
from reranker.collection_export import COLUMNS, collection_rows, rows_to_csv, rows_to_json, rows_to_markdown
from reranker.errors import InputError
from reranker.limits import DEFAULT_PASSAGE_OVERLAP, DEFAULT_PASSAGE_TOKENS, MAX_COLLECTION_PASSAGES
from reranker.retrieval import funnel

COLLECTIONS = Path(__file__).resolve().parents[2] / "static" / "collections"


def demo() -> tuple[dict, Collection]:
    """The shipped demo collection, read and indexed at the default budget."""
    entry = json.loads((COLLECTIONS / "index.json").read_text(encoding="utf-8"))[0]
    collection = Collection()
    collection.add_files([(name, (COLLECTIONS / entry["folder"] / name).read_bytes()) for name in entry["files"]])
    collection.build()
    return entry, collection


@pytest.fixture(scope="module")
def demo_collection():
    return demo()


def small() -> Collection:
    collection = Collection(budget=64, overlap=0.1)
    kernel = b"# Kernel\n\nRemove an old kernel with dpkg --purge.\n\n# Apt\n\nUse apt to upgrade."
    collection.add_files([("a.md", kernel),
                          ("b.txt", b"Bananas are yellow.\n\nApples are red.")])
    return collection


def test_work_in_slices_reaches_the_same_collection_as_build():
    whole = small()
    whole.build()
    sliced = small()
    steps = []
    while not sliced.ready:
        steps.append(sliced.work(max_ms=None, max_documents=1))
    assert [s.documents_done for s in steps] == [1, 2] and steps[-1].done
    assert [c.to_dict() for c in sliced.chunks] == [c.to_dict() for c in whole.chunks]
    assert sliced.index.postings.keys() == whole.index.postings.keys()
    assert sliced.search("kernel") == whole.search("kernel")
    assert steps[-1].to_dict()["passages"] == len(whole.chunks)


def test_a_zero_time_slice_still_makes_progress():
    collection = small()
    assert collection.work(max_ms=0).documents_done >= 1


def test_stage1_bm25_vectors_and_hybrid():
    collection = small()
    collection.build()
    bm25 = collection.stage1("old kernel", "bm25", k=10)
    assert bm25.candidates[0] == 0 and bm25.scores == sorted(bm25.scores, reverse=True)
    assert bm25.to_dict()["order"] == bm25.candidates and bm25.to_dict()["retriever"] == "bm25"
    vectors = [(2, 0.9), (0, 0.5)]
    assert collection.stage1("x", "vectors", k=10, vectors=vectors).order == [2, 0]
    hybrid = collection.stage1("old kernel", "hybrid", k=10, vectors=vectors)
    assert hybrid.order[:2] == [0, 2]


@pytest.mark.parametrize("call,code", [
    (lambda c: c.stage1("q", "vectors", k=10), "no_vectors"),
    (lambda c: c.stage1("q", "bm25", k=5), "bad_candidates"),
    (lambda c: c.stage1("q", "lsi", k=10), "bad_retriever"),
    (lambda c: c.stage1("   ", "bm25", k=10), "query_empty"),
    (lambda c: c.set_budget(5), "bad_budget"),
])
def test_stage1_bad_settings(call, code):
    collection = small()
    collection.build()
    with pytest.raises(InputError) as info:
        call(collection)
    assert info.value.code == code


def test_stage1_before_indexing_and_on_an_empty_collection():
    collection = small()
    with pytest.raises(InputError) as info:
        collection.stage1("kernel")
    assert info.value.code == "not_indexed"
    with pytest.raises(InputError) as info:
        Collection().stage1("kernel")
    assert info.value.code == "no_documents"


def test_changing_the_budget_resplits_and_keeps_documents():
    collection = small()
    collection.build()
    before = len(collection.chunks)
    collection.set_budget(DEFAULT_PASSAGE_TOKENS, DEFAULT_PASSAGE_OVERLAP)
    assert not collection.ready and collection.chunks == [] and len(collection.documents) == 2
    collection.build()
    assert len(collection.chunks) <= before and collection.budget == DEFAULT_PASSAGE_TOKENS
    collection.set_budget(DEFAULT_PASSAGE_TOKENS)  # unchanged: nothing to redo
    assert collection.ready


def test_status_counts_duplicates_skips_and_passages():
    collection = small()
    collection.add_files([("c.txt", b"Bananas are yellow.\n\nApples are red."), ("d.bin", b"\x00\x00")])
    collection.add_text("pasted words")
    collection.build()
    status = collection.status()
    assert (status["files"], status["documents"], status["duplicates"]) == (3, 3, 1)
    assert status["summary"] == f"3 files, {len(collection.chunks)} passages; 1 duplicate left out; 1 file skipped (1 not text)."
    assert {s["code"] for s in status["skipped"]} == {"duplicate", "binary_file"}


def test_passage_limit_leaves_documents_unsplit_and_says_so(monkeypatch):
    monkeypatch.setattr("reranker.collection.MAX_COLLECTION_PASSAGES", 3)
    collection = Collection(budget=32, overlap=0)
    collection.add_files([(f"{i}.txt", f"doc {i}\n\nsecond {i}".encode()) for i in range(4)])
    progress = collection.build()
    assert progress.over_limit >= 1 and len(collection.chunks) <= 3 and progress.done
    assert "not split (the limit is" in collection.status()["summary"]
    assert MAX_COLLECTION_PASSAGES >= 10_000


def test_find_is_case_accent_and_space_insensitive():
    collection = Collection()
    collection.add_text("Crème   brûlée\nrecipe")
    collection.build()
    assert collection.find("creme BRULEE recipe") == [0] and collection.find("  ") == []
    assert collection.resolve([{"source": "pasted text.md", "anchor": "recipe"}, {"anchor": "nope"}]) == [0]


def test_export_rows_for_candidates_and_missed_passages():
    collection = small()
    collection.build()
    stage1 = collection.stage1("kernel apt", "bm25", k=10)
    first, second = stage1.candidates[:2]
    missed = next(i for i in range(len(collection.chunks)) if i not in stage1.candidates)
    rows = collection_rows(collection, stage1, {second: 0.9, first: 0.2}, relevant=[first, missed])
    assert [r["id"] for r in rows] == [second, first, missed]
    assert rows[0]["rerank_rank"] == 1 and rows[0]["stage1_rank"] == 2 and rows[0]["reached"]
    assert rows[1]["relevant"] and rows[2]["relevant"] and not rows[2]["reached"]
    assert rows[2]["rerank_rank"] is None and rows[2]["stage1_rank"] is None
    assert set(rows[0]) == set(COLUMNS)
    document = json.loads(rows_to_json(rows, "kernel apt", {"k": 10, "retriever": "bm25"}))
    assert document["format"] == "reranker-documents-export" and document["passages"][0]["source"] == "a.md"
    table = list(csv.reader(io.StringIO(rows_to_csv(rows))))
    assert table[0] == list(COLUMNS) and table[1][0] == "1" and table[3][4] == "false"
    markdown = rows_to_markdown(rows, "kernel | apt")
    assert "kernel \\| apt" in markdown and "never reached the reranker" in markdown and "a.md" in markdown


def test_export_pending_rows_and_formula_cells():
    collection = Collection()
    collection.add_text("=SUM(A1) is a formula")
    collection.build()
    stage1 = collection.stage1("formula", k=10)
    rows = collection_rows(collection, stage1, {})
    assert rows[0]["rerank_rank"] is None and rows[0]["reached"]
    assert "'=SUM(A1)" in rows_to_csv(rows) and "| pending |" in rows_to_markdown(rows, "q")


def test_demo_collection_is_small_licensed_and_a_few_hundred_passages(demo_collection):
    entry, collection = demo_collection
    folder = COLLECTIONS / entry["folder"]
    assert sum(p.stat().st_size for p in folder.iterdir()) < 1_000_000
    assert (folder / entry["licence"]).is_file() and (folder / "README.md").is_file()
    assert 300 <= len(collection.chunks) <= 800
    assert collection.status()["skipped"] == [] and len(entry["queries"]) >= 5


def test_demo_labels_resolve_and_show_both_retrieved_and_missed(demo_collection):
    entry, collection = demo_collection
    recalls = []
    missed_somewhere = False
    for labelled in entry["queries"]:
        relevant = collection.resolve(labelled["relevant"])
        assert relevant, labelled["query"]
        assert len(relevant) >= len(labelled["relevant"])  # every anchor names at least one passage
        stage1 = collection.stage1(labelled["query"], "bm25", k=50)
        result = funnel(stage1.order, len(collection.chunks), 50, 5, relevant)
        recalls.append(result.recall)
        missed_somewhere |= bool(result.missed)
    assert missed_somewhere and max(recalls) == 1.0  # the demo shows both outcomes


def test_demo_labels_survive_a_budget_change(demo_collection):
    entry, _ = demo_collection
    collection = Collection(budget=120, overlap=0.0)
    collection.add_files([(n, (COLLECTIONS / entry["folder"] / n).read_bytes()) for n in entry["files"]])
    collection.build()
    assert all(collection.resolve(q["relevant"]) for q in entry["queries"])


def test_content_keys_are_stable_across_collections_and_budgets():
    import hashlib

    one, two = small(), small()
    one.build()
    two.build()
    assert one.keys() == two.keys() and len(one.keys()) == len(one.chunks)
    assert one.keys(1, 1) == [hashlib.sha256(one.chunks[1].text.encode()).hexdigest()]
    assert one.keys(len(one.chunks)) == []
