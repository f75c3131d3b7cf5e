"""Okapi BM25 over the pasted passages: the lexical baseline column."""

import math
from collections import Counter
from collections.abc import Sequence
from functools import lru_cache

from .tokenize import tokenize


@lru_cache(maxsize=4096)  # twice the passage limit: a new query re-scores the same passages without re-tokenizing
def term_counts(text: str) -> Counter[str]:
    """Term frequencies of one passage (shared by every query: read it, never change it)."""
    return Counter(tokenize(text))


def bm25_scores(query: str, texts: Sequence[str], k1: float = 1.2, b: float = 0.75) -> list[float]:
    """Okapi BM25 score of each text for the query; idf = ln(1 + (N - df + 0.5) / (df + 0.5)), never negative.

    Each distinct query term counts once (a repeated word in the query does not double its weight).
    """
    if k1 < 0 or not 0 <= b <= 1:
        raise ValueError(f"BM25 needs k1 >= 0 and 0 <= b <= 1 (got k1={k1}, b={b}).")
    docs = [term_counts(text) for text in texts]
    lengths = [sum(doc.values()) for doc in docs]
    n_docs = len(docs)
    if n_docs == 0:
        return []
    avg_length = sum(lengths) / n_docs or 1.0
    terms = list(dict.fromkeys(tokenize(query)))
    df = {term: sum(1 for doc in docs if term in doc) for term in terms}
    idf = {term: math.log(1 + (n_docs - df[term] + 0.5) / (df[term] + 0.5)) for term in terms}
    scores: list[float] = []
    for doc, length in zip(docs, lengths):
        norm = k1 * (1 - b + b * length / avg_length)
        score = 0.0
        for term in terms:
            tf = doc.get(term, 0)
            if tf:
                score += idf[term] * tf * (k1 + 1) / (tf + norm)
        scores.append(score)
    return scores


def order_by_scores(scores: Sequence[float]) -> list[int]:
    """Indexes sorted by descending score; ties keep the original order."""
    return sorted(range(len(scores)), key=lambda i: (-scores[i], i))


def bm25_order(query: str, texts: Sequence[str], k1: float = 1.2, b: float = 0.75) -> list[int]:
    """Original indexes in BM25 order (best first, ties by original position)."""
    return order_by_scores(bm25_scores(query, texts, k1, b))
