"""Page helpers for the end-to-end tests: open the page with a recorder, load presets, run, read rows and stats."""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from .helpers import wait_for_phase
from .paths import ROOT

RUN_TIMEOUT_MS = 180_000

# Records every value of <html data-phase> and every `rerank:update` detail, from the first byte on.
RECORDER = """
(() => {
  window.__phases = [];
  window.__updates = [];
  const push = (phase) => {
    if (phase && window.__phases[window.__phases.length - 1] !== phase) window.__phases.push(phase);
  };
  const note = () => push(document.documentElement && document.documentElement.dataset.phase);
  // Several phase changes in one task arrive as one batch: each record's oldValue is the value before it.
  new MutationObserver((records) => {
    const changes = records.filter((r) => r.type === "attributes" && r.target === document.documentElement);
    changes.forEach((r, i) => {
      push(r.oldValue);
      push(i + 1 < changes.length ? changes[i + 1].oldValue : r.target.dataset.phase);
    });
    if (!changes.length) note();
  }).observe(document, {subtree: true, attributes: true, attributeOldValue: true, attributeFilter: ["data-phase"],
                        childList: true});
  document.addEventListener("readystatechange", note);
  document.addEventListener("rerank:update", (e) => {
    const rows = [...document.querySelectorAll("#results li.passage")].map((li) => ({
      index: Number(li.dataset.index), rank: Number(li.dataset.rank), change: Number(li.dataset.change),
      state: li.dataset.state}));
    window.__updates.push({detail: e.detail, rows});
  });
})();
"""

# After its first restore the page keeps the decompressed Python snapshot in Cache Storage, in the background.
PYTHON_SNAPSHOT_KEPT_JS = """async () => (await (await caches.open("reranker-python-v1")).keys()).length === 1"""

ROWS_JS = """() => [...document.querySelectorAll('#results li.passage')].map((li) => ({
  index: Number(li.dataset.index), rank: Number(li.dataset.rank), change: Number(li.dataset.change), state: li.dataset.state,
  score: li.dataset.score === undefined ? null : Number(li.dataset.score), sunk: li.dataset.sunk === 'true',
  relevance: li.dataset.relevance === undefined ? null : Number(li.dataset.relevance),
  text: li.querySelector('.passage-text').textContent}))"""


@lru_cache(maxsize=None)
def preset(preset_id: str) -> dict[str, Any]:
    """A preset file from static/presets."""
    return json.loads((ROOT / "static" / "presets" / f"{preset_id}.json").read_text(encoding="utf-8"))


@lru_cache(maxsize=None)
def default_model_id() -> str:
    """Id of the catalog's default model."""
    catalog = json.loads((ROOT / "static" / "models.json").read_text(encoding="utf-8"))
    return next(e for e in catalog if e.get("default"))["id"]


def open_page(page: Any, base_url: str, query: str = "", *, wait: str | None = "ready") -> None:
    """Load the page with the recorder; optionally wait for a phase."""
    page.set_default_timeout(RUN_TIMEOUT_MS)  # a loaded 2-core machine can stall the main thread for long
    page.add_init_script(RECORDER)
    page.goto(base_url + query)
    if wait:
        wait_for_phase(page, wait, timeout=RUN_TIMEOUT_MS)


def load_preset(page: Any, preset_id: str) -> dict[str, Any]:
    """Click a preset chip and wait until its query is in the field."""
    data = preset(preset_id)
    page.click(f'.preset-chip[data-preset="{preset_id}"]')
    page.wait_for_function("q => document.querySelector('#query').value === q", arg=data["query"])
    return data


def run(page: Any, *, trigger: str = "click") -> None:
    """Start a run (click Rerank unless trigger='none') and wait until it is done."""
    page.evaluate("() => { window.__updates = []; }")
    if trigger == "click":
        page.click("#rerank")
    wait_for_done(page)


def wait_for_done(page: Any) -> None:
    """Wait for phase done (an error phase fails with the page's own message)."""
    phase = wait_for_phase(page, ("done", "error"), timeout=RUN_TIMEOUT_MS)
    if phase == "error":
        messages = page.evaluate(
            "() => [...document.querySelectorAll('.field-error')].map(e => e.textContent).filter(Boolean)")
        raise AssertionError(f"run ended in phase error: {messages} / status {page.inner_text('#status')!r}")


def rows(page: Any) -> list[dict[str, Any]]:
    """The result rows in display order, as the DOM contract exposes them."""
    return page.evaluate(ROWS_JS)


def stat(page: Any, key: str, lane: str = "#stats") -> str:
    """Text of one run statistic (data-stat=key)."""
    return page.inner_text(f'{lane} [data-stat="{key}"]')


def updates(page: Any) -> list[dict[str, Any]]:
    """rerank:update details recorded since the last run() (with the DOM rows at that moment)."""
    return page.evaluate("() => window.__updates")


def assert_final_order(final: list[dict[str, Any]], threshold: float = 0.5) -> None:
    """Contract: every row scored, ranks 1..n in DOM order, descending score, sunk rows (< threshold) last."""
    assert final, "no result rows"
    assert all(r["state"] == "scored" for r in final), [r for r in final if r["state"] != "scored"]
    assert [r["rank"] for r in final] == list(range(1, len(final) + 1))
    assert sorted(r["index"] for r in final) == list(range(len(final)))
    scores = [r["score"] for r in final]
    assert all(0.0 <= s <= 1.0 for s in scores), scores
    assert scores == sorted(scores, reverse=True), scores
    for r in final:
        assert r["sunk"] == (r["score"] < threshold), r
    sunk_flags = [r["sunk"] for r in final]
    assert sunk_flags == sorted(sunk_flags), "a sunk row sits above a row that is not sunk"
