"""Hypothesis properties: round trips, ranking invariants, metric bounds."""

import json
import math
import random

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reranker import (RankingSession, ShareState, compare_orders, decode_share, encode_share, format_passages,
                      ndcg_at_k, parse_passages, to_json, view_json)

# Passage-like text: any Unicode except surrogates/controls, stripped and non-empty (what parsing yields).
passage_text = st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=60) \
    .map(str.strip).filter(bool)
labels = st.one_of(st.none(), st.integers(0, 2))
# Few distinct logits force ties; inf/-inf included.
logit = st.sampled_from([-math.inf, -3.0, -0.5, 0.0, 0.5, 3.0, math.inf])


@given(st.lists(st.tuples(passage_text, labels), min_size=1, max_size=12), passage_text)
@settings(max_examples=150, deadline=None)
def test_parse_export_parse_round_trip(items, query):
    data = json.dumps([{"text": t, "relevance": r} for t, r in items])
    parsed = parse_passages(data)
    session = RankingSession(query, parsed.passages, "m")
    pairs = session.pending_pairs()
    random.Random(len(pairs)).shuffle(pairs)
    session.add_scores([(p["key"], float(i % 3)) for i, p in enumerate(pairs[: len(pairs) // 2])])
    again = parse_passages(to_json(session))
    assert again.texts == [t for t, _ in items]
    assert again.relevance == [r for _, r in items]
    assert again.query == session.query


@given(st.lists(passage_text, min_size=1, max_size=10), st.sampled_from(["lines", "paragraphs", "json"]))
@settings(max_examples=150, deadline=None)
def test_format_then_parse_restores_the_passages(texts, mode):
    text, used = format_passages(texts, mode)
    assert parse_passages(text, used).texts == texts


share_states = st.builds(
    ShareState,
    query=st.text(max_size=40), passages=st.lists(st.text(st.characters(blacklist_categories=("Cs",))), max_size=30),
    model=st.text(max_size=30), threshold=st.one_of(st.none(), st.floats(0, 1)),
    top_k=st.one_of(st.none(), st.integers(1, 2000)), mode=st.sampled_from(["auto", "lines", "paragraphs", "json"]),
    preset=st.one_of(st.none(), st.from_regex(r"[a-z0-9][a-z0-9-]{0,20}", fullmatch=True)),
)


@given(share_states, st.data())
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_share_round_trip(state, data):
    if data.draw(st.booleans()):
        state.labels = data.draw(st.lists(labels, min_size=len(state.passages), max_size=len(state.passages)))
    encoded = encode_share(state)
    assert all(c.isalnum() or c in "-_." for c in encoded) and encoded.isascii()
    decoded = decode_share(encoded)
    if not any(label is not None for label in state.labels):
        state.labels = []          # an all-None label list is the same as no labels
    assert decoded == state


@st.composite
def scored_runs(draw):
    """Passages (with duplicates), a logit per passage, an arrival order and batch sizes."""
    texts = draw(st.lists(st.sampled_from(["a", "b", "c", "d", "e", "f", "g"]) | passage_text,
                          min_size=1, max_size=25))
    logits = draw(st.lists(logit, min_size=len(texts), max_size=len(texts)))
    seed = draw(st.integers(0, 10_000))
    threshold = draw(st.one_of(st.none(), st.sampled_from([0.0, 0.3, 0.5, 0.9, 1.0])))
    batch = draw(st.integers(1, 4))
    return texts, logits, seed, threshold, batch


def expected_final_order(session, logits_by_text):
    """Scored-above-threshold by raw desc, then sunk by raw desc; ties by original index."""
    keyed = []
    for i, p in enumerate(session.passages):
        raw = logits_by_text[p.text]
        score = session.view().row(i).score
        sunk = session.threshold is not None and score < session.threshold
        keyed.append(((1 if sunk else 0), -raw, i))
    return [k[2] for k in sorted(keyed)]


def check_update(previous, update, n):
    """Invariants of one update relative to the previous one."""
    assert sorted(update.order) == list(range(n))                          # a permutation
    assert [update.ranks[p] for p in update.order] == list(range(1, n + 1))
    rows = update.rows
    # kept (scored, not sunk) rows, then pending rows in original order, then sunk rows
    groups = [0 if r.state == "scored" and not r.sunk else 1 if r.state == "pending" else 2 for r in rows]
    assert groups == sorted(groups)
    pending = [r.index for r in rows if r.state == "pending"]
    assert pending == sorted(pending)
    # the incremental update equals a full re-sort; ties broken by original position
    assert update.order == sorted(range(n), key=lambda i: (groups[update.ranks[i] - 1], -(update.row(i).raw or 0.0), i))
    # `changed` is exactly the set of rows whose visible state differs from the previous update
    differs = {i for i in range(n) if previous.row(i) != update.row(i)}
    assert set(update.changed) == differs
    for i in range(n):
        assert update.row(i).move == previous.ranks[i] - update.ranks[i]
    assert update.sunk_count == sum(1 for r in rows if r.sunk)
    # rows not `touched` kept their own facts; a partial view carries exactly the touched rows
    assert set(update.touched) <= set(update.changed)
    for i in set(range(n)) - set(update.touched):
        assert previous.facts[i] == update.facts[i]
    partial = view_json(update, full=False)
    assert [r["index"] for r in partial["rows"]] == update.touched and partial["order"] == update.order
    assert [r.in_top_k for r in rows] == [update.top_k is not None and r.rank <= update.top_k for r in rows]


@given(scored_runs(), st.lists(st.tuples(st.one_of(st.none(), st.floats(0, 1)),
                                         st.one_of(st.none(), st.integers(1, 30))), max_size=6))
@settings(max_examples=200, deadline=None)
def test_ranking_invariants(run, view_changes):
    texts, logits, seed, threshold, batch = run
    logits_by_text = {}
    for text, value in zip(texts, logits):
        logits_by_text.setdefault(text, value)          # duplicates share the first text's score
    session = RankingSession("q", texts, "m", threshold=threshold, top_k=3)
    pairs = session.pending_pairs()
    random.Random(seed).shuffle(pairs)
    previous = session.view()
    n = len(texts)
    changes = list(view_changes)
    for start in range(0, len(pairs), batch):
        chunk = pairs[start:start + batch]
        update = session.add_scores([{"key": p["key"], "logit": logits_by_text[p["text"]]} for p in chunk])
        check_update(previous, update, n)
        previous = update
        if changes and start % 2 == 0:                 # threshold / top-k moved by the user mid-stream
            update = session.set_view(*changes.pop())
            check_update(previous, update, n)
            previous = update
    for change in changes:
        update = session.set_view(*change)
        check_update(previous, update, n)
        previous = update
    final = session.view()
    assert final.done
    assert final.order == expected_final_order(session, logits_by_text)   # independent of arrival order


@given(scored_runs(), st.integers(0, 10_000))
@settings(max_examples=100, deadline=None)
def test_final_order_is_independent_of_arrival_order_and_batching(run, other_seed):
    texts, logits, seed, threshold, batch = run
    orders = []
    for s, b in ((seed, batch), (other_seed, 1)):
        session = RankingSession("q", texts, "m", threshold=threshold)
        pairs = session.pending_pairs()
        random.Random(s).shuffle(pairs)
        by_text = {}
        for text, value in zip(texts, logits):
            by_text.setdefault(text, value)
        for start in range(0, len(pairs), b):
            session.add_scores([(p["key"], by_text[p["text"]]) for p in pairs[start:start + b]])
        orders.append(session.view().order)
    assert orders[0] == orders[1]


@given(st.lists(st.integers(0, 2), min_size=1, max_size=20), st.integers(1, 25), st.randoms())
@settings(max_examples=200, deadline=None)
def test_metric_bounds_and_ideal_order(grades, k, rnd):
    order = list(range(len(grades)))
    rnd.shuffle(order)
    ideal = sorted(range(len(grades)), key=lambda i: -grades[i])
    result = compare_orders({"shuffled": order, "ideal": ideal}, grades, k)
    for metrics in result.values():
        for name in ("ndcg", "mrr", "precision", "recall"):
            value = metrics[name]
            assert value is None or 0.0 <= value <= 1.0 + 1e-12
    if any(grades):
        assert result["ideal"]["ndcg"] == 1.0 or math.isclose(result["ideal"]["ndcg"], 1.0)
        assert result["ideal"]["mrr"] == 1.0
        assert ndcg_at_k(order, grades, k) <= result["ideal"]["ndcg"] + 1e-12
