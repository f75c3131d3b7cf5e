"""Parsing pasted passages: modes, markers, trimming, positions, duplicates, labels, limits."""

import json

import pytest

from reranker import MAX_PASSAGE_CHARS, MAX_PASSAGES, InputError, normalize_query, parse_passages


def test_lines_are_trimmed_empties_dropped_and_sources_kept():
    result = parse_passages("  first passage  \n\n\t\nsecond one\n   third  ")
    assert result.mode == "lines"
    assert result.texts == ["first passage", "second one", "third"]
    assert [p.index for p in result.passages] == [0, 1, 2]
    assert [p.source for p in result.passages] == ["line 1", "line 4", "line 5"]


def test_crlf_and_cr_line_endings_split_like_lf():
    assert parse_passages("a\r\nb\rc").texts == ["a", "b", "c"]


@pytest.mark.parametrize("text", [
    "1. alpha\n2. beta\n3. gamma",
    "1) alpha\n2) beta\n3) gamma",
    "(1) alpha\n(2) beta\n(3) gamma",
    "[1] alpha\n[2] beta\n[3] gamma",
    "- alpha\n- beta\n- gamma",
    "* alpha\n* beta\n* gamma",
    "• alpha\n• beta\n• gamma",
])
def test_numbered_and_bulleted_markers_are_stripped(text):
    assert parse_passages(text).texts == ["alpha", "beta", "gamma"]


def test_a_lone_number_at_line_start_is_not_mistaken_for_a_marker():
    result = parse_passages("2020. was a year of change\nThe tide comes in twice a day\nCats sleep")
    assert result.texts[0] == "2020. was a year of change"


def test_negative_numbers_are_not_bullets():
    assert parse_passages("-5 degrees at night\n-3 degrees by day").texts == ["-5 degrees at night",
                                                                            "-3 degrees by day"]


def test_paragraph_mode_joins_wrapped_lines_and_splits_on_blank_lines():
    text = "First paragraph line one\nline two\n\n  \nSecond paragraph\n\nThird"
    result = parse_passages(text, "paragraphs")
    assert result.mode == "paragraphs"
    assert result.texts == ["First paragraph line one\nline two", "Second paragraph", "Third"]
    assert [p.source for p in result.passages] == ["line 1", "line 5", "line 7"]


def test_auto_stays_lines_but_hints_at_paragraphs_when_blocks_span_several_lines():
    result = parse_passages("a\nb\n\nc")
    assert result.mode == "lines" and result.texts == ["a", "b", "c"]
    assert any(n.code == "looks_like_paragraphs" for n in result.notices)
    assert not parse_passages("a\n\nb\n\nc").notices
    assert not parse_passages("a\nb\nc").notices


def test_json_array_of_strings():
    result = parse_passages(json.dumps(["  one ", "two", ""]))
    assert result.mode == "json"
    assert result.texts == ["one", "two"]
    assert result.relevance == [None, None]


def test_json_objects_with_relevance_and_relevant():
    data = [{"text": "a", "relevance": 2}, {"text": "b", "relevant": True}, {"text": "c", "relevant": False},
            {"text": "d"}]
    result = parse_passages(json.dumps(data))
    assert result.texts == ["a", "b", "c", "d"]
    assert result.relevance == [2, 1, 0, None]


def test_json_keeps_markers_because_the_text_is_explicit():
    assert parse_passages(json.dumps(["1. a", "2. b"])).texts == ["1. a", "2. b"]


def test_exported_json_object_restores_query_and_original_order():
    data = {"query": "tides", "passages": [{"text": "b", "position": 2, "rank": 1},
                                           {"text": "a", "position": 1, "rank": 2}]}
    result = parse_passages(json.dumps(data))
    assert result.query == "tides"
    assert result.texts == ["a", "b"]


def test_invalid_json_in_json_mode_names_line_and_column():
    with pytest.raises(InputError) as info:
        parse_passages('["a",\n "b" "c"]', "json")
    assert info.value.code == "json_invalid"
    assert "line 2" in info.value.message and info.value.field == "passages"


def test_bracketed_line_in_auto_mode_falls_back_to_lines():
    result = parse_passages("[draft] first\nsecond")
    assert result.mode == "lines"
    assert result.texts == ["[draft] first", "second"]


def test_single_line_broken_json_in_auto_mode_says_it_was_treated_as_text():
    result = parse_passages('["a", "b",]')
    assert result.mode == "lines"
    assert any(n.code == "json_ignored" for n in result.notices)


@pytest.mark.parametrize("data, code, fragment", [
    ([1, 2], "json_item_type", "Item 1"),
    ([{"txt": "a"}], "json_item_text", "Item 1"),
    (["ok", {"text": "a", "relevance": 7}], "json_relevance", "Item 2"),
    ([{"text": "a", "relevant": "yes"}], "json_relevance", "true or false"),
])
def test_bad_json_items_get_specific_messages(data, code, fragment):
    with pytest.raises(InputError) as info:
        parse_passages(json.dumps(data))
    assert info.value.code == code
    assert fragment in info.value.message


def test_json_mode_rejects_plain_text():
    with pytest.raises(InputError) as info:
        parse_passages("just text", "json")
    assert info.value.code == "json_not_array"


def test_exact_duplicates_are_flagged_not_dropped():
    result = parse_passages("same\nother\nsame\nsame")
    assert result.texts == ["same", "other", "same", "same"]
    assert [p.duplicate_of for p in result.passages] == [None, None, 0, 0]
    notice = next(n for n in result.notices if n.code == "duplicates")
    assert "2 passages are" in notice.message and "passage 3 repeats passage 1" in notice.message


def test_unknown_mode_is_rejected():
    with pytest.raises(InputError) as info:
        parse_passages("a", "csv")
    assert info.value.code == "bad_mode"


def test_query_normalisation_collapses_whitespace_and_controls():
    assert normalize_query("  what\tcauses \n\n tides\x00 ? ") == "what causes tides ?"


def test_limits_are_exactly_at_the_documented_numbers():
    assert len(parse_passages("\n".join(f"p{i}" for i in range(MAX_PASSAGES))).passages) == MAX_PASSAGES
    assert len(parse_passages("x" * MAX_PASSAGE_CHARS).texts[0]) == MAX_PASSAGE_CHARS


def test_to_dict_is_json_serialisable():
    result = parse_passages("a\na\nb")
    assert json.loads(json.dumps(result.to_dict()))["passages"][1]["duplicate_of"] == 0
