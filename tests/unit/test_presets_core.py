"""Every shipped preset goes through the core as the page feeds it: JSON passages with labels."""

import json
from pathlib import Path

import pytest

from reranker import RankingSession, ShareState, decode_share, encode_share, matches_preset, parse_passages

PRESETS = Path(__file__).resolve().parents[2] / "static" / "presets"
INDEX = json.loads((PRESETS / "index.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("entry", INDEX, ids=[e["id"] for e in INDEX])
def test_preset_parses_ranks_and_shares_as_its_id(entry):
    preset = json.loads((PRESETS / entry["file"]).read_text(encoding="utf-8"))
    parsed = parse_passages(json.dumps(preset["passages"]), "json")
    assert parsed.texts == [p["text"].strip() for p in preset["passages"]]
    assert parsed.relevance == [p["relevance"] for p in preset["passages"]]
    session = RankingSession(preset["query"], parsed.passages, "minilm-l6-debian-ce", 256)
    labels = parsed.relevance
    # a perfect scorer (logit = label) must reach nDCG 1, whatever the windows
    by_passage = {}
    for pair in session.pending_pairs():
        by_passage.setdefault(int(pair["key"].split("/")[1]), []).append(pair)
    for index, pairs in by_passage.items():
        session.add_scores([(p["key"], float(labels[index])) for p in pairs])
    assert session.view().done
    assert session.metrics(k=3)["cross_encoder"]["ndcg"] == pytest.approx(1.0)
    state = ShareState(query=preset["query"], passages=parsed.texts, labels=labels)
    assert matches_preset(state, preset)
    assert decode_share(encode_share(ShareState(preset=preset["id"]))).preset == preset["id"]
