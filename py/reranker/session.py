"""RankingSession: scores arrive one at a time in any order; each arrival yields the new display order.

Display order while streaming (why): scored passages at or above the threshold rise to the top (best
first), passages still pending keep their original relative order in the middle, and scored passages
under the threshold ("sunk") collect at the bottom (best first). Every row therefore moves at most
once per arrival, in the direction its score says (up = relevant, down = off-topic), and the rows still
waiting stay exactly where the reader left them. Once everything is scored the order is simply "by
score, ties by original position". With `threshold=None` nothing sinks: scored rows sit above pending.
"""

import itertools
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from .bm25 import bm25_scores, order_by_scores
from .cache import ScoreCache
from .calibration import calibrate
from .errors import InputError
from .limits import MAX_PASSAGES, MIN_WINDOW_TOKENS
from .metrics import compare_orders, has_labels
from .parse import Passage, normalize_query, _with_duplicates
from .tokenize import estimate_tokens
from .windows import TokenCounter, Window, passage_budget, split_windows

_session_ids = itertools.count(1)


@dataclass(slots=True)
class Row:
    """One passage as shown: rank is 1-based display position; `move` (+ = up) is since the last update."""

    index: int
    text: str
    rank: int
    state: str                      # "pending" | "scored"
    score: float | None             # calibrated 0-1
    raw: float | None               # model output before calibration (max over windows)
    sunk: bool
    in_top_k: bool
    move: int
    change_vs_original: int         # original position - current position (+ = moved up)
    relevance: int | None
    window: Window | None           # winning window when the passage was split, else None
    window_count: int
    duplicate_of: int | None
    truncated: bool                 # the real tokenizer reported the model saw a cut window

    def to_dict(self) -> dict:
        """JSON-able form matching the view's row contract (plus extras)."""
        return {"index": self.index, "text": self.text, "rank": self.rank, "state": self.state,
                "score": self.score, "raw": self.raw, "sunk": self.sunk, "inTopK": self.in_top_k,
                "move": self.move, "changeVsOriginal": self.change_vs_original, "relevance": self.relevance,
                "window": self.window.to_dict() if self.window else None, "windowCount": self.window_count,
                "duplicateOf": self.duplicate_of, "truncated": self.truncated}


@dataclass(slots=True)
class Update:
    """What changed after an arrival: full display order, rows in display order, and indexes that changed."""

    order: list[int]
    rows: list[Row]
    changed: list[int]
    scored: int
    total: int
    pairs_done: int
    pairs_total: int
    done: bool
    cancelled: bool
    threshold: float | None
    top_k: int | None
    revision: int
    ignored: int = 0

    def event_detail(self) -> dict:
        """`rerank:update` event detail: {order, scored, total}."""
        return {"order": list(self.order), "scored": self.scored, "total": self.total}

    def to_dict(self, only_changed: bool = False) -> dict:
        """JSON-able form; `only_changed` sends just the rows in `changed` (order is always complete)."""
        wanted = set(self.changed) if only_changed else None
        rows = [r.to_dict() for r in self.rows if wanted is None or r.index in wanted]
        return {"order": list(self.order), "rows": rows, "changed": list(self.changed), "scored": self.scored,
                "total": self.total, "pairsDone": self.pairs_done, "pairsTotal": self.pairs_total,
                "done": self.done, "cancelled": self.cancelled, "threshold": self.threshold,
                "topK": self.top_k, "cutAfter": self.top_k, "revision": self.revision, "ignored": self.ignored}


@dataclass(slots=True)
class _Slot:
    """Internal per-passage scoring state."""

    windows: list[Window]
    raws: list[float | None]
    truncated: list[bool] = field(default_factory=list)
    best: int | None = None
    raw: float | None = None


def passages_from_texts(texts: Sequence[str], relevance: Sequence[int | None] | None = None) -> list[Passage]:
    """Passages from plain strings (already parsed/trimmed), duplicates flagged, labels attached."""
    labels = list(relevance) if relevance is not None else [None] * len(texts)
    if len(labels) != len(texts):
        raise ValueError(f"Got {len(labels)} labels for {len(texts)} passages.")
    items = [(text, f"passage {i + 1}", label) for i, (text, label) in enumerate(zip(texts, labels))]
    return _with_duplicates(items, [])


class RankingSession:
    """Ranking state for one (query, passages, model) run; feed it scores, read display updates."""

    def __init__(self, query: str, passages: Sequence[Passage | str], model_id: str, max_tokens: int = 512, *,
                 calibration: str = "sigmoid", cache: ScoreCache | None = None,
                 count_tokens: TokenCounter | None = None, threshold: float | None = 0.5,
                 top_k: int | None = None) -> None:
        self.id = f"s{next(_session_ids)}"
        self.query = normalize_query(query)
        self.passages = self._as_passages(passages)
        self.model_id = model_id
        self.max_tokens = max_tokens
        self.calibration = calibration
        calibrate(0.0, calibration)  # reject an unknown calibration now, not at the first score
        self.cache = cache if cache is not None else ScoreCache()
        self.count_tokens = count_tokens or estimate_tokens
        self.threshold = _check_threshold(threshold)
        self.top_k = _check_top_k(top_k)
        self.cancelled = False
        self.ignored = 0
        self._revision = 0
        self._bm25: list[float] | None = None
        self._slots = self._plan_windows()
        self._by_text: dict[str, list[tuple[int, int]]] = {}
        for p, slot in enumerate(self._slots):
            for w, window in enumerate(slot.windows):
                self._by_text.setdefault(self.window_text(p, w), []).append((p, w))
        self._pairs_done = 0
        self._fill_from_cache()
        self._prev_rank: list[int] = list(range(1, len(self.passages) + 1))
        self._rows: list[Row | None] = [None] * len(self.passages)
        self._last: Update = self._build_update()

    # -- construction ------------------------------------------------------------------------------

    @staticmethod
    def _as_passages(passages: Sequence[Passage | str]) -> list[Passage]:
        """Accept Passage objects or plain strings; reject an empty or oversized list."""
        items = list(passages)
        if not items:
            raise InputError("no_passages", "Paste at least one passage to rank.", "passages")
        if len(items) > MAX_PASSAGES:
            raise InputError("too_many_passages", f"There are {len(items):,} passages; the limit is "
                             f"{MAX_PASSAGES:,}.", "passages")
        triples = [(p.text, p.source, p.relevance) if isinstance(p, Passage) else (str(p), f"passage {i + 1}", None)
                   for i, p in enumerate(items)]
        return _with_duplicates(triples, [])

    def _plan_windows(self) -> list[_Slot]:
        """Split passages that exceed the model's budget after the query and special tokens."""
        budget = passage_budget(self.query, self.max_tokens, self.count_tokens)
        if budget < MIN_WINDOW_TOKENS:
            raise InputError("query_too_long_for_model", f"The query uses about {self.max_tokens - budget - 3} "
                             f"of this model's {self.max_tokens} tokens, leaving no room for passage text. "
                             "Shorten the query.", "query")
        slots = []
        for passage in self.passages:
            windows = split_windows(passage.text, budget, self.count_tokens)
            slots.append(_Slot(windows, [None] * len(windows), [False] * len(windows)))
        return slots

    def _fill_from_cache(self) -> None:
        """Mark windows whose (model, query, text) score is already cached."""
        for text, targets in self._by_text.items():
            raw = self.cache.get(self.model_id, self.query, text)
            if raw is not None:
                for p, w in targets:
                    self._slots[p].raws[w] = raw
                self._pairs_done += 1
        for p in range(len(self._slots)):
            self._settle(p)

    # -- queries -----------------------------------------------------------------------------------

    def window_text(self, passage: int, window: int) -> str:
        """Text of one window of one passage."""
        win = self._slots[passage].windows[window]
        return self.passages[passage].text[win.start:win.end]

    def windows(self, passage: int) -> list[Window]:
        """All windows of a passage (one spanning the whole text when it fits)."""
        return list(self._slots[passage].windows)

    def pending_pairs(self, limit: int | None = None) -> list[dict]:
        """Pairs {key, query, text} still needing a score, in original order; identical texts appear once."""
        pairs: list[dict] = []
        seen: set[str] = set()
        for p, slot in enumerate(self._slots):
            for w, raw in enumerate(slot.raws):
                if raw is not None:
                    continue
                text = self.window_text(p, w)
                if text in seen:
                    continue
                seen.add(text)
                pairs.append({"key": f"{self.id}/{p}/{w}", "query": self.query, "text": text})
                if limit is not None and len(pairs) >= limit:
                    return pairs
        return pairs

    def view(self) -> Update:
        """The latest update (no change)."""
        return self._last

    @property
    def done(self) -> bool:
        """True when every passage has a score."""
        return all(slot.raw is not None for slot in self._slots)

    # -- mutations ---------------------------------------------------------------------------------

    def add_score(self, key: str, logit: float, tokens: int | None = None) -> Update:
        """Record one raw model output for a pair key; returns the new display state."""
        return self.add_scores([(key, logit, tokens)])

    def add_scores(self, results: Iterable[Mapping | Sequence]) -> Update:
        """Record several results: dicts {key, logit, tokens?} (worker messages) or (key, logit[, tokens])."""
        touched = False
        for result in results:
            if isinstance(result, Mapping):
                key, logit, tokens = result.get("key"), result.get("logit", result.get("score")), result.get("tokens")
            else:
                key, logit = result[0], result[1]
                tokens = result[2] if len(result) > 2 else None
            touched = self._apply(str(key), logit, tokens) or touched
        if touched and not self.cancelled:
            self._last = self._build_update()
        elif self.ignored != self._last.ignored:
            self._last.ignored = self.ignored
        return self._last

    def cancel(self) -> Update:
        """Stop: later scores are cached but no longer move rows; pending rows stay pending."""
        self.cancelled = True
        self._last = self._build_update()
        return self._last

    def set_threshold(self, threshold: float | None) -> Update:
        """Change the sink threshold (0-1 or None); no re-scoring."""
        self.threshold = _check_threshold(threshold)
        self._last = self._build_update()
        return self._last

    def set_top_k(self, top_k: int | None) -> Update:
        """Change the top-k cut (None = no cut); no re-scoring."""
        self.top_k = _check_top_k(top_k)
        self._last = self._build_update()
        return self._last

    def set_relevance(self, index: int, relevance: int | None) -> Update:
        """Set or clear a passage's label (0, 1, 2 or None)."""
        if relevance is not None and relevance not in (0, 1, 2):
            raise InputError("bad_relevance", "A relevance label must be 0, 1 or 2.", "passages")
        old = self.passages[index]
        self.passages[index] = Passage(old.index, old.text, old.source, relevance, old.duplicate_of)
        self._last = self._build_update()
        return self._last

    def rerun(self, query: str | None = None, passages: Sequence[Passage | str] | None = None,
              model_id: str | None = None, **options) -> "RankingSession":
        """A new session sharing this one's cache (only changed windows need scores); settings carry over."""
        settings = {"max_tokens": self.max_tokens, "calibration": self.calibration, "cache": self.cache,
                    "count_tokens": self.count_tokens, "threshold": self.threshold, "top_k": self.top_k}
        settings.update(options)
        return RankingSession(self.query if query is None else query,
                              self.passages if passages is None else passages,
                              self.model_id if model_id is None else model_id, **settings)

    # -- orders for the compare columns ------------------------------------------------------------

    def bm25_scores(self, k1: float = 1.2, b: float = 0.75) -> list[float]:
        """BM25 score per passage (computed once for the default k1/b)."""
        if (k1, b) != (1.2, 0.75):
            return bm25_scores(self.query, [p.text for p in self.passages], k1, b)
        if self._bm25 is None:
            self._bm25 = bm25_scores(self.query, [p.text for p in self.passages])
        return self._bm25

    def orders(self, biencoder_scores: Sequence[float] | None = None) -> dict[str, list[int]]:
        """Orders of original indexes: original, bm25, biencoder (if scores given), cross_encoder (current)."""
        result = {"original": list(range(len(self.passages))), "bm25": order_by_scores(self.bm25_scores())}
        if biencoder_scores is not None:
            result["biencoder"] = order_by_scores(list(biencoder_scores))
        result["cross_encoder"] = list(self._last.order)
        return result

    def metrics(self, k: int | None = None, biencoder_scores: Sequence[float] | None = None,
                relevant_from: int = 1) -> dict[str, dict] | None:
        """nDCG@k / MRR / P@k / R@k per compare column; k defaults to top_k or 5; None without labels."""
        if not has_labels(self.relevance):
            return None
        return compare_orders(self.orders(biencoder_scores), self.relevance, k or self.top_k or 5, relevant_from)

    @property
    def relevance(self) -> list[int | None]:
        """Current labels in original order."""
        return [p.relevance for p in self.passages]

    # -- internals ---------------------------------------------------------------------------------

    def _apply(self, key: str, logit: object, tokens: object) -> bool:
        """Store one result; False when the key is not this session's (stale run) or already known."""
        target = self._parse_key(key)
        if target is None:
            self.ignored += 1
            return False
        p, w = target
        try:
            raw = float(logit)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            raw = math.nan
        if math.isnan(raw):
            raise InputError("bad_score", f"The model returned an invalid score ({logit!r}) for passage {p + 1}.",
                             "model")
        text = self.window_text(p, w)
        self.cache.put(self.model_id, self.query, text, raw)
        if self.cancelled:
            return False
        cut = isinstance(tokens, int) and not isinstance(tokens, bool) and tokens >= self.max_tokens
        targets = self._by_text[text]
        first_p, first_w = targets[0]
        is_new = self._slots[first_p].raws[first_w] is None
        for tp, tw in targets:
            slot = self._slots[tp]
            if cut:
                slot.truncated[tw] = True
            if is_new:
                slot.raws[tw] = raw
                self._settle(tp)
        if is_new:
            self._pairs_done += 1
        return is_new or cut

    def _parse_key(self, key: str) -> tuple[int, int] | None:
        """'sid/p/w' -> (p, w) when it names one of this session's windows."""
        parts = key.split("/")
        if len(parts) != 3 or parts[0] != self.id or not parts[1].isdigit() or not parts[2].isdigit():
            return None
        p, w = int(parts[1]), int(parts[2])
        if p >= len(self._slots) or w >= len(self._slots[p].windows):
            return None
        return p, w

    def _settle(self, p: int) -> None:
        """When all windows of passage p have scores, set its score to the max and remember the winner."""
        slot = self._slots[p]
        if slot.raw is not None or any(r is None for r in slot.raws):
            return
        best = max(range(len(slot.raws)), key=lambda w: (slot.raws[w], -w))
        slot.best, slot.raw = best, slot.raws[best]

    def _build_update(self) -> Update:
        """Sort (O(n log n)), assign ranks, rebuild rows whose visible state changed."""
        self._revision += 1
        threshold, kind, n = self.threshold, self.calibration, len(self.passages)
        scores: list[float | None] = [None] * n
        keys: list[tuple] = [()] * n
        for p, slot in enumerate(self._slots):
            raw = slot.raw
            if raw is None:
                keys[p] = (1, 0.0, p)
            else:
                score = scores[p] = calibrate(raw, kind)
                keys[p] = (2 if threshold is not None and score < threshold else 0, -raw, p)
        order = sorted(range(n), key=keys.__getitem__)
        prev_rank, rows_cache, top_k = self._prev_rank, self._rows, self.top_k
        new_rank = [0] * n
        rows: list[Row] = []
        changed: list[int] = []
        scored = 0
        for position, p in enumerate(order):
            rank = position + 1
            new_rank[p] = rank
            slot = self._slots[p]
            passage = self.passages[p]
            score = scores[p]
            if score is not None:
                scored += 1
            sunk = keys[p][0] == 2
            window = slot.windows[slot.best] if slot.best is not None and len(slot.windows) > 1 else None
            row = rows_cache[p]
            move = prev_rank[p] - rank
            truncated = slot.best is not None and slot.truncated[slot.best]
            in_top = top_k is not None and rank <= top_k
            if (row is None or row.rank != rank or row.move != move or row.raw != slot.raw or row.sunk != sunk
                    or row.in_top_k != in_top or row.relevance != passage.relevance or row.window is not window
                    or row.truncated != truncated):
                row = Row(p, passage.text, rank, "pending" if score is None else "scored", score, slot.raw, sunk,
                          in_top, move, p + 1 - rank, passage.relevance, window, len(slot.windows),
                          passage.duplicate_of, truncated)
                rows_cache[p] = row
                changed.append(p)
            rows.append(row)
        self._prev_rank = new_rank
        return Update(order, rows, changed, scored, n, self._pairs_done, len(self._by_text), scored == n,
                      self.cancelled, self.threshold, self.top_k, self._revision, self.ignored)


def _check_threshold(threshold: float | None) -> float | None:
    """Threshold must be None or a number in [0, 1]."""
    if threshold is None:
        return None
    value = float(threshold)
    if not 0.0 <= value <= 1.0:
        raise InputError("bad_threshold", f"The threshold must be between 0 and 1 (got {threshold}).", "threshold")
    return value


def _check_top_k(top_k: int | None) -> int | None:
    """Top-k must be None or a positive whole number."""
    if top_k is None:
        return None
    if isinstance(top_k, bool) or not isinstance(top_k, int) or top_k < 1:
        raise InputError("bad_top_k", f"The top-k cut must be a whole number of at least 1 (got {top_k}).", "top_k")
    return top_k
