"""Random Unicode through parse -> session -> export -> share -> parse: only specific errors, nothing lost."""

import csv
import io
import json

from hypothesis import given, settings
from hypothesis import strategies as st

from reranker import (InputError, RankingSession, ShareError, ShareState, decode_share, encode_share,
                      format_passages, parse_passages, to_csv, to_json, to_markdown)

hostile = st.sampled_from(["<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "javascript:alert(1)",
                           "&amp;&lt;", "</textarea>", "\x00", "\u202e", "\u2066", "|", '"', "\r\n", "\n\n", "1. ",
                           "- ", "[", "]", "{", "😀", "東", "مرحبا", "\ud800", "=cmd", "\t"])
pasted = st.lists(st.one_of(hostile, st.text(max_size=20)), max_size=30).map("".join)


@given(pasted, pasted, st.sampled_from(["auto", "lines", "paragraphs", "json"]))
@settings(max_examples=300, deadline=None)
def test_random_paste_survives_the_whole_pipeline(text, query, mode):
    try:
        parsed = parse_passages(text, mode)
        session = RankingSession(query, parsed.passages, "m", max_tokens=128)
    except InputError as error:
        assert error.message and error.field in ("passages", "query")
        return
    pairs = session.pending_pairs()
    session.add_scores([(p["key"], float(len(p["text"]) % 7) - 3) for p in pairs])
    assert session.view().done
    exported = json.loads(to_json(session))
    assert sorted(p["text"] for p in exported["passages"]) == sorted(parsed.texts)
    rows = list(csv.reader(io.StringIO(to_csv(session, spreadsheet_safe=False), newline="")))
    assert sorted(r[-1] for r in rows[1:]) == sorted(parsed.texts)
    assert to_markdown(session).count("\n") == 5 + len(parsed.texts)    # no row broke the table
    state = ShareState(query=session.query, passages=parsed.texts, model="m", labels=parsed.relevance)
    restored = decode_share(encode_share(state))
    assert restored.passages == parsed.texts and restored.query == session.query
    again_text, again_mode = format_passages(restored.passages, parsed.mode)
    assert parse_passages(again_text, again_mode).texts == parsed.texts


@given(st.text(max_size=200))
@settings(max_examples=300, deadline=None)
def test_decoding_any_string_gives_a_state_or_a_share_error(text):
    try:
        decode_share(text)
    except ShareError as error:
        assert error.message


@given(st.binary(max_size=200), st.sampled_from(["1j.", "1z.", "2z.", "1p."]))
@settings(max_examples=300, deadline=None)
def test_decoding_random_bytes_gives_a_state_or_a_share_error(data, prefix):
    import base64
    import zlib

    body = data if prefix != "1z." else zlib.compress(data)
    try:
        decode_share(prefix + base64.urlsafe_b64encode(body).decode().rstrip("="))
    except ShareError as error:
        assert error.message
