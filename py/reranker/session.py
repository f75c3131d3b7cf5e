"""RankingSession: scores arrive one at a time in any order; each arrival yields the new display order.

Display order while streaming (why): scored passages at or above the threshold rise to the top (best
first), passages still pending keep their original relative order in the middle, and scored passages
under the threshold ("sunk") collect at the bottom (best first). Every row therefore moves at most
once per arrival, in the direction its score says (up = relevant, down = off-topic), and the rows still
waiting stay exactly where the reader left them. Once everything is scored the order is simply "by
score, ties by original position". With `threshold=None` nothing sinks: scored rows sit above pending.
"""

import bisect
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
class _Info:
    """Per-passage display facts that change only when that passage itself changes (never mutated)."""

    text: str
    state: str
    score: float | None
    raw: float | None
    sunk: bool
    relevance: int | None
    window: Window | None
    window_count: int
    duplicate_of: int | None
    truncated: bool


@dataclass(slots=True)
class Update:
    """State after an arrival. Lists indexed by original index: `ranks`, `moves`; `order` is display order.

    `changed` lists the original indexes whose row differs from the previous update (rank, move, score...);
    `touched` the subset whose own facts changed (state, score, sunk, label, window), not just their place.
    Rows are built on demand (`rows`, `row(i)`, `to_dict`) so an update stays cheap for 2,000 passages:
    per frame, prefer `[u.row(i) for i in u.changed]` over `u.rows` (which builds all n rows).
    """

    order: list[int]
    ranks: list[int]
    moves: list[int]
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
    ignored: int
    info: list[_Info]
    sunk_count: int = 0
    touched: list[int] = field(default_factory=list)

    def row(self, index: int) -> Row:
        """Row of one original index."""
        rank, i = self.ranks[index], self.info[index]
        return Row(index, i.text, rank, i.state, i.score, i.raw, i.sunk, self.top_k is not None and rank <= self.top_k,
                   self.moves[index], index + 1 - rank, i.relevance, i.window, i.window_count, i.duplicate_of,
                   i.truncated)

    @property
    def rows(self) -> list[Row]:
        """All rows in display order."""
        return [self.row(p) for p in self.order]

    def event_detail(self) -> dict:
        """`rerank:update` event detail: {order, scored, total}."""
        return {"order": list(self.order), "scored": self.scored, "total": self.total}

    def to_dict(self, only_changed: bool = False) -> dict:
        """JSON-able form; `only_changed` sends just the rows in `changed` (order is always complete)."""
        rows = [self.row(p) for p in self.changed] if only_changed else self.rows
        return {**self._summary(), "rows": [r.to_dict() for r in rows], "changed": list(self.changed)}

    def patch(self) -> dict:
        """Smallest per-frame payload: the order plus full rows only for `touched` passages.

        Everything else is derivable on the page: rank = position + 1, changeVsOriginal = index - position,
        move = previous position - position, inTopK = rank <= topK. Typically 1-2 rows instead of ~n.
        """
        return {**self._summary(), "rows": [self.row(p).to_dict() for p in self.touched],
                "touched": list(self.touched)}

    def _summary(self) -> dict:
        """Counters and settings shared by to_dict and patch."""
        return {"order": list(self.order), "scored": self.scored, "total": self.total, "pairsDone": self.pairs_done,
                "pairsTotal": self.pairs_total, "done": self.done, "cancelled": self.cancelled,
                "threshold": self.threshold, "topK": self.top_k, "cutAfter": self.top_k,
                "revision": self.revision, "ignored": self.ignored, "sunkCount": self.sunk_count}


@dataclass(slots=True)
class _Slot:
    """Internal per-passage scoring state."""

    windows: list[Window]
    raws: list[float | None]
    truncated: list[bool] = field(default_factory=list)
    best: int | None = None
    raw: float | None = None
    score: float | None = None


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
        self._scored = 0
        self._settled: set[int] = set()
        self._fill_from_cache()
        self._order: list[int] = []
        self._keys: list[tuple] = []
        self._rank: list[int] = []
        self._info: list[_Info] = []
        self._moves: list[int] = []
        self._moved: list[int] = []
        self._last: Update = self._rebuild()

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
        return self._scored == len(self._slots)

    # -- mutations ---------------------------------------------------------------------------------

    def add_score(self, key: str, logit: float, tokens: int | None = None) -> Update:
        """Record one raw model output for a pair key; returns the new display state."""
        return self.add_scores([(key, logit, tokens)])

    def add_scores(self, results: Iterable[Mapping | Sequence]) -> Update:
        """Record several results: dicts {key, logit, tokens?} (worker messages) or (key, logit[, tokens])."""
        touched = False
        self._settled.clear()
        for result in results:
            if isinstance(result, Mapping):
                key, logit, tokens = result.get("key"), result.get("logit", result.get("score")), result.get("tokens")
            else:
                key, logit = result[0], result[1]
                tokens = result[2] if len(result) > 2 else None
            touched = self._apply(str(key), logit, tokens) or touched
        if touched and not self.cancelled:
            self._last = self._incremental(self._settled)
        elif self.ignored != self._last.ignored:
            self._last.ignored = self.ignored
        return self._last

    def cancel(self) -> Update:
        """Stop: later scores are cached but no longer move rows; pending rows stay pending."""
        self.cancelled = True
        self._last = self._incremental(set())
        return self._last

    def set_threshold(self, threshold: float | None) -> Update:
        """Change the sink threshold (0-1 or None); no re-scoring. Only rows that cross it are re-placed."""
        return self.set_view(threshold, self.top_k)

    def set_top_k(self, top_k: int | None) -> Update:
        """Change the top-k cut (None = no cut); no re-scoring: only rows crossing the cut change."""
        return self.set_view(self.threshold, top_k)

    def set_view(self, threshold: float | None, top_k: int | None) -> Update:
        """Change threshold and top-k together in one update (its `changed` covers both)."""
        threshold, top_k = _check_threshold(threshold), _check_top_k(top_k)
        n = len(self._order)
        low, high = sorted((0 if self.top_k is None else min(self.top_k, n), 0 if top_k is None else min(top_k, n)))
        crossing = set(self._order[low:high])    # rows whose in-top-k flag flips without changing rank
        self.threshold, self.top_k = threshold, top_k
        flipped = {p for p, key in enumerate(self._keys) if key[0] != 1 and self._sort_key(p)[0] != key[0]}
        if len(flipped) * 4 > n:
            self._last = self._rebuild(flipped | crossing)
        else:
            self._last = self._incremental(flipped, extra_changed=crossing)
        return self._last

    def set_relevance(self, index: int, relevance: int | None) -> Update:
        """Set or clear a passage's label (0, 1, 2 or None)."""
        if relevance is not None and relevance not in (0, 1, 2):
            raise InputError("bad_relevance", "A relevance label must be 0, 1 or 2.", "passages")
        old = self.passages[index]
        self.passages[index] = Passage(old.index, old.text, old.source, relevance, old.duplicate_of)
        self._last = self._incremental({index})
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
                self._settled.add(tp)
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
        slot.score = calibrate(slot.raw, self.calibration)
        self._settled.add(p)
        self._scored += 1

    def _sort_key(self, p: int) -> tuple:
        """Display sort key: (group, -raw, original index); groups 0 kept, 1 pending, 2 sunk (see module doc)."""
        slot = self._slots[p]
        if slot.raw is None:
            return (1, 0.0, p)
        sunk = self.threshold is not None and slot.score < self.threshold
        return (2 if sunk else 0, -slot.raw, p)

    def _make_info(self, p: int) -> _Info:
        """Display facts of passage p (uses its current sort key for the sunk flag)."""
        slot, passage = self._slots[p], self.passages[p]
        best = slot.best
        return _Info(passage.text, "pending" if slot.raw is None else "scored", slot.score, slot.raw,
                     self._keys[p][0] == 2, passage.relevance,
                     slot.windows[best] if best is not None and len(slot.windows) > 1 else None,
                     len(slot.windows), passage.duplicate_of, best is not None and slot.truncated[best])

    def _rebuild(self, refresh: set[int] | None = None) -> Update:
        """Full re-sort, O(n log n): at start (refresh all) and when a threshold change flips many rows."""
        n = len(self.passages)
        self._keys = [self._sort_key(p) for p in range(n)]
        self._sunk_count = sum(1 for key in self._keys if key[0] == 2)
        self._order = sorted(range(n), key=self._keys.__getitem__)
        if refresh is None or not self._info:
            self._info = [self._make_info(p) for p in range(n)]
            refresh = touched = set(range(n))
        else:
            touched = set()
            for p in refresh:
                info = self._make_info(p)
                if info != self._info[p]:
                    touched.add(p)
                self._info[p] = info
        old_rank = self._rank or list(range(1, n + 1))
        old_moves = self._moves or [0] * n
        rank, moves = [0] * n, [0] * n
        for position, p in enumerate(self._order):
            rank[p] = position + 1
        changed = [p for p in range(n) if rank[p] != old_rank[p] or old_moves[p] or p in refresh]
        for p in changed:
            moves[p] = old_rank[p] - rank[p]
        self._rank, self._moves = rank, moves
        self._moved = [p for p in changed if moves[p]]
        return self._snapshot(changed, sorted(touched))

    def _incremental(self, touched: set[int], extra_changed: Sequence[int] = ()) -> Update:
        """Re-place only the touched passages (bisect) and re-rank the span between their old and new places."""
        order, keys, rank, moves = self._order, self._keys, self._rank, self._moves
        old_positions = sorted((rank[p] - 1 for p in touched), reverse=True)
        for position in old_positions:
            del order[position]
        span = list(old_positions)
        for p in sorted(touched):
            self._sunk_count -= keys[p][0] == 2
            keys[p] = self._sort_key(p)
            self._sunk_count += keys[p][0] == 2
            position = bisect.bisect_left(order, keys[p], key=keys.__getitem__)
            order.insert(position, p)
            span.append(position)
            self._info[p] = self._make_info(p)
        changed: set[int] = set(touched)
        changed.update(extra_changed)
        for p in self._moved:  # rows that moved last time: their move resets to 0 unless they move again
            moves[p] = 0
            changed.add(p)
        moved: list[int] = []
        positions = range(min(span), min(len(order) - 1, max(span) + len(touched)) + 1) if span else range(0)
        for position in positions:
            p = order[position]
            new_rank = position + 1
            if new_rank != rank[p]:
                moves[p] = rank[p] - new_rank
                rank[p] = new_rank
                changed.add(p)
                moved.append(p)
        self._moved = moved
        return self._snapshot(sorted(changed), sorted(touched))

    def _snapshot(self, changed: list[int], touched: list[int]) -> Update:
        """Freeze the current state into an Update (the copies are C-level list copies)."""
        self._revision += 1
        n = len(self.passages)
        return Update(self._order[:], self._rank[:], self._moves[:], changed, self._scored, n, self._pairs_done,
                      len(self._by_text), self._scored == n, self.cancelled, self.threshold, self.top_k,
                      self._revision, self.ignored, self._info[:], self._sunk_count, touched)


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
