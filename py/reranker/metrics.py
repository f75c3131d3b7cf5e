"""Ranking metrics against graded labels (0 off-topic, 1 partial, 2 answers): nDCG@k, MRR, P@k, R@k.

Gains are exponential (2^rel - 1) with a log2(position + 1) discount. For the binary metrics a passage
is relevant when its label >= `relevant_from` (default 1). Unlabelled passages count as 0. A metric
that is undefined (no labels, or nothing relevant) is None rather than a misleading 0.
"""

import math
from collections.abc import Mapping, Sequence

Labels = Sequence[int | None] | Mapping[int, int | None]


def _grade(labels: Labels, index: int) -> int:
    """Label of one original index (0 when missing)."""
    if isinstance(labels, Mapping):
        value = labels.get(index)
    else:
        value = labels[index] if 0 <= index < len(labels) else None
    return int(value) if value else 0


def _all_grades(labels: Labels) -> list[int]:
    """Every known label value (unlabelled as 0)."""
    values = labels.values() if isinstance(labels, Mapping) else labels
    return [int(v) if v else 0 for v in values]


def has_labels(labels: Labels) -> bool:
    """True when at least one passage carries a label (even 0)."""
    values = labels.values() if isinstance(labels, Mapping) else labels
    return any(v is not None for v in values)


def dcg_at_k(order: Sequence[int], labels: Labels, k: int) -> float:
    """Discounted cumulative gain of the first k positions."""
    return sum((2 ** _grade(labels, index) - 1) / math.log2(position + 2)
               for position, index in enumerate(order[:k]))


def ndcg_at_k(order: Sequence[int], labels: Labels, k: int) -> float | None:
    """DCG@k / ideal DCG@k; None when no passage has a positive label."""
    ideal = sorted(_all_grades(labels), reverse=True)[:k]
    ideal_dcg = sum((2 ** g - 1) / math.log2(position + 2) for position, g in enumerate(ideal))
    if ideal_dcg == 0:
        return None
    return dcg_at_k(order, labels, k) / ideal_dcg


def mrr(order: Sequence[int], labels: Labels, relevant_from: int = 1) -> float | None:
    """Reciprocal rank of the first relevant passage; None when nothing is relevant."""
    if not any(g >= relevant_from for g in _all_grades(labels)):
        return None
    for position, index in enumerate(order):
        if _grade(labels, index) >= relevant_from:
            return 1.0 / (position + 1)
    return 0.0


def precision_at_k(order: Sequence[int], labels: Labels, k: int, relevant_from: int = 1) -> float | None:
    """Share of the first min(k, n) passages that are relevant; None without labels."""
    if not has_labels(labels) or not order:
        return None
    top = order[:k]
    return sum(1 for index in top if _grade(labels, index) >= relevant_from) / len(top)


def recall_at_k(order: Sequence[int], labels: Labels, k: int, relevant_from: int = 1) -> float | None:
    """Share of all relevant passages found in the first k; None when nothing is relevant."""
    total = sum(1 for g in _all_grades(labels) if g >= relevant_from)
    if total == 0:
        return None
    return sum(1 for index in order[:k] if _grade(labels, index) >= relevant_from) / total


def evaluate(order: Sequence[int], labels: Labels, k: int = 5, relevant_from: int = 1) -> dict:
    """All metrics of one order: {k, ndcg, mrr, precision, recall} (values None when undefined)."""
    if k < 1:
        raise ValueError(f"k must be at least 1 (got {k}).")
    return {"k": k, "ndcg": ndcg_at_k(order, labels, k), "mrr": mrr(order, labels, relevant_from),
            "precision": precision_at_k(order, labels, k, relevant_from),
            "recall": recall_at_k(order, labels, k, relevant_from)}


def compare_orders(orders: Mapping[str, Sequence[int]], labels: Labels, k: int = 5,
                   relevant_from: int = 1) -> dict[str, dict]:
    """`evaluate` for each named order (original, bm25, biencoder, cross_encoder...)."""
    return {name: evaluate(order, labels, k, relevant_from) for name, order in orders.items()}
