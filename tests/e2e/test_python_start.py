"""Python's start: the first visit boots Pyodide and keeps a snapshot of the started interpreter in Cache Storage
(app/pyodide-boot.js); the next visit restores it instead of booting, says so, and ranks exactly as before.
A damaged snapshot is never trusted: the page boots Python instead and stores a good one."""

from __future__ import annotations

from typing import Any

import pytest

from harness import wait_for_phase
from test_page_support import RUN_TIMEOUT_MS, assert_final_order, load_preset, open_page, rows, run

SNAPSHOTS_JS = """async () => {
  const cache = await caches.open("reranker-python-v1");
  const out = [];
  for (const request of await cache.keys()) {
    out.push({url: request.url, bytes: (await (await cache.match(request)).arrayBuffer()).byteLength});
  }
  return out;
}"""

# Overwrite the stored snapshot with a damaged copy, keeping its URL and headers.
DAMAGE_JS = """async (how) => {
  const cache = await caches.open("reranker-python-v1");
  const [request] = await cache.keys();
  const response = await cache.match(request);
  let bytes = new Uint8Array(await response.arrayBuffer());
  if (how === "cut short") bytes = bytes.slice(0, bytes.length >> 1);
  else bytes = bytes.map((b, i) => (i < 4096 ? b ^ 0x5a : b));
  await cache.put(request, new Response(bytes, {headers: response.headers}));
}"""


def python_start(page: Any) -> dict[str, Any]:
    """How app/pyodide-boot.js started Python on this page ({source, ms, bytes})."""
    return page.evaluate("() => globalThis.rerankerPythonStart")


def stored_snapshots(page: Any) -> list[dict[str, Any]]:
    """The snapshot entries in Cache Storage, once the first one is written."""
    page.wait_for_function(f"({SNAPSHOTS_JS})().then((s) => s.length > 0)", timeout=RUN_TIMEOUT_MS)
    return page.evaluate(SNAPSHOTS_JS)


def ranked(page: Any) -> list[tuple[int, float]]:
    """The rag-tides preset ranked: (original index, score) in display order."""
    load_preset(page, "rag-tides")
    run(page)
    final = rows(page)
    assert_final_order(final)
    return [(r["index"], r["score"]) for r in final]


def test_a_second_visit_restores_python_from_its_snapshot_and_ranks_the_same(page: Any, base_url: str) -> None:
    """Visit 1 boots Python and stores one snapshot of the whole interpreter memory; the reload restores it (the
    loading strip says "restored"), and the same preset comes out in the same order with the same scores."""
    open_page(page, base_url)
    first = python_start(page)
    assert first["source"] == "boot", first
    assert page.get_attribute("#load-python", "data-start") == "boot"
    assert "restored" not in page.inner_text("#load-python")
    [snapshot] = stored_snapshots(page)
    assert snapshot["bytes"] == first["bytes"] > 10_000_000, (snapshot, first)
    before = ranked(page)

    page.reload()
    wait_for_phase(page, "ready", timeout=RUN_TIMEOUT_MS)
    second = python_start(page)
    assert second["source"] == "snapshot" and second["bytes"] == snapshot["bytes"], second
    assert page.get_attribute("#load-python", "data-start") == "snapshot"
    assert "restored" in page.inner_text("#load-python")
    after = ranked(page)
    assert [i for i, _ in after] == [i for i, _ in before]
    assert after == pytest.approx(before, abs=1e-6)


@pytest.mark.parametrize("damage", ["cut short", "overwritten header"])
def test_a_damaged_snapshot_is_not_used_python_boots_and_stores_a_good_one(page: Any, base_url: str,
                                                                         damage: str) -> None:
    """A snapshot that is incomplete (length check) or not a snapshot of this Pyodide (Pyodide's own header
    check) is dropped: Python boots as on a first visit, ranking works, and a complete snapshot replaces it."""
    open_page(page, base_url)
    [good] = stored_snapshots(page)
    page.evaluate(DAMAGE_JS, damage)
    page.reload()
    wait_for_phase(page, "ready", timeout=RUN_TIMEOUT_MS)
    assert python_start(page)["source"] == "boot"
    ranked(page)
    assert page.evaluate(SNAPSHOTS_JS) == [good], "the damaged snapshot was not replaced by a complete one"
