"""Every hub model of the catalog, through its own code path, offline: a small stand-in with the real repository's
architecture, config, tokenizer type, input names and int8 layout (tests/support/hub_standins.py) is served from the
local hub mirror under the catalog id. In real Chromium it loads, streams scores, loads again from the browser cache,
and every logit is within 1e-3 of native onnxruntime on the same file and the same token ids."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from support.hub import HubSite, hub_mirror, hub_site  # noqa: F401 - fixtures
from support.hub_standins import STANDINS, native_ulp_sensitivity, standin_dirs
from support.scoring import (
    check_parity,
    BOOT_JS,
    as_pairs,
    catalog,
    catalog_entry,
    load,
    native_reference,
    onnx_file_name,
    open_host,
    reference_pairs,
    score,
)

pytestmark = pytest.mark.model
LOGIT_TOLERANCE = 1e-3
# Dynamic int8, ORT Web vs native x86: float ops differ in the last bits (the float32 files agree to ~1e-6), and an
# activation that lands on the other side of a rounding step in DynamicQuantizeLinear moves by a whole quantization
# step, which later layers carry on. So a q8 file is held to what one ulp does natively: native against itself with
# every DynamicQuantizeLinear input scaled by (1 + 2^-23) (measured 0.008-0.033 on the stand-ins; browser vs native
# 0.006-0.031), at most 4x that, never looser than INT8_TOLERANCE.
ULP_FACTOR = 4.0
INT8_TOLERANCE = 0.2
ONE_PAIR_PER_BATCH = {"maxBatch": 1, "firstBatch": 1}


@pytest.fixture(scope="session")
def standins() -> dict[str, Path]:
    """{catalog id: stand-in directory}, generated once and cached under .pytest_cache."""
    return standin_dirs()


def test_every_hub_entry_of_the_catalog_has_a_stand_in() -> None:
    """A hub model added to the catalog without a stand-in would ship a code path no test runs."""
    hub_ids = {e["id"] for e in catalog() if e["source"] == "hub"}
    assert hub_ids == {s.hub_id for s in STANDINS}


def passages(n: int) -> list[dict[str, str]]:
    """n distinct passages of different lengths."""
    return [{"key": f"s{i}", "query": "how are packages verified",
             "text": f"Passage {i}: " + " ".join(f"word{(i * 7 + j) % 97}" for j in range(20 + i % 13))}
            for i in range(n)]




@pytest.mark.parametrize("spec", STANDINS, ids=[s.family + ":" + s.hub_id.split("/")[1] for s in STANDINS])
def test_hub_model_stand_in_loads_streams_caches_and_matches_native(page: Any, hub_site: HubSite, build_module: Any,
                                                                    standins: dict[str, Path], spec: Any) -> None:
    """The catalog entry as shipped: the q8 file (and only it) is downloaded with the tokenizer and config, the
    model's own input names reach ONNX Runtime, 12 passages stream in several batches; after a page reload the model
    comes from the browser cache and 34 pairs (truncated, CJK, emoji, RTL...) get HF tokenizers' ids and, one per
    batch, native's logits (within what one ulp does to them natively, see ULP_FACTOR). The same architecture's
    float32 file, batched (padding, each model's own masking), is within 1e-3 of native."""
    entry = catalog_entry(spec.hub_id)
    model_dir = standins[spec.hub_id]
    files = hub_site.mirror.add_model(spec.hub_id, model_dir)
    onnx_name = onnx_file_name(entry)
    assert (files / onnx_name).is_file() and (files / "onnx" / "model.onnx").is_file()

    open_host(page, hub_site.url, hub_site.dist, build_module)
    first = load(page, entry)
    assert first["ok"], first
    ready = first["ready"]
    assert ready["model"] == spec.hub_id and ready["fromCache"] is False and ready["backend"] == "wasm", ready
    assert sorted(ready["inputNames"]) == sorted(spec.inputs), ready["inputNames"]
    requested = set(hub_site.mirror.requested(spec.hub_id))
    base = f"/{spec.hub_id}/resolve/main/"
    assert {base + onnx_name, base + "tokenizer.json", base + "config.json"} <= requested, requested
    assert base + "onnx/model.onnx" not in requested, "only the q8 file may be downloaded"

    streamed = score(page, passages(12))
    assert streamed["ok"], streamed
    assert sorted(r["key"] for r in streamed["results"]) == sorted(p["key"] for p in passages(12))
    assert streamed["done"]["batches"] >= 2 and len({round(r["at"], 1) for r in streamed["results"]}) >= 2
    assert all(abs(r["logit"]) < 100 for r in streamed["results"])

    before = len(hub_site.mirror.requested(spec.hub_id))
    page.reload()
    page.evaluate(BOOT_JS)
    again = load(page, entry, ONE_PAIR_PER_BATCH)
    assert again["ok"] and again["ready"]["fromCache"] is True, again
    assert len(hub_site.mirror.requested(spec.hub_id)) == before, "a cached model must not be downloaded again"

    # Dynamic int8 re-quantizes activations per batch (padding rows included), so a pair's logit depends on its batch
    # companions: parity with native, which scores each pair alone, is checked one pair per batch.
    items = reference_pairs()
    ref = native_reference(model_dir, entry, items)
    assert any(len(ids) == entry["max_length"] for ids in ref[0]), "some pairs must exercise truncation"
    assert max(abs(x) for x in ref[2]) > 0.3, "the head should produce logits of realistic magnitude"
    run = score(page, as_pairs(items), return_ids=True)
    types = "token_type_ids" in spec.inputs
    nudge = native_ulp_sensitivity(model_dir / onnx_name, model_dir / "tokenizer.json", entry["max_length"], items)
    bound = max(LOGIT_TOLERANCE, ULP_FACTOR * nudge)
    assert bound <= INT8_TOLERANCE, f"one ulp moves native logits by {nudge:.3f}: the stand-in is too chaotic to test"
    worst = check_parity(run, items, ref, lambda _: bound, compare_types=types)

    fp32 = {**entry, "dtype": "fp32"}
    assert load(page, fp32)["ok"]
    float_run = score(page, as_pairs(items), return_ids=True)
    assert float_run["done"]["batches"] < len(items), "the float file is checked with the default batching"
    float_worst = check_parity(float_run, items, native_reference(model_dir, fp32, items), lambda _: LOGIT_TOLERANCE,
                               compare_types=types)
    print(f"{spec.hub_id} stand-in: max |browser - native| = {worst:.2e} (q8, one pair per batch), "
          f"{float_worst:.2e} (fp32, batched) over {len(items)} pairs; native q8 vs itself with every "
          f"DynamicQuantizeLinear input nudged by one ulp: {nudge:.2e}")
