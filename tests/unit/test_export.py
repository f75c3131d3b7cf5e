"""Exports: JSON (re-importable), Markdown (escaped), CSV (RFC 4180)."""

import csv
import io
import json

from reranker import RankingSession, parse_passages, to_csv, to_json, to_markdown

TEXTS = ["plain passage", "has | a pipe", 'quotes "and", commas', "two\nlines", "=SUM(A1:A2)", "<b>bold</b> & co"]


def scored_session(**options):
    """A session with every passage scored; passage i gets logit i (so reverse order)."""
    session = RankingSession("what, \"exactly\" | ?", TEXTS, "model/x", **options)
    session.add_scores([(p["key"], float(i)) for i, p in enumerate(session.pending_pairs())])
    return session


def test_json_export_has_query_model_and_per_passage_fields_in_rank_order():
    data = json.loads(to_json(scored_session()))
    assert data["query"] == 'what, "exactly" | ?' and data["model"] == "model/x"
    assert data["version"] == 1
    first = data["passages"][0]
    assert first == {"rank": 1, "position": 6, "text": TEXTS[5], "score": first["score"], "raw": 5.0,
                     "state": "scored", "sunk": False, "relevance": None, "window": None}
    assert [p["position"] for p in data["passages"]] == [6, 5, 4, 3, 2, 1]


def test_json_export_parses_back_to_the_original_input():
    parsed = parse_passages(to_json(scored_session()))
    assert parsed.mode == "json" and parsed.texts == TEXTS and parsed.query == 'what, "exactly" | ?'


def test_json_export_of_pending_rows_has_null_scores():
    session = RankingSession("q", ["a", "b"], "m")
    data = json.loads(to_json(session))
    assert [p["score"] for p in data["passages"]] == [None, None]
    assert {p["state"] for p in data["passages"]} == {"pending"}


def test_markdown_escapes_pipes_html_and_newlines():
    markdown = to_markdown(scored_session())
    lines = markdown.splitlines()
    header = lines.index("| Rank | Original | Score | Label | Passage |")
    body = lines[header + 2:]
    assert len(body) == len(TEXTS)                        # one table row per passage: newlines did not leak
    assert "has \\| a pipe" in markdown and "two<br>lines" in markdown
    assert "&lt;b&gt;bold&lt;/b&gt; &amp; co" in markdown
    assert "**Query:** what, \"exactly\" \\| ?" in markdown
    for row in body:                                      # 5 unescaped pipes delimit exactly 5 cells... plus edges
        assert row.replace("\\|", "").count("|") == 6


def test_markdown_marks_the_winning_window():
    text = " ".join(f"filler {i}." for i in range(80)) + " the answer is here."
    session = RankingSession("answer", [text], "m", max_tokens=64)
    session.add_scores([(p["key"], 3.0 if "answer" in p["text"] else -1.0) for p in session.pending_pairs()])
    assert "**»**" in to_markdown(session) and "the answer is here.**«**" in to_markdown(session)


def test_csv_is_rfc4180_and_reads_back_exactly():
    text = to_csv(scored_session(), spreadsheet_safe=False)
    assert text.endswith("\r\n") and '"quotes ""and"", commas"' in text
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert rows[0][:3] == ["rank", "position", "score"]
    assert [r[-1] for r in rows[1:]] == list(reversed(TEXTS))
    assert [int(r[1]) for r in rows[1:]] == [6, 5, 4, 3, 2, 1]


def test_csv_defuses_spreadsheet_formulas_by_default():
    rows = list(csv.reader(io.StringIO(to_csv(scored_session()), newline="")))
    assert "'=SUM(A1:A2)" in [r[-1] for r in rows]
