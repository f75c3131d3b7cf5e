"""Split a passage that is too long for the model into overlapping windows with character spans."""

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from .tokenize import estimate_tokens, estimate_tokens_raw

TokenCounter = Callable[[str], int]
DEFAULT_OVERLAP = 0.25  # share of a window repeated at the start of the next one
_WORD = re.compile(r"\S+")


@dataclass(frozen=True, slots=True)
class Window:
    """Characters [start, end) of the passage text; `index` counts windows within the passage."""

    index: int
    start: int
    end: int


def passage_budget(query: str, max_tokens: int, count_tokens: TokenCounter = estimate_tokens) -> int:
    """Tokens left for passage text: max_tokens minus the query and the 3 special tokens ([CLS] q [SEP] p [SEP])."""
    return max_tokens - count_tokens(query) - 3


def split_windows(text: str, budget: int, count_tokens: TokenCounter = estimate_tokens,
                  overlap: float = DEFAULT_OVERLAP) -> list[Window]:
    """Windows of at most `budget` tokens (by `count_tokens`), consecutive ones sharing ~`overlap` of a window.

    Splits at whitespace and sums per-word counts (exact for WordPiece, whose pre-tokenizer splits on
    whitespace); a single word longer than the budget is cut by characters. A text that fits is one window.
    """
    if budget < 1:
        raise ValueError("The window budget must be at least one token.")
    if count_tokens is estimate_tokens and overlap == DEFAULT_OVERLAP:
        return list(_split_estimated(text, budget))
    return _split(text, budget, count_tokens, overlap)


@lru_cache(maxsize=4096)  # twice the passage limit: the live count, Rerank and re-runs window each text once
def _split_estimated(text: str, budget: int) -> tuple[Window, ...]:
    """split_windows with the default estimate and overlap, remembered per (text, budget)."""
    return tuple(_split(text, budget, estimate_tokens, DEFAULT_OVERLAP))


def _split(text: str, budget: int, count_tokens: TokenCounter, overlap: float) -> list[Window]:
    """The windowing itself (see split_windows)."""
    if count_tokens(text) <= budget:
        return [Window(0, 0, len(text))]
    if count_tokens is estimate_tokens:  # sum raw per-word estimates; apply the 10% margin to the budget
        count_tokens, budget = estimate_tokens_raw, max(1, budget * 10 // 11)
    pieces = _pieces(text, budget, count_tokens)
    overlap_tokens = int(budget * overlap)
    windows: list[Window] = []
    first = 0
    while first < len(pieces):
        used = 0
        last = first
        while last < len(pieces) and used + pieces[last][2] <= budget:
            used += pieces[last][2]
            last += 1
        last = max(last, first + 1)
        windows.append(Window(len(windows), pieces[first][0], pieces[last - 1][1]))
        if last >= len(pieces):
            break
        back = last
        carried = 0
        while back - 1 > first and carried + pieces[back - 1][2] <= overlap_tokens:
            back -= 1
            carried += pieces[back][2]
        first = back
    return windows


def _pieces(text: str, budget: int, count_tokens: TokenCounter) -> list[tuple[int, int, int]]:
    """(start, end, tokens) per word; words over the budget are cut into character chunks that fit."""
    pieces: list[tuple[int, int, int]] = []
    cache: dict[str, int] = {}
    for match in _WORD.finditer(text):
        word = match.group()
        tokens = cache.get(word)
        if tokens is None:
            tokens = cache[word] = count_tokens(word)
        if tokens <= budget:
            pieces.append((match.start(), match.end(), tokens))
            continue
        pieces.extend(_cut_word(word, match.start(), budget, count_tokens))
    return pieces


def _cut_word(word: str, offset: int, budget: int, count_tokens: TokenCounter) -> list[tuple[int, int, int]]:
    """Cut an over-long word into chunks of at most `budget` tokens (halving the chunk until it fits)."""
    out: list[tuple[int, int, int]] = []
    start = 0
    while start < len(word):
        size = max(1, (len(word) - start) * budget // max(1, count_tokens(word[start:])))
        while size > 1 and count_tokens(word[start:start + size]) > budget:
            size //= 2
        chunk = word[start:start + size]
        out.append((offset + start, offset + start + size, count_tokens(chunk)))
        start += size
    return out
