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
from .parse import Passage, _with_duplicates, normalize_query
from .rows import Facts, Update
from .tokenize import estimate_tokens
from .windows import TokenCounter, Window, passage_budget, split_windows

_session_ids = itertools.count(1)


@dataclass(slots=True)
class _Slot:
    """Internal per-passage scoring state."""

    windows: list[Window]
    raws: list[float | None]
    truncated: list[bool] = field(default_factory=list)
    best: int | None = None
    raw: float | None = None
    score: float | None = None


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
        self._bm25: list[float] | None = None
        self._slots = self._plan_windows()
        self._by_text: dict[str, list[tuple[int, int]]] = {}
        for p, slot in enumerate(self._slots):
            for w, window in enumerate(slot.windows):
                self._by_text.setdefault(self.window_text(p, w), []).append((p, w))
        self._scored = 0
        self._settled: set[int] = set()
        self._fill_from_cache()
        self._order: list[int] = []
        self._keys: list[tuple] = []
        self._rank: list[int] = []
        self._facts: list[Facts] = []
        self._last: Update | None = None  # the first _rebuild has no previous update
        self._last = self._rebuild()

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

    @property
    def pairs_total(self) -> int:
        """Distinct (query, window text) pairs of this run, cached ones included."""
        return len(self._by_text)

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
            self._last = self._incremental(flipped, crossing)
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

    def _make_facts(self, p: int) -> Facts:
        """Display facts of passage p (uses its current sort key for the sunk flag)."""
        slot, passage = self._slots[p], self.passages[p]
        best = slot.best
        return Facts(p, passage.text, "pending" if slot.raw is None else "scored", slot.score, slot.raw,
                     self._keys[p][0] == 2, passage.relevance,
                     slot.windows[best] if best is not None and len(slot.windows) > 1 else None,
                     len(slot.windows), passage.duplicate_of, best is not None and slot.truncated[best])

    def _rebuild(self, refresh: set[int] | None = None) -> Update:
        """Full re-sort, O(n log n): at start (refresh all) and when a threshold change flips many rows."""
        n = len(self.passages)
        self._keys = [self._sort_key(p) for p in range(n)]
        self._sunk_count = sum(1 for key in self._keys if key[0] == 2)
        self._order = sorted(range(n), key=self._keys.__getitem__)
        if refresh is None or not self._facts:
            self._facts = [self._make_facts(p) for p in range(n)]
            refresh = touched = set(range(n))
        else:
            touched = set()
            for p in refresh:
                facts = self._make_facts(p)
                if facts != self._facts[p]:
                    touched.add(p)
                self._facts[p] = facts
        rank = [0] * n
        for position, p in enumerate(self._order):
            rank[p] = position + 1
        self._rank = rank
        return self._snapshot(refresh, sorted(touched))

    def _incremental(self, touched: set[int], crossing: set[int] | None = None) -> Update:
        """Re-place only the touched passages (bisect) and re-rank the span between their old and new places."""
        order, keys, rank = self._order, self._keys, self._rank
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
            self._facts[p] = self._make_facts(p)
        if span:
            for position in range(min(span), min(len(order) - 1, max(span) + len(touched)) + 1):
                rank[order[position]] = position + 1
        return self._snapshot(touched.union(crossing or ()), sorted(touched))

    def _snapshot(self, marked: set[int], touched: list[int]) -> Update:
        """Freeze the current state into an Update (the copies are C-level list copies).

        `marked`: passages re-placed or re-flagged, or crossing the top-k cut, in this change (see Update.changed).
        """
        n = len(self.passages)
        last = self._last
        previous = last.ranks if last is not None else list(range(1, n + 1))
        earlier = last.previous_ranks if last is not None else previous
        return Update(self.id, self._order[:], self._rank[:], self._facts[:], self._scored, n, self._scored == n,
                      self.cancelled, self.threshold, self.top_k, self.ignored, self._sunk_count, touched,
                      previous, earlier, marked)


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
