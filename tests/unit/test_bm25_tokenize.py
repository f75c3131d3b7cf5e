"""Unicode tokenizer and Okapi BM25 against hand-computed values."""

import math

import pytest

from reranker import bm25_order, bm25_scores, fold, tokenize


def test_tokenizer_casefolds_and_folds_accents():
    assert tokenize("Café CRÈME Straße naïve") == ["cafe", "creme", "strasse", "naive"]


def test_cjk_is_split_per_character_and_hangul_stays_whole():
    assert tokenize("東京タワー") == ["東", "京", "タ", "ワ", "ー"]
    assert tokenize("한국어 텍스트") == ["한국어", "텍스트"]


def test_latin_next_to_cjk_is_separated():
    assert tokenize("BM25是基线") == ["bm25", "是", "基", "线"]


def test_digits_and_underscores():
    assert tokenize("max_length=256 and 2,000 items in Python 3.11, utf8") == [
        "max_length", "max", "length", "256", "and", "2000", "items", "in", "python", "3.11", "utf8"]


def test_rtl_scripts_and_emoji_tokens():
    assert tokenize("مرحبا שלום 🚀!") == ["مرحبا", "שלום", "🚀"]


def test_accents_fold_the_same_inside_ascii_text_as_alone():
    # fold() lower-cases ASCII and folds only the non-ASCII runs: a combining accent after an ASCII letter, a
    # precomposed letter, a ligature or final sigma between ASCII words must fold exactly as they do on their own.
    assert fold("Cafe\u0301 au lait") == "cafe au lait"
    assert fold("the ΟΔΟΣ road") == "the οδοσ road"
    assert fold("x ﬁ y Ǆ z") == "x fi y dz z"
    assert tokenize("Crème brûlée, e\u0301te\u0301 2024") == ["creme", "brulee", "ete", "2024"]


def test_fullwidth_and_ligatures_normalise():
    assert tokenize("ＦＵＬＬ ﬁne") == ["full", "fine"]
    assert fold("Ǆ") == "dz"


def test_bm25_matches_hand_computed_okapi():
    # N=3, df(c)=1 -> idf = ln(1 + 2.5/1.5); avgdl = 2; d1: tf=2, dl=3
    scores = bm25_scores("c", ["a b", "a c c", "d"], k1=1.2, b=0.75)
    idf = math.log(1 + 2.5 / 1.5)
    expected = idf * 2 * 2.2 / (2 + 1.2 * (0.25 + 0.75 * 3 / 2))
    assert scores == [0.0, pytest.approx(expected), 0.0]
    assert expected == pytest.approx(1.182369, abs=1e-6)


def test_bm25_k1_and_b_change_the_result():
    texts = ["tide tide tide tide long long long long long", "tide short"]
    assert bm25_order("tide", texts, k1=1.2, b=1.0) == [1, 0]   # length normalisation favours the short one
    assert bm25_order("tide", texts, k1=1.2, b=0.0) == [0, 1]   # without it, term frequency wins


def test_bm25_counts_each_query_term_once_and_never_goes_negative():
    texts = ["the cat", "the dog", "the bird"]
    assert bm25_scores("the the the", texts) == bm25_scores("the", texts)
    assert all(s >= 0 for s in bm25_scores("the", texts))


def test_bm25_ties_keep_original_order_and_handle_empty_docs():
    assert bm25_order("zzz", ["a", "b", "c"]) == [0, 1, 2]
    assert bm25_scores("a", ["!!!", "?"]) == [0.0, 0.0]


def test_bm25_rejects_bad_parameters():
    with pytest.raises(ValueError, match="0 <= b <= 1"):
        bm25_scores("a", ["a"], b=2)


def test_bm25_accent_insensitive_match():
    assert bm25_order("resume", ["a cat", "my résumé"]) == [1, 0]
