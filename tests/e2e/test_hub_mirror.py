"""Hub models load through transformers.js' real remote path (env.remoteHost) from a local hub-layout mirror:
progress per file and overall, then scores, and a second load in the same browser profile comes from cache."""

from __future__ import annotations

from typing import Any

import pytest

from support.hub import HubSite, hub_mirror, hub_site  # noqa: F401 - fixtures
from support.scoring import (
    BOOT_JS,
    as_pairs,
    catalog_entry,
    default_entry,
    load,
    onnx_file_name,
    open_host,
    score,
)

pytestmark = pytest.mark.model
HUB_ID = "Xenova/ms-marco-MiniLM-L-6-v2"  # a real catalog entry; the mirror serves the bundled model under its id
PAIRS = as_pairs([("what is apt", "apt is the Debian package manager."),
                  ("what is apt", "The weather in Lisbon is mild in winter."),
                  ("how do tides work", "The moon's gravity raises the oceans twice a day.")])


def test_hub_model_downloads_with_progress_scores_and_then_loads_from_cache(page: Any, hub_site: HubSite,
                                                                            build_module: Any) -> None:
    """First load: the hub URL template is used, progress reaches the real byte totals, scores equal the same
    file loaded locally. Reloaded page, same profile: ready says fromCache and nothing is downloaded again."""
    files = hub_site.mirror.add_model(HUB_ID)
    onnx_name = onnx_file_name(default_entry())
    onnx_size = (files / onnx_name).stat().st_size
    entry = catalog_entry(HUB_ID)
    assert entry["source"] == "hub" and entry["size_bytes"] is None

    open_host(page, hub_site.url, hub_site.dist, build_module)
    first = load(page, entry)
    assert first["ok"], first
    ready = first["ready"]
    assert ready["model"] == HUB_ID and ready["fromCache"] is False and ready["backend"] == "wasm"
    requested = hub_site.mirror.requested(HUB_ID)
    assert f"/{HUB_ID}/resolve/main/{onnx_name}" in requested, requested
    assert f"/{HUB_ID}/resolve/main/tokenizer.json" in requested, requested

    progress = first["progress"]
    onnx_events = [p for p in progress if p["file"] == onnx_name]
    assert onnx_events and onnx_events[-1]["loaded"] == onnx_events[-1]["total"] == onnx_size
    assert len({p["loaded"] for p in onnx_events}) >= 2, "the model download should report intermediate progress"
    overall = [p["overallLoaded"] for p in progress]
    assert overall == sorted(overall), "overall bytes never go backwards"
    assert progress[-1]["overallLoaded"] == progress[-1]["overallTotal"] >= onnx_size
    assert {p["file"] for p in progress} >= {onnx_name, "tokenizer.json", "config.json"}

    remote = score(page, PAIRS)
    assert remote["ok"] and remote["done"]["pairs"] == 3, remote
    assert load(page, default_entry())["ok"]
    local = score(page, PAIRS)
    by_key = {r["key"]: r["logit"] for r in local["results"]}
    for r in remote["results"]:
        assert abs(r["logit"] - by_key[r["key"]]) < 1e-6, "same file, same ids: hub and bundled scores must agree"

    before = len(hub_site.mirror.requested(HUB_ID))
    page.reload()
    page.evaluate(BOOT_JS)
    again = load(page, entry)
    assert again["ok"], again
    assert again["ready"]["fromCache"] is True
    assert all(p["fromCache"] for p in again["progress"] if p["file"] == onnx_name)
    assert len(hub_site.mirror.requested(HUB_ID)) == before, "a cached model must not be downloaded again"
    assert score(page, PAIRS)["done"]["pairs"] == 3
