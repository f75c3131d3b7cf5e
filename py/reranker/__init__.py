"""Ranking core of the in-browser reranker: parsing, BM25, windows, calibration, live session, metrics,
export and share links. Pure stdlib; runs in CPython 3.11+ and Pyodide.

Typical use from the page glue::

    from reranker import (RankingSession, ScoreCache, parse_passages, calibration_for, view_json, to_json,
                          encode_share, decode_share, ShareState, InputError, ShareError)

    cache = ScoreCache()                                   # keep one for the page's lifetime
    parsed = parse_passages(textarea_text, mode="auto")    # InputError(code, message, field) on bad input
    session = RankingSession(query_text, parsed.passages, model["id"], model["max_length"],
                             calibration=calibration_for(model), cache=cache, threshold=0.5, top_k=5)
    pairs = session.pending_pairs()                        # [{key, query, text}] -> worker "score" message
    update = session.add_scores([{"key": k, "logit": x}])  # any order, one or a batch per animation frame
    view_json(update, full=False)                          # what the page gets: {order, counters, rows of `touched`}
    update.order, update.touched, update.row(i)            # display order, indexes whose own facts changed, one Row
    session.set_view(threshold=0.3, top_k=3)               # view change in one update, no re-scoring
    session.metrics(k=5)                                   # {"original"|"bm25"|"cross_encoder": {ndcg, mrr, ...}}
    to_json(session); to_markdown(session); to_csv(session)
    link = encode_share(ShareState(query=..., passages=parsed.texts, model=..., labels=parsed.relevance))
    state = decode_share(link)                             # ShareError with a user-facing message if bad
    edited = session.rerun(passages=new_texts)             # cache hit for everything unchanged

While streaming, scored rows at/above the threshold rise to the top, pending rows keep their original
order in the middle, and rows under the threshold sink to the bottom (see `reranker.session`).
"""

from .bm25 import bm25_order, bm25_scores, order_by_scores
from .cache import ScoreCache
from .calibration import CALIBRATIONS, calibrate, calibration_for, sigmoid
from .errors import InputError, RerankerError, ShareError
from .limits import MAX_PASSAGE_CHARS, MAX_PASSAGES, MAX_QUERY_CHARS, MAX_TOTAL_CHARS
from .metrics import compare_orders, dcg_at_k, evaluate, has_labels, mrr, ndcg_at_k, precision_at_k, recall_at_k
from .parse import MODES, Notice, ParseResult, Passage, normalize_query, parse_passages
from .rows import Facts, Row, Update
from .session import RankingSession
from .tokenize import estimate_tokens, fold, tokenize
from .windows import Window, passage_budget, split_windows
from .wire import row_json, view_json

__version__ = "0.1.0"

# Export and share links are only needed when the user asks for them: imported on first use, which keeps them
# off the page's start-up path (compiling their source and stdlib imports costs ~40 ms under Pyodide).
_LAZY = {name: "export" for name in ("export_rows", "markdown_cell", "to_csv", "to_json", "to_markdown")}
_LAZY |= {name: "share" for name in ("ShareState", "decode_share", "encode_share", "format_passages", "matches_preset")}


def __getattr__(name: str) -> object:
    """The export / share names, imported when first asked for (PEP 562)."""
    if name in _LAZY:
        from importlib import import_module  # noqa: PLC0415

        return getattr(import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "CALIBRATIONS", "MAX_PASSAGES", "MAX_PASSAGE_CHARS", "MAX_QUERY_CHARS", "MAX_TOTAL_CHARS", "MODES", "Facts",
    "InputError", "Notice", "ParseResult", "Passage", "RankingSession", "RerankerError", "Row", "ScoreCache",
    "ShareError", "ShareState", "Update", "Window", "bm25_order", "bm25_scores", "calibrate", "calibration_for",
    "compare_orders", "dcg_at_k", "decode_share", "encode_share", "estimate_tokens", "evaluate", "export_rows",
    "fold", "format_passages", "has_labels", "markdown_cell", "matches_preset", "mrr", "ndcg_at_k",
    "normalize_query", "order_by_scores", "parse_passages", "passage_budget",
    "precision_at_k", "recall_at_k", "row_json", "sigmoid", "split_windows", "to_csv", "to_json", "to_markdown",
    "tokenize", "view_json",
]
