"""The scoring worker's protocol in real Chromium: the model catalog and loading (cache, backends), scores
stream, cancel and model switches never leak stale scores, broken model files end in a sentence and a working retry.

Token ids and logits against native references are in test_scoring_parity.py."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any

import pytest

from support.scoring_host import BATCH_PAIR, host, loaded, long_passage  # noqa: F401 - fixtures
from support.hub import HubSite, hub_mirror, hub_site  # noqa: F401 - fixtures
from support.scoring import BOOT_JS, bundled_model_dir, catalog, default_entry, load, onnx_file_name, open_host, score

pytestmark = pytest.mark.model

RETRY_PAIRS = [{"key": "r0", "query": "what is apt", "text": "apt is the Debian package manager."},
               {"key": "r1", "query": "what is apt", "text": "Lisbon is the capital of Portugal."}]


# --------------------------------------------------------------------------- catalog and loading


def test_catalog_entries_are_complete_and_bundled_size_is_the_real_file() -> None:
    """Every entry says where it comes from, its dtype, length and calibration; the bundled size and hash are real."""
    entries = catalog()
    ids = [e["id"] for e in entries]
    assert len(ids) == len(set(ids))
    assert [e["id"] for e in entries if e.get("default")][:1] == ["minilm-l6-debian-ce"]
    assert {"Xenova/ms-marco-MiniLM-L-6-v2", "Xenova/ms-marco-TinyBERT-L-2-v2", "jinaai/jina-reranker-v1-tiny-en",
            "mixedbread-ai/mxbai-rerank-xsmall-v1"} <= set(ids)
    for e in entries:
        assert e["source"] in {"bundled", "hub"}, e
        assert e["calibration"] in {"sigmoid", "identity"}, e
        assert e["dtype"] == "q8" and isinstance(e["max_length"], int) and 16 <= e["max_length"] <= 8192, e
        assert e["label"] and e["description"], e
        if e["source"] == "hub":
            # Sizes we cannot measure here are not presented as measured.
            assert e["size_bytes"] is None and "not measured" in e["size_hint"], e
            assert e["path"] == e["id"] and re.fullmatch(r"[\w.-]+/[\w.-]+", e["id"]), e
    for e in (x for x in entries if x["source"] == "bundled"):
        model_file = bundled_model_dir(e) / onnx_file_name(e)
        data = model_file.read_bytes()
        assert e["size_bytes"] == len(data), f"size_bytes of {e['id']} must be the size of {model_file}"
        assert e["sha256"] == hashlib.sha256(data).hexdigest(), f"sha256 of {e['id']} must match {model_file}"
        assert f"{len(data) / 1e6:.1f} MB" in e["label"], e["label"]
        placeholder = (bundled_model_dir(e) / "PLACEHOLDER").exists()
        if e.get("kind") == "bi-encoder":
            assert "bi-encoder" in e["label"], e["label"]
        elif placeholder:
            assert "placeholder" in e["label"] and "trained here" not in e["label"], e["label"]
        else:
            assert "trained here" in e["label"] and "placeholder" not in e["label"], e["label"]


def test_bundled_model_second_visit_loads_from_cache_storage(host: Any) -> None:
    """First visit downloads the bundled model on the CPU-only ONNX Runtime build (not the 26 MB WebGPU one);
    after a reload of the page it comes from Cache Storage."""
    runtime_files: list[str] = []
    host.context.on("request", lambda r: runtime_files.append(r.url.rsplit("/", 1)[-1]) if "/vendor/ort/" in r.url else None)
    first = load(host, default_entry())
    assert first["ok"] and first["ready"]["fromCache"] is False, first
    assert "ort-wasm-simd-threaded.wasm" in runtime_files, runtime_files
    assert not [f for f in runtime_files if "jsep" in f or "asyncify" in f], runtime_files
    cores = host.evaluate("navigator.hardwareConcurrency")
    assert first["ready"]["threads"] == min(4, -(-cores // 2)), "half the cores (rounded up), at most 4"
    host.reload()
    host.evaluate(BOOT_JS)
    second = load(host, default_entry())
    assert second["ok"] and second["ready"]["fromCache"] is True, second
    assert score(host, RETRY_PAIRS)["done"]["pairs"] == 2


def test_webgpu_request_falls_back_to_wasm_with_a_reason(host: Any) -> None:
    """WebGPU is opt-in; without a usable adapter (GPU disabled here) the model runs on wasm and says why."""
    result = load(host, default_entry(), backend="webgpu")
    assert result["ok"], result
    ready = result["ready"]
    if ready["backend"] == "webgpu":  # a machine with a real GPU: nothing fell back
        assert ready["fallbackReason"] is None
    else:
        assert ready["backend"] == "wasm" and "WebGPU" in ready["fallbackReason"], ready
    assert score(host, RETRY_PAIRS)["done"]["pairs"] == 2


# --------------------------------------------------------------------------- streaming


def test_the_first_score_is_the_shortest_of_the_first_pairs(loaded: Any) -> None:
    """A list that opens with long passages still shows its first score fast: the first batch is the shortest of
    the first eight pairs, and a short pair further down waits for its turn."""
    query, text = BATCH_PAIR
    pairs = [{"key": f"long{i}", "query": query, "text": long_passage(i)} for i in range(3)]
    pairs += [{"key": "short", "query": query, "text": text}]
    pairs += [{"key": f"long{i}", "query": query, "text": long_passage(i)} for i in range(3, 9)]
    pairs += [{"key": "late", "query": query, "text": "Tides rise and fall twice a day."}]
    run = score(loaded, pairs)
    assert run["ok"], run
    assert run["results"][0]["key"] == "short"
    assert sorted(r["key"] for r in run["results"]) == sorted(p["key"] for p in pairs)


def passages(n: int, words: int = 40) -> list[dict[str, str]]:
    """n distinct passages of a few dozen words."""
    return [{"key": f"s{i}", "query": "how are packages verified",
             "text": f"Passage {i}: " + " ".join(f"word{(i * 7 + j) % 97}" for j in range(words + i % 13))}
            for i in range(n)]


def test_scores_stream_in_several_messages_each_pair_once(loaded: Any) -> None:
    """12 passages: results arrive in more than one batch, before `done`, one per pair, each with a finite logit."""
    run = score(loaded, passages(12))
    assert run["ok"], run
    keys = [r["key"] for r in run["results"]]
    assert sorted(keys) == sorted(p["key"] for p in passages(12))
    assert run["done"]["batches"] >= 2 and run["done"]["cancelled"] is False
    arrival_groups = {round(r["at"], 1) for r in run["results"]}
    assert len(arrival_groups) >= 2, "results should arrive at several moments, not all at once"
    assert all(isinstance(r["logit"], float) and abs(r["logit"]) < 100 for r in run["results"])
    assert run["done"]["firstResultMs"] < run["done"]["ms"]


CANCEL_JS = """
async (pairs) => {
  const {scorer} = window.scoring;
  const seen = [];
  let cancelledAt = null;
  const p = scorer.score(pairs, {onResult: (r) => {
    seen.push({key: r.key, after: cancelledAt !== null});
    if (cancelledAt === null) { cancelledAt = seen.length; scorer.cancel(); }
  }});
  const done = await p;
  await new Promise((r) => setTimeout(r, 1500));   // anything still in flight would land here
  const after = await scorer.score(pairs.slice(0, 3), {});  // the worker is still usable
  return {seen, done, cancelledAt, after};
}
"""


def test_cancel_mid_run_stops_further_results(loaded: Any) -> None:
    """Cancel after the first result: the call resolves cancelled, no result arrives afterwards, next run works."""
    out = loaded.evaluate(CANCEL_JS, passages(40))
    assert out["done"]["cancelled"] is True
    assert out["cancelledAt"] is not None and out["cancelledAt"] < 40
    assert not any(s["after"] for s in out["seen"]), "a result arrived after cancel()"
    assert out["after"]["pairs"] == 3 and out["after"]["cancelled"] is False


SUPERSEDE_JS = """
async ([first, second]) => {
  const {scorer} = window.scoring;
  const a = [], b = [];
  const pa = scorer.score(first, {onResult: (r) => a.push(r.key)});
  await new Promise((r) => setTimeout(r, 30));
  const pb = scorer.score(second, {onResult: (r) => b.push(r.key)});
  const [da, db] = await Promise.all([pa, pb]);
  return {a, b, da, db};
}
"""


def test_new_score_supersedes_running_one_without_mixing(loaded: Any) -> None:
    """A second score() while the first runs: the first resolves cancelled, only the second's keys reach it."""
    first = passages(30)
    second = [{**p, "key": "new-" + p["key"]} for p in passages(6)]
    out = loaded.evaluate(SUPERSEDE_JS, [first, second])
    assert out["da"]["cancelled"] is True and out["da"].get("superseded") is True
    assert out["db"]["cancelled"] is False and sorted(out["b"]) == sorted(p["key"] for p in second)
    assert len(out["a"]) < len(first)
    assert all(k.startswith("s") for k in out["a"]) and all(k.startswith("new-") for k in out["b"])


SWITCH_JS = """
async ([pairs, other]) => {
  const {scorer} = window.scoring;
  const first = [];
  const run = scorer.score(pairs, {onResult: (r) => first.push({key: r.key, model: r.model})});
  await new Promise((r) => { const t = setInterval(() => { if (first.length) { clearInterval(t); r(); } }, 5); });
  const ready = await scorer.load(other);
  const firstDone = await run;
  const countAtSwitch = first.length;
  const second = [];
  const done = await scorer.score(pairs.slice(0, 8), {onResult: (r) => second.push({key: r.key, model: r.model, logit: r.logit})});
  return {first, countAtSwitch, firstDone, ready, second, done};
}
"""


def test_switching_model_mid_run_never_mixes_scores(loaded: Any, tmp_path: Path) -> None:
    """Loading another model mid-run drops the old run; every later score comes from the new model."""
    other = {**default_entry(), "id": "second-copy", "label": "second copy", "max_length": 64}
    out = loaded.evaluate(SWITCH_JS, [passages(40), other])
    assert out["ready"]["model"] == "second-copy"
    assert out["firstDone"]["cancelled"] is True
    assert len(out["first"]) == out["countAtSwitch"] < 40
    assert {r["model"] for r in out["first"]} == {"minilm-l6-debian-ce"}
    assert {r["model"] for r in out["second"]} == {"second-copy"} and len(out["second"]) == 8


# --------------------------------------------------------------------------- failures and retry
# Faults are real files served by the mirror's HTTP server (a hub-layout directory on another loopback port).


def hub_entry(hub_id: str) -> dict[str, Any]:
    """A hub catalog entry for a model published on the mirror."""
    return {**default_entry(), "id": hub_id, "label": hub_id, "source": "hub", "path": hub_id, "size_bytes": None,
            "default": False}


def assert_retry_works(page: Any, entry: dict[str, Any]) -> None:
    """After the fault is removed, the same page and worker load the model and score."""
    again = load(page, entry)
    assert again["ok"], again["message"]
    assert again["ready"]["fromCache"] is False, "a failed download must not be served from the cache"
    run = score(page, RETRY_PAIRS)
    assert run["ok"] and run["done"]["pairs"] == 2, run


def assert_sentence(message: str) -> None:
    """A message a person can act on: a full sentence, not a stack trace."""
    assert re.match(r"^[A-Z][^\n]{20,400}[.!]( |$)", message), message
    assert "at " not in message.split(". ")[0][:5] and "Error:" not in message[:10], message


@pytest.mark.allow_console_errors(r"Failed to load resource.*404")
def test_missing_model_file_says_which_file_and_retry_works(page: Any, hub_site: HubSite, build_module: Any) -> None:
    """404 on the ONNX file: a sentence naming the file; once it is published, retry in the same page works."""
    files = hub_site.mirror.add_model("faults/missing-onnx")
    onnx_path = files / onnx_file_name(default_entry())
    saved = onnx_path.read_bytes()
    onnx_path.unlink()
    open_host(page, hub_site.url, hub_site.dist, build_module)
    entry = hub_entry("faults/missing-onnx")
    failed = load(page, entry)
    assert not failed["ok"]
    assert_sentence(failed["message"])
    assert "onnx/model_quantized.onnx" in failed["message"] and "not found" in failed["message"], failed["message"]
    onnx_path.write_bytes(saved)
    assert_retry_works(page, entry)


@pytest.mark.allow_console_errors(r"Failed to load resource.*404")
def test_unknown_model_repository_is_a_clear_error(page: Any, hub_site: HubSite, build_module: Any) -> None:
    """A hub id that does not exist: the message says the model was not found and suggests another model."""
    open_host(page, hub_site.url, hub_site.dist, build_module)
    failed = load(page, hub_entry("faults/no-such-model"))
    assert not failed["ok"]
    assert_sentence(failed["message"])
    assert "not found" in failed["message"] and "choose another model" in failed["message"], failed["message"]


@pytest.mark.allow_console_errors(r"(?i)onnx|session|protobuf|wasm")
def test_truncated_onnx_file_is_reported_and_not_cached(page: Any, hub_site: HubSite, build_module: Any) -> None:
    """A half-downloaded ONNX file: 'damaged or incomplete' with the file name; the retry downloads it again."""
    files = hub_site.mirror.add_model("faults/truncated-onnx")
    onnx_path = files / onnx_file_name(default_entry())
    saved = onnx_path.read_bytes()
    onnx_path.write_bytes(saved[: len(saved) // 2])
    open_host(page, hub_site.url, hub_site.dist, build_module)
    entry = hub_entry("faults/truncated-onnx")
    failed = load(page, entry)
    assert not failed["ok"]
    assert_sentence(failed["message"])
    assert "damaged or incomplete" in failed["message"] and "model_quantized.onnx" in failed["message"], failed
    onnx_path.write_bytes(saved)
    before = len(hub_site.mirror.requested("faults/truncated-onnx"))
    assert_retry_works(page, entry)
    assert len(hub_site.mirror.requested("faults/truncated-onnx")) > before, "the retry must download again"


def test_corrupt_tokenizer_json_is_reported_and_retry_works(page: Any, hub_site: HubSite, build_module: Any) -> None:
    """tokenizer.json that is not JSON: a sentence naming the tokenizer file; after the fix, retry works."""
    files = hub_site.mirror.add_model("faults/corrupt-tokenizer")
    tok_path = files / "tokenizer.json"
    saved = tok_path.read_bytes()
    tok_path.write_bytes(saved[:1000])  # cut mid-JSON, as a broken upload or proxy would
    open_host(page, hub_site.url, hub_site.dist, build_module)
    entry = hub_entry("faults/corrupt-tokenizer")
    failed = load(page, entry)
    assert not failed["ok"]
    assert_sentence(failed["message"])
    assert "tokenizer" in failed["message"] and "tokenizer.json" in failed["message"], failed["message"]
    tok_path.write_bytes(saved)
    assert_retry_works(page, entry)


WASM_MISSING_JS = """
async (entry) => {
  const S = window.scoring.S;
  const runtime = (await import('./app/runtime.js')).RUNTIME;
  const broken = new S.Scorer({runtime: {...runtime, ortWasmPaths: '../vendor/ort-missing/'}});
  let message = null;
  try { await broken.load(entry); } catch (e) { message = e.message; }
  broken.terminate();
  const ready = await window.scoring.scorer.load(entry);   // the page's own scorer is unaffected
  return {message, ready};
}
"""


@pytest.mark.allow_console_errors(r"Failed to load resource.*404", r"(?i)wasm|onnx|backend|import")
def test_missing_onnx_runtime_wasm_is_a_clear_error(host: Any) -> None:
    """The ORT .wasm/.mjs files missing from the site: a sentence about the runtime files, the page still scores."""
    out = host.evaluate(WASM_MISSING_JS, default_entry())
    assert out["message"] is not None
    assert_sentence(out["message"])
    assert "WebAssembly" in out["message"] and "ort-missing" in out["message"], out["message"]
    assert out["ready"]["model"] == default_entry()["id"]


def test_score_before_any_model_is_loaded_is_a_clear_error(host: Any) -> None:
    """Scoring with no model loaded rejects with a sentence telling what to do."""
    run = score(host, RETRY_PAIRS)
    assert not run["ok"] and run["results"] == []
    assert_sentence(run["message"])
    assert "No model is loaded" in run["message"]
