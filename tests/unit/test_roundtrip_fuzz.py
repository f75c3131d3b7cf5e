"""Random Unicode through the page's own JSON API (py/glue.py, exactly the calls app/page.js makes):
inspect -> start -> add -> export (json/csv/markdown) -> share -> restore -> start again.

tests/unit/test_fuzz.py drives the `reranker` core directly; this adds the glue layer the page uses (JSON
strings in and out, labels, modes, share of the page state): every call answers JSON, bad input is a specific
error for a field, and the restored state reproduces the same passages and query."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import glue

MODEL = {"id": "fuzz-model", "max_length": 128, "calibration": "sigmoid"}
FIELDS = {"query", "passages", "model", "share", "threshold", "top_k"}

hostile = st.sampled_from(["<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "javascript:alert(1)",
                           "&amp;", "</textarea>", "\x00", "\x1b", "\u202e", "\u2066", "\u200b", "\ufeff", "😀",
                           "東京", "مرحبا", "\ud800", "=HYPERLINK()", "\t", "\r", "\n", "\n\n", '"', "[", "{", "1. "])
pasted = st.lists(st.one_of(hostile, st.text(max_size=16)), max_size=24).map("".join)


def call(api: glue.PageGlue, name: str, *args: object) -> dict:
    """What the page does: JSON-encode each argument, call the wrapped method, parse the JSON answer."""
    out = glue._json_call(getattr(api, name))(*(json.dumps(a) for a in args))
    assert isinstance(out, str)
    return json.loads(out)


def fake_logit(text: str) -> float:
    """A deterministic stand-in score for a pair (the model is not what this test is about)."""
    return (int(hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:6], 16) % 2000) / 100 - 10


def assert_specific_error(result: dict) -> None:
    """An error names a field the page can show it next to and carries a sentence (never a traceback)."""
    error = result["error"]
    assert error["code"] != "internal", error
    assert error["field"] in FIELDS, error
    assert error["message"] and "Traceback" not in error["message"], error


@given(query=pasted, passages=pasted, mode=st.sampled_from(["auto", "lines", "paragraphs", "json"]),
       label=st.sampled_from([None, 0, 1, 2]))
@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_page_api_round_trip_keeps_everything(query: str, passages: str, mode: str, label: int | None) -> None:
    api = glue.PageGlue()
    payload = {"slot": "a", "query": query, "passages": passages, "mode": mode, "model": MODEL,
               "threshold": 0.5, "topK": 3, "labels": []}
    inspected = call(api, "inspect", {**payload})
    if "error" in inspected:
        assert_specific_error(inspected)
    started = call(api, "start", payload)
    if "error" in started:
        assert_specific_error(started)
        return
    texts = started["texts"]
    assert len(texts) == inspected["count"] >= 2
    if label is not None:
        call(api, "relevance", "a", 0, label)
    view = call(api, "add", "a", [{"key": p["key"], "logit": fake_logit(p["text"]), "tokens": 3}
                                  for p in started["pairs"]])
    assert view["done"] and sorted(view["order"]) == list(range(len(texts)))

    exported = json.loads(call(api, "export", "a", "json")["text"])
    assert sorted(p["text"] for p in exported["passages"]) == sorted(texts)
    table = list(csv.reader(io.StringIO(call(api, "export", "a", "csv")["text"], newline="")))
    assert len(table) == len(texts) + 1
    markdown = call(api, "export", "a", "markdown")["text"]
    assert markdown.count("\n") >= len(texts) + 2

    labels = [[texts[0], label]] if label is not None else []
    shared = call(api, "share", {**payload, "defaultModel": MODEL["id"], "model": MODEL["id"], "labels": labels})
    code = shared["code"]
    assert re.fullmatch(r"[A-Za-z0-9._~-]+", code), "a share code must be URL-safe as it stands"
    restored = call(api, "restore", code)
    assert "error" not in restored, restored
    again = call(api, "start", {**payload, "query": restored["query"], "passages": restored["passages"],
                                "mode": restored["mode"], "labels": restored["labels"]})
    assert "error" not in again, again
    assert again["texts"] == texts, "share -> restore changed the passages"
    assert again["query"] == started["query"].strip()
    if label is not None:
        assert again["relevance"][0] == label, "a label was lost in the share link"


@given(st.text(max_size=300))
@settings(max_examples=200, deadline=None)
def test_restore_of_any_string_answers_json(code: str) -> None:
    """A damaged or hostile ?s= value never breaks the page: a state, or a share error it can show."""
    result = call(glue.PageGlue(), "restore", code)
    if "error" in result:
        assert_specific_error(result)
    else:
        assert isinstance(result["passages"], str) and isinstance(result["query"], str)


def test_inspect_in_slices_ends_with_the_same_counts() -> None:
    # The page counts a large paste in idle-time slices: every slice answers {"pending": true} with the passage
    # count, and the slices together prepare every passage once (the counts equal one unsliced call).
    long_text = " ".join(f"word{i} lorem ipsum dolor" for i in range(200))
    passages = "\n".join(long_text + f" item {i}" if i % 10 == 0 else f"passage number {i} about tides"
                         for i in range(300))
    payload = {"query": "tides", "passages": passages, "mode": "lines", "model": MODEL}
    whole = call(glue.PageGlue(), "inspect", payload)
    assert whole["pending"] is False and whole["count"] == 300 and whole["windowed"] == 30
    sliced_api = glue.PageGlue()
    answers = [call(sliced_api, "inspect", {**payload, "budgetMs": 0}) for _ in range(3)]
    assert answers[0] == {"count": 300, "pending": True}
    for _ in range(1000):
        answer = call(sliced_api, "inspect", {**payload, "budgetMs": 5})
        if not answer["pending"]:
            break
    assert answer == whole
