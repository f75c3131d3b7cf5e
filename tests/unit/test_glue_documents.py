"""The page glue's Documents-mode calls, as the page makes them (JSON in / JSON out)."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import glue

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "static" / "collections"


def _call(method, *args):
    return json.loads(glue._json_call(method)(*(json.dumps(a) for a in args)))


def _demo_glue() -> tuple[glue.PageGlue, dict]:
    page = glue.PageGlue()
    entry = json.loads((DEMO / "index.json").read_text())[0]
    files = [[name, base64.b64encode((DEMO / entry["folder"] / name).read_bytes()).decode()] for name in entry["files"]]
    assert _call(page.docs.check, [[n, 10] for n, _ in files])["refused"] == []
    report = _call(page.docs.add, files)
    assert report["filesRead"] == len(files)
    while not (progress := _call(page.docs.work, 30))["done"]:
        pass
    assert progress["status"]["passages"] > 100
    return page, entry


def test_stage1_run_funnel_and_export() -> None:
    page, entry = _demo_glue()
    labelled = entry["queries"][6]  # "pay": the answer is outside the first 50
    s1 = _call(page.docs.stage1, labelled["query"], "bm25", 50)
    assert s1["k"] == 50 and len(s1["order"]) == 50 and s1["retriever"] == "bm25"
    model = {"id": "m", "max_length": 512}
    start = _call(page.start, {"slot": "a", "collection": True, "query": labelled["query"], "model": model,
                               "labels": [], "threshold": 0.5, "topK": 5})
    assert start["collection"]["ids"] == s1["order"]
    assert start["texts"][0] == page.docs.col.chunks[s1["order"][0]].text
    results = [{"key": p["key"], "logit": float(i % 7), "tokens": 10} for i, p in enumerate(start["pairs"])]
    view = _call(page.add, "a", results)
    assert view["done"]
    relevant = _call(page.docs.resolve, labelled["relevant"])["ids"]
    funnel = _call(page.docs.funnel, 5, relevant)
    assert funnel["recall"] == 0.0 and funnel["missed"][0]["rank"] > 50
    assert funnel["missed"][0]["source"] == "basic-defs.en.html"
    exported = json.loads(_call(page.export, "a", "json")["text"])
    assert "stage1_rank" in json.dumps(exported) and "rerank_score" in json.dumps(exported)


def test_passages_mode_export_unchanged_after_a_documents_run() -> None:
    page, entry = _demo_glue()
    _call(page.docs.stage1, entry["queries"][0]["query"], "bm25", 10)
    model = {"id": "m", "max_length": 512}
    _call(page.start, {"slot": "a", "collection": True, "query": "kernel", "model": model})
    start = _call(page.start, {"slot": "a", "query": "q", "passages": "one\ntwo", "mode": "lines", "model": model})
    assert "collection" not in start and "a" not in page.docs.runs


def test_bad_input_is_a_message() -> None:
    page = glue.PageGlue()
    assert _call(page.docs.stage1, "kernel", "bm25", 50)["error"]["code"] in ("no_documents", "not_indexed")
    report = _call(page.docs.add, [["x.bin", base64.b64encode(b"\x00\x01\x02" * 50).decode()],
                                   ["e.txt", ""]])
    assert [n["code"] for n in report["notes"]] == ["binary_file", "empty_file"]
    assert _call(page.start, {"slot": "a", "collection": True, "model": {"id": "m"}})["error"]["code"] == "no_stage1"


def test_share_carries_query_and_settings_only() -> None:
    page = glue.PageGlue()
    res = _call(page.docs.share, {"query": "  kernel  ", "retriever": "bm25", "k": 20, "budget": 200, "threshold": 0.5,
                                  "topK": 5, "model": "m", "defaultModel": "m"})
    assert dict(res["params"]) == {"mode": "documents", "q": "kernel", "retriever": "bm25", "k": "20",
                                   "budget": "200", "threshold": "0.5", "topk": "5"}
    assert _call(page.docs.share, {"query": "x", "retriever": "bm25", "k": 5, "budget": 200})["error"]["field"] \
        == "candidates"


def test_vectors_and_hybrid_take_the_bi_encoder_similarities() -> None:
    page, entry = _demo_glue()
    n = len(page.docs.col.chunks)
    sims = [0.0] * n
    sims[7], sims[3] = 0.9, 0.8
    vectors = _call(page.docs.stage1, "anything at all", "vectors", 10, sims)
    assert vectors["order"][:2] == [7, 3] and vectors["retriever"] == "vectors"
    hybrid = _call(page.docs.stage1, entry["queries"][0]["query"], "hybrid", 10, sims)
    assert hybrid["retriever"] == "hybrid" and len(hybrid["order"]) == 10
    assert _call(page.docs.stage1, "kernel", "vectors", 10, sims[:-1])["error"]["code"] == "no_vectors"
    assert _call(page.docs.texts, 7, 1) == [page.docs.col.chunks[7].text]


def test_pasted_text_becomes_a_document_and_refusals_change_nothing() -> None:
    page = glue.PageGlue()
    assert _call(page.docs.add_text, "   ", "")["error"]["field"] == "paste"
    assert _call(page.docs.add_text, "x" * 5_000_001, "big")["error"]["code"] == "paste_too_large"
    assert page.docs.col is None or page.docs.col.status()["files"] == 0
    text = "# Tides\n\nThe harbour gate closes at low tide.\n\n# Boats\n\nBoats wait for the flood."
    added = _call(page.docs.add_text, text, "")
    assert added["refused"] == "" and added["filesRead"] == 1 and added["documents"][0]["kind"] == "markdown"
    while not _call(page.docs.work, 30)["done"]:
        pass
    assert page.docs.col.chunks[0].source == "pasted text.md"
    again = _call(page.docs.add_text, text, "copy")
    assert "same content" in again["refused"] and again["status"]["duplicates"] == 1
    other = _call(page.docs.add_text, "A second text about \ud800 tides.", "")
    assert other["refused"] == "" and other["documents"][0]["source"] == "pasted text (2).md"


def test_find_lists_passages_with_their_stage1_place() -> None:
    page, entry = _demo_glue()
    before = _call(page.docs.find, "free")
    assert before["total"] > 0 and before["items"][0]["where"] == ""
    _call(page.docs.stage1, entry["queries"][6]["query"], "bm25", 10)
    answer = entry["queries"][6]["relevant"][0]
    found = _call(page.docs.find, f'"{answer["anchor"]}"')
    assert found["total"] >= 1 and all(item["source"] == answer["source"] for item in found["items"])
    assert found["items"][0]["rank"] is None or found["items"][0]["rank"] > 10
    assert "not among" in found["items"][0]["where"] or "never returns" in found["items"][0]["where"]
    assert _call(page.docs.find, "")["error"]["field"] == "search"


def test_keys_name_each_passage_by_its_content() -> None:
    """docs_keys: the stored vectors' keys, the sha256 of each passage's text; equal texts share a key."""
    import hashlib
    page, _ = _demo_glue()
    n = len(page.docs.col.chunks)
    keys = _call(page.docs.keys, 0, n)
    assert len(keys) == n
    assert keys[7] == hashlib.sha256(page.docs.col.chunks[7].text.encode("utf-8")).hexdigest()
    assert _call(page.docs.keys, 7, 2) == keys[7:9]
    assert _call(page.docs.keys, n - 1, 10) == keys[-1:]


def test_twenty_thousand_names_are_cut_at_the_file_limit_in_one_note() -> None:
    from reranker.limits import MAX_FILES
    page = glue.PageGlue()
    names = [f"n{i:05d}.txt" for i in range(20_000)]
    out = _call(page.docs.take, names)
    assert out["take"] == MAX_FILES
    [note] = out["notes"]
    assert note["code"] == "too_many_files" and note["message"] == (
        f"{20_000 - MAX_FILES:,} files were not read, from n{MAX_FILES:05d}.txt on: a collection holds at most "
        f"{MAX_FILES:,} files.")
    status = page.docs.col.status(notes=False)
    assert status["skipped"] == 20_000 - MAX_FILES
    assert f"{20_000 - MAX_FILES:,} over the {MAX_FILES:,}-file limit" in status["summary"]
    assert len(page.docs.col.status()["skipped"]) == 20_000 - MAX_FILES


def test_packed_files_are_split_by_their_sizes() -> None:
    page = glue.PageGlue()
    files = [("a.txt", b"Tides rise twice a day."), ("b.txt", b""), ("c.md", b"# Moon\n\nThe moon pulls.")]
    data = base64.b64encode(b"".join(body for _, body in files)).decode()
    report = _call(page.docs.add_packed, [[n, len(b)] for n, b in files], data)
    assert [n["code"] for n in report["notes"]] == ["read", "empty_file", "read"]
    assert report["status"]["skipped"] == 1 and report["status"]["files"] == 2
    bad = _call(page.docs.add_packed, [["d.txt", 99]], data)
    assert bad["error"]["code"] == "files_changed"
    assert page.docs.col.reader.files == 2


def test_files_the_browser_could_not_read_are_counted_as_skipped() -> None:
    page = glue.PageGlue()
    out = _call(page.docs.unreadable, [["gone.txt", "NotReadableError"]])
    assert out["notes"][0]["message"] == "gone.txt could not be read (NotReadableError) and was left out."
    assert out["status"]["summary"] == "0 files, 0 passages; 1 file skipped (1 unreadable)."
