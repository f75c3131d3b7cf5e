"""Unicode tokenizer for BM25 and a conservative token-count estimate for cross-encoder windows."""

import math
import re
import unicodedata
from functools import cache, lru_cache

_CJK = (r"\u2e80-\u2fdf\u3005\u3040-\u30ff\u3100-\u312f\u3190-\u31ff\u3400-\u4dbf\u4e00-\u9fff"
        r"\uf900-\ufaff\uff66-\uff9f\U00020000-\U0003134f")


@cache  # compiled on first use: these Unicode classes cost ~30 ms to compile under Pyodide, off the start-up path
def _token_pattern() -> re.Pattern[str]:
    """BM25 terms: grouped number | CJK character | word (snake_case kept whole) | symbol candidate."""
    return re.compile(
        r"(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)+)"     # 2,000 -> 2000 ; 3.11 stays whole
        rf"|(?P<cjk>[{_CJK}])"                                      # Han / kana: one token per character
        rf"|(?P<word>[^\W_{_CJK}]+(?:_+[^\W_{_CJK}]+)*)"            # letters+digits; snake_case kept whole
        r"|(?P<sym>[^\w\s])"                                        # candidates for emoji / symbols
    )


_NON_ASCII_RUN = re.compile(r"[^\x00-\x7f]+")


def fold(text: str) -> str:
    """Case- and accent-fold: NFKD, drop combining marks, casefold, recompose (keeps Hangul intact).

    ASCII needs only lower(); only the non-ASCII runs take the per-character path (the cost of BM25 under Pyodide).
    """
    lowered = text.lower()
    return lowered if lowered.isascii() else _NON_ASCII_RUN.sub(_fold_run, lowered)


def _fold_run(match: re.Match[str]) -> str:
    """fold() of one run of non-ASCII characters (no ASCII letter composes with a following non-combining one)."""
    decomposed = unicodedata.normalize("NFKD", match.group())
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return unicodedata.normalize("NFC", stripped.casefold())


def tokenize(text: str) -> list[str]:
    """BM25 terms: folded words and numbers, CJK per character, emoji/symbols (So) as single tokens.

    A snake_case identifier yields the whole identifier and then its parts, so `max_length` matches
    both `max_length` and `max length`.
    """
    tokens: list[str] = []
    for match in _token_pattern().finditer(fold(text)):
        kind = match.lastgroup
        value = match.group()
        if kind == "word":
            tokens.append(value)
            if "_" in value:
                tokens.extend(part for part in value.split("_") if part)
        elif kind == "num":
            tokens.append(value.replace(",", "") if "," in value else value)
        elif kind == "cjk":
            tokens.append(value)
        elif unicodedata.category(value) == "So":
            tokens.append(value)
    return tokens


# --- token-count estimate ----------------------------------------------------------------------------
# Conservative on purpose: a window that the estimate thinks fits must really fit, or the model silently
# truncates it and the passage is scored on text the user cannot see. Rules (BERT WordPiece, uncased):
# every punctuation/symbol char is one token, every CJK char is one token, other non-Latin letters count
# one per character (Hangul three), plain Latin words count ceil(len / 3) (real WordPiece: ~len/5 for
# common words), and digits / CamelCase / letter+digit codes count ceil(len * 2 / 3).


@cache
def _piece_pattern() -> re.Pattern[str]:
    """Estimate pieces: a CJK character | an ASCII letter/digit run | another letter run | digits | any symbol."""
    return re.compile(rf"[{_CJK}]|[A-Za-z0-9]+|[^\W\d_A-Za-z{_CJK}]+|\d+|\S")


@lru_cache(maxsize=65536)
def _estimate_piece(piece: str) -> int:
    """Estimated tokens for one regex piece (cached: words repeat)."""
    if len(piece) == 1:
        return 1
    if piece.isascii():
        return _estimate_ascii_run(piece)
    folded = fold(piece)
    if folded.isascii() and folded.isalnum():
        return _estimate_ascii_run(folded)
    # Hangul decomposes to 2-3 jamo under BERT's accent stripping; other scripts: one per character.
    return sum(3 if "\uac00" <= ch <= "\ud7a3" else 1 for ch in piece)


def _estimate_ascii_run(run: str) -> int:
    """Plain words ~ len/3; digits, mixed case and letter+digit codes (hex, identifiers) ~ len/1.5."""
    if run.isalpha() and (run.islower() or run.isupper() or run[1:].islower()):
        return max(1, math.ceil(len(run) / 3))
    return max(1, math.ceil(len(run) * 2 / 3))


_ASCII_RUN = re.compile(r"[A-Za-z0-9]+")
_ASCII_SYMBOL = re.compile(r"[^A-Za-z0-9\s]")


def estimate_tokens_raw(text: str) -> int:
    """Per-piece estimate without the safety margin (additive over words, used when windowing)."""
    if text.isascii():  # ASCII pieces are letter/digit runs and single symbols (1 each): two plain scans
        return len(_ASCII_SYMBOL.findall(text)) + sum(map(_estimate_piece, _ASCII_RUN.findall(text)))
    return sum(map(_estimate_piece, _piece_pattern().findall(text)))


def with_margin(raw: int) -> int:
    """Add the 10% safety margin to a raw estimate."""
    return raw + math.ceil(raw / 10)


def estimate_tokens(text: str) -> int:
    """Conservative WordPiece-style token count of `text` (no special tokens), with a 10% safety margin."""
    return with_margin(estimate_tokens_raw(text))
