"""RankingSession: streaming order, pending placement, deltas, cache, cancel, re-run, threshold and top-k."""

import json
import math

import pytest

from reranker import InputError, RankingSession, ScoreCache, calibrate, row_json, view_json

TEXTS = ["moon pulls the ocean", "cats sleep all day", "tides rise twice daily", "stock prices fell",
         "the moon's gravity causes tides"]


def keyed(session):
    """Map passage text -> pair key for the session's pending pairs."""
    return {pair["text"]: pair["key"] for pair in session.pending_pairs()}


def test_starts_in_original_order_all_pending():
    session = RankingSession("what causes tides", TEXTS, "m")
    update = session.view()
    assert update.order == [0, 1, 2, 3, 4]
    assert [r.state for r in update.rows] == ["pending"] * 5
    assert [r.rank for r in update.rows] == [1, 2, 3, 4, 5]
    assert update.scored == 0 and update.total == 5 and not update.done


def test_pending_pairs_carry_query_and_text_and_unique_keys():
    session = RankingSession("  what causes\ttides ", TEXTS, "m")
    pairs = session.pending_pairs()
    assert [p["text"] for p in pairs] == TEXTS
    assert {p["query"] for p in pairs} == {"what causes tides"}
    assert len({p["key"] for p in pairs}) == 5
    assert session.pending_pairs(limit=2) == pairs[:2]


def test_relevant_rise_above_pending_and_off_topic_sink_below_them():
    session = RankingSession("what causes tides", TEXTS, "m", threshold=0.5)
    keys = keyed(session)
    update = session.add_score(keys["the moon's gravity causes tides"], 4.0)
    assert update.order == [4, 0, 1, 2, 3]
    row = update.row(4)
    assert row.state == "scored" and row.rank == 1 and row.move == 4 and row.change_vs_original == 4
    assert row.score == pytest.approx(calibrate(4.0))
    update = session.add_score(keys["cats sleep all day"], -5.0)
    assert update.order == [4, 0, 2, 3, 1]      # pending 0, 2, 3 keep their relative order in the middle
    assert update.row(1).sunk and update.row(1).move == -2 and update.row(1).change_vs_original == -3
    assert update.row(4).move == 0              # "move" is since the last update only
    assert update.changed == [0, 1, 2, 3, 4]    # 4's move reset to 0, 2 and 3 shift up, 1 sinks


def test_final_order_is_by_score_with_ties_by_original_position():
    session = RankingSession("q", TEXTS, "m")
    keys = keyed(session)
    for text, logit in zip(TEXTS, [1.0, -2.0, 1.0, -2.0, 3.0]):
        update = session.add_score(keys[text], logit)
    assert update.done and update.order == [4, 0, 2, 1, 3]
    assert [r.rank for r in update.rows] == [1, 2, 3, 4, 5]
    assert [r.sunk for r in update.rows] == [False, False, False, True, True]


def test_threshold_none_puts_every_scored_row_above_pending():
    session = RankingSession("q", TEXTS, "m", threshold=None)
    keys = keyed(session)
    update = session.add_score(keys["stock prices fell"], -9.0)
    assert update.order == [3, 0, 1, 2, 4] and not update.row(3).sunk


def test_batches_and_single_arrivals_give_the_same_result():
    logits = [0.5, -1.0, 2.0, -3.0, 2.5]
    one = RankingSession("q", TEXTS, "m")
    batch = RankingSession("q", TEXTS, "m")
    for pair, logit in zip(one.pending_pairs(), logits):
        one.add_score(pair["key"], logit)
    batch.add_scores([{"key": p["key"], "logit": x, "tokens": 9} for p, x in zip(batch.pending_pairs(), logits)])
    assert one.view().order == batch.view().order == [4, 2, 0, 1, 3]


def test_threshold_and_top_k_change_the_view_without_new_pairs():
    session = RankingSession("q", TEXTS, "m", threshold=0.5, top_k=2)
    keys = keyed(session)
    session.add_scores([(keys[t], x) for t, x in zip(TEXTS, [0.5, -1.0, 2.0, -3.0, 2.5])])
    assert session.pending_pairs() == []
    update = session.view()
    assert [r.in_top_k for r in update.rows] == [True, True, False, False, False]
    assert [r.index for r in update.rows if r.sunk] == [1, 3]
    update = session.set_threshold(0.9)
    assert [r.index for r in update.rows if r.sunk] == [2, 0, 1, 3]
    assert update.order == [4, 2, 0, 1, 3]      # all scored: threshold changes flags, not the score order
    update = session.set_top_k(4)
    assert [r.in_top_k for r in update.rows] == [True, True, True, True, False]
    assert set(update.changed) == {0, 1}        # only the rows crossing the cut changed
    assert session.set_top_k(None).row(4).in_top_k is False
    assert session.pending_pairs() == []


def test_threshold_change_mid_stream_moves_rows_between_top_and_bottom():
    session = RankingSession("q", TEXTS, "m", threshold=0.5)
    keys = keyed(session)
    session.add_score(keys[TEXTS[2]], 0.0)     # score 0.5: stays above pending
    assert session.view().order[0] == 2
    update = session.set_threshold(0.6)
    assert update.order == [0, 1, 3, 4, 2] and update.row(2).sunk and update.row(2).move == -4


def test_bad_threshold_and_top_k_are_rejected():
    session = RankingSession("q", TEXTS, "m")
    with pytest.raises(InputError, match="between 0 and 1"):
        session.set_threshold(1.5)
    with pytest.raises(InputError, match="at least 1"):
        session.set_top_k(0)


def test_duplicate_texts_need_one_pair_and_share_the_score():
    session = RankingSession("q", ["same", "other", "same"], "m")
    pairs = session.pending_pairs()
    assert [p["text"] for p in pairs] == ["same", "other"]
    update = session.add_score(pairs[0]["key"], 1.0)
    assert update.row(0).state == update.row(2).state == "scored"
    assert update.row(2).duplicate_of == 0
    assert update.order == [0, 2, 1]


def test_cancel_freezes_the_view_but_keeps_late_scores_in_the_cache():
    cache = ScoreCache()
    session = RankingSession("q", TEXTS, "m", cache=cache)
    pairs = session.pending_pairs()
    session.add_score(pairs[0]["key"], 1.0)
    update = session.cancel()
    assert update.cancelled and update.scored == 1
    late = session.add_score(pairs[1]["key"], 3.0)
    assert late.order == update.order and late.row(1).state == "pending"
    rerun = session.rerun()
    assert rerun.view().scored == 2 and len(rerun.pending_pairs()) == 3


def test_rerun_with_one_edited_passage_needs_exactly_one_pair():
    cache = ScoreCache()
    session = RankingSession("q", TEXTS, "m", cache=cache)
    session.add_scores([(p["key"], float(i)) for i, p in enumerate(session.pending_pairs())])
    edited = list(TEXTS)
    edited[3] = "stock prices fell sharply"
    again = session.rerun(passages=edited)
    pairs = again.pending_pairs()
    assert [p["text"] for p in pairs] == ["stock prices fell sharply"]
    assert again.view().scored == 4
    assert again.view().order == [4, 2, 1, 0, 3]   # cached rows already placed; the edited one pending


def test_cache_is_keyed_by_model_and_query():
    cache = ScoreCache()
    session = RankingSession("q", TEXTS, "model-a", cache=cache)
    session.add_scores([(p["key"], 1.0) for p in session.pending_pairs()])
    assert len(RankingSession("q", TEXTS, "model-b", cache=cache).pending_pairs()) == 5
    assert len(RankingSession("other q", TEXTS, "model-a", cache=cache).pending_pairs()) == 5
    assert len(RankingSession(" q ", TEXTS, "model-a", cache=cache).pending_pairs()) == 0


def test_cache_is_bounded():
    cache = ScoreCache(max_entries=3)
    for i in range(5):
        cache.put("m", "q", str(i), float(i))
    assert len(cache) == 3 and cache.get("m", "q", "0") is None and cache.get("m", "q", "4") == 4.0


def test_keys_from_another_session_are_ignored_not_misapplied():
    old = RankingSession("q", TEXTS, "m")
    new = RankingSession("q", TEXTS, "m")
    stale = old.pending_pairs()[0]["key"]
    update = new.add_score(stale, 5.0)
    assert update.scored == 0 and update.ignored == 1
    assert new.add_score("garbage", 1.0).ignored == 2


def test_a_nan_score_is_reported_not_ranked():
    session = RankingSession("q", TEXTS, "m")
    with pytest.raises(InputError) as info:
        session.add_score(session.pending_pairs()[0]["key"], math.nan)
    assert info.value.code == "bad_score" and "passage 1" in info.value.message


def test_infinite_logits_calibrate_to_the_ends():
    session = RankingSession("q", TEXTS[:2], "m")
    pairs = session.pending_pairs()
    update = session.add_scores([(pairs[0]["key"], -math.inf), (pairs[1]["key"], math.inf)])
    assert update.order == [1, 0] and update.row(1).score == 1.0 and update.row(0).score == 0.0


def test_identity_calibration_for_probability_models():
    session = RankingSession("q", TEXTS[:2], "m", calibration="identity")
    pairs = session.pending_pairs()
    update = session.add_scores([(pairs[0]["key"], 0.2), (pairs[1]["key"], 0.7)])
    assert update.row(0).score == 0.2 and update.row(1).score == 0.7 and update.row(0).sunk


def test_unknown_calibration_is_rejected_at_creation():
    with pytest.raises(ValueError, match="Unknown calibration 'softmax'"):
        RankingSession("q", TEXTS, "m", calibration="softmax")


def test_long_passage_is_scored_by_its_best_window_and_stays_pending_until_all_windows_arrive():
    long_text = " ".join(f"filler sentence number {i} about nothing much." for i in range(60))
    long_text += " The moon's gravity causes the tides. " + " ".join(f"more filler {i}." for i in range(60))
    session = RankingSession("what causes tides", ["short one", long_text], "m", max_tokens=128)
    windows = session.windows(1)
    assert len(windows) >= 3
    pairs = [p for p in session.pending_pairs() if p["key"].split("/")[1] == "1"]
    winner = next(i for i, p in enumerate(pairs) if "gravity causes" in p["text"])
    for i, pair in enumerate(pairs[:-1]):
        update = session.add_score(pair["key"], 5.0 if i == winner else -2.0)
        assert update.row(1).state == "pending"
    update = session.add_score(pairs[-1]["key"], 5.0 if winner == len(pairs) - 1 else -2.0)
    row = update.row(1)
    assert row.state == "scored" and row.raw == 5.0 and row.window_count == len(windows)
    assert "gravity causes" in long_text[row.window.start:row.window.end]
    assert row_json(update.facts[1])["window"] == {"start": row.window.start, "end": row.window.end}


def test_windows_respect_the_real_budget_with_a_pluggable_counter():
    words = " ".join(f"w{i}" for i in range(100))
    session = RankingSession("q", [words], "m", max_tokens=24, count_tokens=lambda s: len(s.split()))
    for window in session.windows(0):           # budget: 24 - 1 (query) - 3 (special tokens) = 20 words
        assert len(words[window.start:window.end].split()) <= 20


def test_a_truncation_report_from_the_worker_is_shown():
    session = RankingSession("q", TEXTS[:2], "m", max_tokens=64)
    pair = session.pending_pairs()[0]
    assert session.add_score(pair["key"], 1.0, tokens=64).row(0).truncated
    assert not session.view().row(1).truncated


def test_relevance_labels_can_be_ticked_and_metrics_follow():
    session = RankingSession("q", TEXTS, "m")
    assert session.metrics() is None
    session.set_relevance(4, 2)
    update = session.set_relevance(2, 1)
    assert update.row(2).relevance == 1 and update.changed == [2]
    session.add_scores([(p["key"], x) for p, x in zip(session.pending_pairs(), [0, -1, 2, -3, 3])])
    metrics = session.metrics(k=2)
    assert metrics["cross_encoder"]["ndcg"] == pytest.approx(1.0)
    assert metrics["original"]["mrr"] == pytest.approx(1 / 3)
    assert set(metrics) == {"original", "bm25", "cross_encoder"}
    assert "biencoder" in session.metrics(biencoder_scores=[0.1, 0.2, 0.3, 0.4, 0.5])
    with pytest.raises(InputError):
        session.set_relevance(0, 5)


def test_bm25_column_uses_the_session_query():
    session = RankingSession("what causes tides", TEXTS, "m")
    assert session.orders()["bm25"][:2] == [4, 2]


def test_view_json_is_json_and_matches_the_view_contract():
    session = RankingSession("q", TEXTS, "m", top_k=2)
    update = session.add_score(session.pending_pairs()[2]["key"], 2.0)
    data = json.loads(json.dumps(view_json(update, full=True)))
    assert data["order"] == [2, 0, 1, 3, 4] and data["cutAfter"] == 2
    first = data["rows"][0]
    # the view's row contract: the page adds the text and derives rank and changeVsOriginal from the position
    assert {"index", "state", "score", "sunk", "relevance", "window"} <= set(first)
    position = data["order"].index(first["index"])
    assert first["index"] == 2 and first["index"] - position == 2 == update.row(2).change_vs_original
    assert position + 1 == update.row(2).rank
    partial = view_json(update, full=False)
    assert update.changed == [0, 1, 2]
    assert [r["index"] for r in partial["rows"]] == update.touched == [2]
    assert data["detail"] == {"order": [2, 0, 1, 3, 4], "scored": 1, "total": 5}


def test_old_updates_are_snapshots():
    session = RankingSession("q", TEXTS, "m")
    first = session.view()
    session.add_score(session.pending_pairs()[4]["key"], 2.0)
    assert first.order == [0, 1, 2, 3, 4] and first.row(4).state == "pending"


def test_set_view_changes_threshold_and_cut_in_one_update():
    session = RankingSession("q", TEXTS, "m", threshold=0.5, top_k=1)
    session.add_scores([(p["key"], x) for p, x in zip(session.pending_pairs(), [0.5, -1.0, 2.0, -3.0, 2.5])])
    assert session.set_view(0.5, 1).changed == [0, 1, 2, 3, 4]   # same settings: the moves reset to 0
    update = session.set_view(0.8, 3)                    # 0 (score 0.62) sinks; cut grows from 1 to 3
    assert update.order == [4, 2, 0, 1, 3]
    assert [r.index for r in update.rows if r.sunk] == [0, 1, 3] and update.sunk_count == 3
    assert [r.index for r in update.rows if r.in_top_k] == [4, 2, 0]
    assert set(update.changed) == {0, 2}


def test_removing_the_cut_clears_every_top_k_flag():
    session = RankingSession("q", TEXTS[:2], "m", top_k=5)
    assert all(r.in_top_k for r in session.view().rows)
    update = session.set_top_k(None)
    assert not any(r.in_top_k for r in update.rows) and update.changed == [0, 1]


def test_view_json_sends_only_rows_whose_own_facts_changed():
    session = RankingSession("q", TEXTS, "m", threshold=0.5)
    update = session.add_score(session.pending_pairs()[3]["key"], 4.0)
    assert update.changed == [0, 1, 2, 3]              # 0-2 shifted down one place
    assert update.touched == [3]
    partial = json.loads(json.dumps(view_json(update, full=False)))
    assert partial["order"] == [3, 0, 1, 2, 4] and [r["index"] for r in partial["rows"]] == [3]
    assert partial["rows"][0]["state"] == "scored" and partial["sunk"] == 0
    assert session.set_relevance(1, 2).touched == [1]
    assert session.set_threshold(0.99).touched == [3]  # sank: its own "sunk" fact changed
