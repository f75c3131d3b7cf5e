"""Metrics against values computed by hand (graded gains 2^rel - 1, log2 discount)."""

import math

import pytest

from reranker import compare_orders, dcg_at_k, evaluate, mrr, ndcg_at_k, precision_at_k, recall_at_k

LABELS = [0, 2, 1, 0]          # by original index


def test_dcg_and_ndcg_hand_computed():
    # order 0,1,2: gains 0, 3, 1 at discounts 1, log2 3, 2 -> 3/log2(3) + 1/2
    assert dcg_at_k([0, 1, 2, 3], LABELS, 3) == pytest.approx(3 / math.log2(3) + 0.5)
    # ideal: 3/1 + 1/log2(3) = 3.6309...; ratio 2.3928 / 3.6309 = 0.6590
    assert ndcg_at_k([0, 1, 2, 3], LABELS, 3) == pytest.approx(0.659002, abs=1e-6)
    assert ndcg_at_k([1, 2, 0, 3], LABELS, 3) == pytest.approx(1.0)
    assert ndcg_at_k([3, 0, 2, 1], LABELS, 2) == 0.0


def test_mrr_precision_recall_hand_computed():
    assert mrr([0, 1, 2, 3], LABELS) == 0.5
    assert mrr([0, 3, 2, 1], LABELS, relevant_from=2) == 0.25
    assert precision_at_k([0, 1, 2, 3], LABELS, 3) == pytest.approx(2 / 3)
    assert precision_at_k([0, 1, 2, 3], LABELS, 10) == 0.5        # k beyond the list: divide by what exists
    assert recall_at_k([0, 1, 2, 3], LABELS, 1) == 0.0
    assert recall_at_k([0, 1, 2, 3], LABELS, 2) == 0.5
    assert recall_at_k([0, 1, 2, 3], LABELS, 3) == 1.0


def test_undefined_metrics_are_none_not_zero():
    assert ndcg_at_k([0, 1], [0, 0], 2) is None
    assert mrr([0, 1], [None, None]) is None
    assert recall_at_k([0, 1], [0, 0], 1) is None
    assert precision_at_k([0, 1], [None, None], 1) is None
    assert precision_at_k([0, 1], [0, 0], 1) == 0.0


def test_labels_may_be_a_mapping_with_missing_entries():
    assert mrr([0, 1, 2], {2: 2}) == pytest.approx(1 / 3)


def test_evaluate_and_compare_orders():
    result = compare_orders({"original": [0, 1, 2, 3], "ideal": [1, 2, 0, 3]}, LABELS, k=2)
    assert result["ideal"] == {"k": 2, "ndcg": pytest.approx(1.0), "mrr": 1.0, "precision": 1.0, "recall": 1.0}
    assert result["original"]["precision"] == 0.5
    with pytest.raises(ValueError):
        evaluate([0], [1], k=0)
