"""Stage 1 around the indexes: reciprocal-rank fusion, the shortlist of K, and the funnel's recall@K."""

import heapq
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from .errors import InputError
from .limits import MAX_CANDIDATES, MIN_CANDIDATES, RRF_K

RETRIEVERS = ("bm25", "vectors", "hybrid")


def check_candidates(k: int) -> int:
    """K itself, or InputError (field "candidates") unless MIN_CANDIDATES <= K <= MAX_CANDIDATES."""
    if isinstance(k, bool) or not isinstance(k, int) or not MIN_CANDIDATES <= k <= MAX_CANDIDATES:
        raise InputError("bad_candidates", f"Send between {MIN_CANDIDATES} and {MAX_CANDIDATES} candidates to the "
                         "reranker.", "candidates")
    return k


def check_retriever(name: str) -> str:
    """The retriever name, or InputError (field "retriever")."""
    if name not in RETRIEVERS:
        raise InputError("bad_retriever", f"Stage 1 is one of {', '.join(RETRIEVERS)} (got \u201c{name}\u201d).",
                         "retriever")
    return name


def rrf(orders: Iterable[Sequence[int]], k: int = RRF_K, limit: int | None = None) -> list[tuple[int, float]]:
    """Reciprocal-rank fusion: (id, sum of 1 / (k + rank)) over every order (rank from 1), best first.

    Ties are broken by the best rank in any order, then by id, so the fused order is deterministic.
    """
    if k < 1:
        raise ValueError("The fusion constant must be at least 1.")
    scores: dict[int, float] = {}
    best: dict[int, int] = {}
    for order in orders:
        seen: set[int] = set()
        for rank, doc_id in enumerate(order, 1):
            if doc_id in seen:
                continue  # an id twice in one list counts at its first (best) rank
            seen.add(doc_id)
            scores[doc_id] = scores.get(doc_id, 0.0) + 1.0 / (k + rank)
            best[doc_id] = min(best.get(doc_id, rank), rank)
    key = lambda item: (-item[1], best[item[0]], item[0])  # noqa: E731
    if limit is None:
        return sorted(scores.items(), key=key)
    return heapq.nsmallest(limit, scores.items(), key=key)


def top_ids(ranked: Sequence[tuple[int, float]], k: int) -> list[int]:
    """The first k ids of a ranked (id, score) list: the shortlist that goes to the reranker."""
    return [doc_id for doc_id, _ in ranked[:k]]


@dataclass(frozen=True, slots=True)
class Missed:
    """A relevant passage outside the first K: `rank` is its stage-1 rank (the K that would have reached it),
    None when stage 1 did not return it at all (e.g. it shares no word with the query)."""

    id: int
    rank: int | None

    def to_dict(self) -> dict:
        """JSON-able form."""
        return {"id": self.id, "rank": self.rank}


@dataclass(frozen=True, slots=True)
class Funnel:
    """N passages -> K candidates -> k sent; recall@K of the relevant ids and those stage 1 never passed on."""

    passages: int
    candidates: int
    sent: int
    relevant: int
    found: int
    recall: float | None
    missed: tuple[Missed, ...]

    def to_dict(self) -> dict:
        """JSON-able form."""
        return {"passages": self.passages, "candidates": self.candidates, "sent": self.sent,
                "relevant": self.relevant, "found": self.found, "recall": self.recall,
                "missed": [m.to_dict() for m in self.missed]}


def funnel(stage1: Sequence[int], passages: int, k_candidates: int, k_sent: int,
           relevant: Iterable[int]) -> Funnel:
    """The funnel of one query: `stage1` is stage 1's order (ids, best first, possibly every passage),
    `passages` the collection size; recall@K is None without relevant ids. Missed ones are sorted by rank."""
    relevant_ids = list(dict.fromkeys(relevant))
    candidates = min(k_candidates, len(stage1), passages)
    rank_of: dict[int, int] = {}
    wanted = set(relevant_ids)
    for rank, doc_id in enumerate(stage1, 1):
        if doc_id in wanted and doc_id not in rank_of:
            rank_of[doc_id] = rank
    found = sum(1 for doc_id in relevant_ids if rank_of.get(doc_id, candidates + 1) <= candidates)
    missed = [Missed(doc_id, rank_of.get(doc_id)) for doc_id in relevant_ids
              if rank_of.get(doc_id, candidates + 1) > candidates]
    missed.sort(key=lambda m: (m.rank is None, m.rank or 0, m.id))
    recall = found / len(relevant_ids) if relevant_ids else None
    return Funnel(passages, candidates, min(k_sent, candidates), len(relevant_ids), found, recall, tuple(missed))
