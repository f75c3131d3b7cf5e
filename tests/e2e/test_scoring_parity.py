"""Scoring parity in real Chromium: the worker's token ids are exactly HF tokenizers' and its logits match native
onnxruntime on the same file (float32 and the shipped int8 model, any batching), and the bi-encoder worker's ids and
cosines match native mean pooling.

The worker's protocol (streaming, cancel, switches, failures) is in test_scoring.py."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from support.scoring_host import BATCH_PAIR, host, loaded, long_passage  # noqa: F401 - fixtures
from support.hub import HubMirror, HubSite, hub_mirror, hub_site  # noqa: F401 - fixtures
from support.scoring import (
    check_parity,
    as_pairs,
    bundled_model_dir,
    default_entry,
    export_fp32_cross_encoder,
    load,
    native_reference,
    open_host,
    reference_pairs,
    score,
)

pytestmark = pytest.mark.model
LOGIT_TOLERANCE = 1e-3


# --------------------------------------------------------------------------- cross-encoder parity



@pytest.fixture(scope="session")
def fp32_model(tmp_path_factory: pytest.TempPathFactory, hub_mirror: HubMirror) -> dict[str, Any]:
    """A float32 cross-encoder published on the local hub mirror; returns its catalog entry and directory."""
    model_dir = export_fp32_cross_encoder(tmp_path_factory.mktemp("fp32-model"))
    hub_id = "parity-test/minilm-l6-fp32"
    hub_mirror.add_model(hub_id, model_dir)
    entry = {"id": hub_id, "label": "fp32 parity model", "description": "test", "source": "hub", "path": hub_id,
             "dtype": "fp32", "size_bytes": None, "max_length": 256, "calibration": "sigmoid"}
    return {"entry": entry, "dir": model_dir}


def test_pipeline_parity_float32_ids_and_logits_within_1e3(page: Any, hub_site: HubSite, build_module: Any,
                                                           fp32_model: dict[str, Any]) -> None:
    """34 pairs (short, truncated, CJK, emoji, RTL...) through the worker's default batching: token ids identical
    to HF tokenizers (only_second truncation) and logits within 1e-3 of native onnxruntime on the same file."""
    open_host(page, hub_site.url, hub_site.dist, build_module)
    entry, model_dir = fp32_model["entry"], fp32_model["dir"]
    items = reference_pairs()
    ref = native_reference(model_dir, entry, items)
    assert any(len(ids) == entry["max_length"] for ids in ref[0]), "some pairs must exercise truncation"
    assert max(abs(x) for x in ref[2]) > 0.5, "the head should produce logits of realistic magnitude"
    assert load(page, entry)["ok"]
    run = score(page, as_pairs(items), return_ids=True)
    assert run["done"]["batches"] < len(items), "the default path batches pairs (padding must not change logits)"
    worst = check_parity(run, items, ref, lambda _: LOGIT_TOLERANCE)
    print(f"float32: max |browser - native| = {worst:.2e} over {len(items)} pairs")


@pytest.mark.parametrize("batching", ["one pair per batch", "default micro-batches"])
def test_shipped_int8_model_ids_and_logits_equal_native_within_1e3(host: Any, batching: str) -> None:
    """The bundled int8 file, 34 pairs (short, truncated, unicode): token ids identical to HF tokenizers and every
    logit within 1e-3 of native onnxruntime on the same file, one pair per batch and with the default batching.

    The file is weight-only int8 (activations stay float32; training/quantize.py), so ORT Web and native ORT do the
    same float math; a dynamic-int8 file (activations re-quantized per tensor at run time) misses this by ~0.5."""
    entry = default_entry()
    items = reference_pairs()
    ref = native_reference(bundled_model_dir(entry), entry, items)
    assert any(len(ids) == entry["max_length"] for ids in ref[0]), "some pairs must exercise truncation"
    options = {"maxBatch": 1, "firstBatch": 1} if batching == "one pair per batch" else {}
    assert load(host, entry, options)["ok"]
    run = score(host, as_pairs(items), return_ids=True)
    if batching == "default micro-batches":
        assert run["done"]["batches"] < len(items), "the default path must put several pairs in one batch"
    worst = check_parity(run, items, ref, lambda _: LOGIT_TOLERANCE)
    print(f"int8 ({batching}): max |browser - native| = {worst:.2e} over {len(items)} pairs")


def test_a_pairs_logit_does_not_depend_on_its_batch(loaded: Any) -> None:
    """The same pair scored alone and inside a padded batch of long passages gets the same logit (within 1e-3):
    a cached score and a re-scored one agree, whatever else the user pasted."""
    query, text = BATCH_PAIR
    alone = score(loaded, [{"key": "x", "query": query, "text": text}])
    assert alone["ok"] and alone["done"]["batches"] == 1
    crowd = [{"key": f"long{i}", "query": query, "text": long_passage(i)} for i in range(11)]
    # The worker scores the shortest of the caller's first eight pairs alone (all eight are long here: long0), then
    # the rest length-bucketed in batches of four pairs / 1,024 padded tokens: the short pair comes first and is
    # padded to the 256 tokens of its three long companions.
    mixed = score(loaded, [*crowd[:8], {"key": "x", "query": query, "text": text}, *crowd[8:]], return_ids=True)
    assert mixed["ok"], mixed
    by_key = {r["key"]: r for r in mixed["results"]}
    assert by_key["long1"]["tokens"] == default_entry()["max_length"], "the companions must fill the window"
    assert mixed["done"]["batches"] == 4, f"the pair must share its batch with long passages: {mixed['done']}"
    assert mixed["results"][0]["key"] == "long0"
    assert "x" in [r["key"] for r in mixed["results"][1:5]], "the short pair opens the first length-bucketed batch"
    a, b = alone["results"][0]["logit"], by_key["x"]["logit"]
    assert abs(a - b) <= LOGIT_TOLERANCE, f"alone {a:.6f} vs in a batch of long passages {b:.6f}"
    # the long passages themselves: the same logit alone or in another batch as where they were first scored
    again = score(loaded, list(reversed(crowd)))
    for r in again["results"]:
        assert abs(r["logit"] - by_key[r["key"]]["logit"]) <= LOGIT_TOLERANCE, r["key"]


# --------------------------------------------------------------------------- bi-encoder (vector search column)


BIENCODER_JS = """
async ([entry, pairs]) => {
  const {S} = window.scoring;
  const bi = new S.Scorer({workerUrl: new URL('./app/biencoder-worker.js', location.href)});
  const ready = await bi.load(entry);
  const results = [];
  const done = await bi.score(pairs, {onResult: (r) => results.push(r)});
  bi.terminate();
  return {ready, done, results};
}
"""


def test_biencoder_worker_cosines_match_native(page: Any, hub_site: HubSite, build_module: Any,
                                               tmp_path: Path) -> None:
    """The second worker embeds query and passages with all-MiniLM-L6-v2 (int8) and returns cosine similarities
    that match native onnxruntime + mean pooling, and rank the relevant passage first."""
    from support.scoring import make_biencoder_dir, native_cosines

    model_dir = make_biencoder_dir(tmp_path / "bi")
    hub_id = "vector-test/all-minilm-l6-v2-int8"
    hub_site.mirror.add_model(hub_id, model_dir)
    entry = {"id": hub_id, "kind": "bi-encoder", "label": "all-MiniLM-L6-v2 (bi-encoder)", "source": "hub",
             "path": hub_id, "dtype": "q8", "size_bytes": None, "max_length": 256, "calibration": "identity"}
    items = [("how do tides work", "Tides are caused by the gravitational pull of the moon and the sun."),
             ("how do tides work", "A tidy room makes it easier to find things."),
             ("how do tides work", "The stock market closed higher on Friday."),
             ("what is apt", "apt is the command-line package manager of Debian."),
             ("what is apt", "東京は今日晴れで、最高気温は二十五度です。")]
    open_host(page, hub_site.url, hub_site.dist, build_module)
    out = page.evaluate(BIENCODER_JS, [entry, as_pairs(items)])
    assert out["ready"]["model"] == hub_id and out["done"]["pairs"] == len(items)
    got = {r["key"]: r["logit"] for r in out["results"]}
    ref = native_cosines(model_dir, items)
    for i, expected in enumerate(ref):
        assert -1.0 <= got[f"p{i}"] <= 1.0
        assert abs(got[f"p{i}"] - expected) < 0.01, f"pair {i}: browser cosine {got[f'p{i}']:.4f} vs native {expected:.4f}"
    assert got["p0"] > got["p1"] and got["p0"] > got["p2"] and got["p3"] > got["p4"]


BIENCODER_EMBED_JS = """
async ([entry, pairs]) => {
  const {S} = window.scoring;
  const bi = new S.Scorer({workerUrl: new URL('./app/biencoder-worker.js', location.href)});
  await bi.load(entry);
  const vectors = {};
  const cos = {};
  const embedded = bi.embed(pairs.map((p) => ({key: p.key, text: p.text})),
    {onVectors: (m) => m.keys.forEach((k, i) => { vectors[k] = m.vectors[i]; })});
  const scored = bi.score(pairs, {onResult: (r) => { cos[r.key] = r.logit; }});  // queues behind the embedding
  const [doneEmbed, doneScore] = await Promise.all([embedded, scored]);
  const q = await bi.embedQuery(pairs[0].query);
  const dots = {};
  for (const p of pairs.filter((p) => p.query === pairs[0].query)) {
    let s = 0;
    for (let k = 0; k < q.vector.length; k++) s += vectors[p.key][k] * q.vector[k];
    dots[p.key] = s;
  }
  const all = Object.values(vectors);
  bi.terminate();
  return {doneEmbed, doneScore, cos, dots, typed: all.every((v) => v instanceof Float32Array),
          norms: all.map((v) => Math.hypot(...v)), dim: q.vector.length, queryTyped: q.vector instanceof Float32Array};
}
"""


def test_biencoder_worker_embeds_texts_and_queries_as_its_cosines(page: Any, hub_site: HubSite, build_module: Any,
                                                                  tmp_path: Path) -> None:
    """`embed` returns one unit Float32Array per text and `embed-query` the query's: their dot products are the
    cosines a `score` run gives for the same (query, text) pairs; a score sent meanwhile does not cancel it."""
    from support.scoring import make_biencoder_dir

    model_dir = make_biencoder_dir(tmp_path / "bi")
    hub_id = "vector-test/all-minilm-l6-v2-embed"
    hub_site.mirror.add_model(hub_id, model_dir)
    entry = {"id": hub_id, "kind": "bi-encoder", "label": "all-MiniLM-L6-v2 (bi-encoder)", "source": "hub",
             "path": hub_id, "dtype": "q8", "size_bytes": None, "max_length": 256, "calibration": "identity"}
    texts = ["Tides are caused by the gravitational pull of the moon and the sun.", "A tidy room makes it easier.",
             "東京は今日晴れで、最高気温は二十五度です。", "", "a long passage about tides " * 60]
    open_host(page, hub_site.url, hub_site.dist, build_module)
    out = page.evaluate(BIENCODER_EMBED_JS, [entry, as_pairs([("how do tides work", t) for t in texts])])
    assert out["doneEmbed"]["pairs"] == len(texts) and not out["doneEmbed"]["cancelled"]
    assert out["doneScore"]["pairs"] == len(texts) and not out["doneScore"]["cancelled"]
    assert out["typed"] and out["queryTyped"] and out["dim"] == 384
    assert all(abs(n - 1.0) < 1e-5 for n in out["norms"]), out["norms"]
    for key, cosine in out["cos"].items():
        assert abs(out["dots"][key] - cosine) < 1e-6, (key, out["dots"][key], cosine)


BIENCODER_IDS_JS = """
async ([entry, pairs]) => {
  const {S} = window.scoring;
  const bi = new S.Scorer({workerUrl: new URL('./app/biencoder-worker.js', location.href)});
  await bi.load(entry);
  const results = [];
  await bi.score(pairs, {onResult: (r) => results.push(r), returnIds: true});
  bi.terminate();
  return results;
}
"""


def test_biencoder_worker_token_ids_match_hf_tokenizers(page: Any, hub_site: HubSite, build_module: Any,
                                                        tmp_path: Path) -> None:
    """The bi-encoder's single-text encoding ([CLS] text [SEP], cut to max_length) gives exactly the ids and type
    ids of HF tokenizers with truncation: the worker's one use of the tokenizer's post-processor on one sequence."""
    from tokenizers import Tokenizer

    from support.scoring import make_biencoder_dir

    model_dir = make_biencoder_dir(tmp_path / "bi")
    hub_id = "vector-test/all-minilm-l6-v2-ids"
    hub_site.mirror.add_model(hub_id, model_dir)
    max_length = 32
    entry = {"id": hub_id, "kind": "bi-encoder", "label": "all-MiniLM-L6-v2 (bi-encoder)", "source": "hub",
             "path": hub_id, "dtype": "q8", "size_bytes": None, "max_length": max_length, "calibration": "identity"}
    texts = ["Tides are caused by the gravitational pull of the moon.", "東京は今日晴れで、最高気温は二十五度です。",
             "emoji 😀 and a literal [SEP] in the text", "", "a long passage " * 20]
    open_host(page, hub_site.url, hub_site.dist, build_module)
    results = {r["key"]: r for r in page.evaluate(BIENCODER_IDS_JS, [entry, as_pairs([("q", t) for t in texts])])}
    tok = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    tok.no_padding()
    tok.enable_truncation(max_length=max_length)
    for i, text in enumerate(texts):
        enc = tok.encode(text)
        assert results[f"p{i}"]["ids"] == enc.ids, f"token ids differ for {text[:40]!r}"
        assert results[f"p{i}"]["typeIds"] == enc.type_ids, f"token type ids differ for {text[:40]!r}"
    assert len(results[f"p{len(texts) - 1}"]["ids"]) == max_length, "the long text must exercise truncation"
