"""Bad input from issue 3: each case gets a specific message or a correct result; nothing typed is lost."""

import json

import pytest

from reranker import (InputError, RankingSession, decode_share, encode_share, normalize_query, parse_passages,
                      ShareState, to_json)


@pytest.mark.parametrize("query", ["", "   ", "\n\t ", "\x00\x01"])
def test_empty_or_blank_query(query):
    with pytest.raises(InputError) as info:
        normalize_query(query)
    assert info.value.code == "query_empty" and info.value.field == "query"
    assert "Type a query" in info.value.message


def test_overlong_query_says_how_long_it_is():
    with pytest.raises(InputError) as info:
        normalize_query("word " * 1000)
    assert info.value.code == "query_too_long" and "4,999 characters" in info.value.message


def test_query_too_long_for_the_models_window():
    with pytest.raises(InputError) as info:
        RankingSession("word " * 300, ["a passage"], "m", max_tokens=128)
    assert info.value.code == "query_too_long_for_model" and "128 tokens" in info.value.message


@pytest.mark.parametrize("text", ["", "   ", "\n\n\n", " \t \n \u3000 "])
def test_no_passages_or_only_whitespace(text):
    with pytest.raises(InputError) as info:
        parse_passages(text)
    assert info.value.code == "no_passages" and info.value.field == "passages"


def test_session_without_passages():
    with pytest.raises(InputError) as info:
        RankingSession("q", [], "m")
    assert info.value.code == "no_passages"


def test_one_passage_ranks_and_warns():
    result = parse_passages("only one")
    assert any(n.code == "single_passage" for n in result.notices)
    session = RankingSession("q", result.passages, "m")
    pair = session.pending_pairs()[0]
    update = session.add_score(pair["key"], 2.0)
    assert update.order == [0] and update.done and update.row(0).rank == 1


def test_more_than_2000_passages():
    with pytest.raises(InputError) as info:
        parse_passages("\n".join(f"passage {i}" for i in range(2_500)))
    assert info.value.code == "too_many_passages"
    assert "2,500 passages" in info.value.message and "limit is 2,000" in info.value.message
    assert "Remove 500" in info.value.message


def test_a_passage_over_100k_characters_is_named():
    with pytest.raises(InputError) as info:
        parse_passages("short\n" + "y" * 100_001)
    assert info.value.code == "passage_too_long"
    assert "Passage 2 (line 2)" in info.value.message and "100,001 characters" in info.value.message


def test_a_100k_character_passage_is_accepted_and_windowed():
    text = " ".join(f"Sentence {i} says the tide rises twice a day because of the moon." for i in range(2000))
    text = text[:100_000].strip()
    session = RankingSession("why are there tides", parse_passages(text).passages, "m", 256)
    windows = session.windows(0)
    assert len(windows) > 50
    assert session.pairs_total == len(windows) == len(session.pending_pairs())
    assert windows[0].start == 0 and windows[-1].end == len(text)


def test_ten_megabytes_is_refused_before_any_work():
    with pytest.raises(InputError) as info:
        parse_passages("a" * 10_000_000)
    assert info.value.code == "total_too_long" and "10,000,000 characters" in info.value.message


def test_nul_and_control_characters_are_removed_with_a_notice():
    result = parse_passages("tab\there\x00 and bell\x07\nline two\x1b[31m red")
    assert result.texts == ["tab\there and bell", "line two[31m red"]
    notice = next(n for n in result.notices if n.code == "control_chars")
    assert "Removed 3 invisible control characters" in notice.message and "line 1" in notice.message


def test_a_line_of_only_control_characters_is_dropped():
    assert parse_passages("\x00\x01\x02\nreal").texts == ["real"]


def test_lone_surrogates_become_replacement_characters_and_survive_sharing():
    result = parse_passages("bad \ud800 surrogate\nok")
    assert result.texts[0] == "bad \ufffd surrogate"
    state = ShareState(query="q", passages=result.texts)
    assert decode_share(encode_share(state)) == state


@pytest.mark.parametrize("text", [
    "مرحبا بالعالم، كيف حالك؟",                  # Arabic (RTL)
    "שלום עולם \u202eevil\u202c",                 # Hebrew with a bidi override kept as typed
    "東京タワーは日本の電波塔です。",               # Japanese
    "👩‍👩‍👧 family emoji 🚀 and flags 🇬🇧",   # ZWJ sequence and regional indicators
    "Ünïcödé ﬁ ligature and ＦＵＬＬＷＩＤＴＨ",
])
def test_mixed_scripts_are_kept_exactly_and_rank(text):
    result = parse_passages(f"{text}\nan unrelated line about cats")
    assert result.texts[0] == text
    session = RankingSession(text[:10], result.passages, "m")
    for pair in session.pending_pairs():
        session.add_score(pair["key"], 1.0 if pair["text"] == text else -1.0)
    assert session.view().order == [0, 1]
    assert json.loads(to_json(session))["passages"][0]["text"] == text


def test_html_is_kept_as_text():
    result = parse_passages("<script>alert(1)</script>\n<img src=x onerror=alert(1)>")
    assert result.texts == ["<script>alert(1)</script>", "<img src=x onerror=alert(1)>"]
