"""Python's start (app/pyodide-boot.js): the page restores Pyodide from the memory snapshot build.py made instead of
booting it, ranks exactly like a booted Python, and keeps the decompressed snapshot for the next visit; a snapshot
that is missing or altered is not used: Python boots, the loading strip's tooltip says why, and everything works."""

from __future__ import annotations

from typing import Any

import pytest

from harness import wait_for_phase
from harness.page import (PYTHON_SNAPSHOT_KEPT_JS, RUN_TIMEOUT_MS, assert_final_order, load_preset, open_page,
                          rows, run)

SNAPSHOT_URL = "**/py/pyodide-snapshot.bin.gz"


def python_start(page: Any) -> dict[str, Any]:
    """How app/pyodide-boot.js started Python on this page ({source, ms, bytes | reason})."""
    return page.evaluate("() => globalThis.rerankerPythonStart")


def ranked(page: Any) -> list[tuple[int, float]]:
    """The rag-tides preset ranked: (original index, score) in display order."""
    load_preset(page, "rag-tides")
    run(page)
    final = rows(page)
    assert_final_order(final)
    return [(r["index"], r["score"]) for r in final]


@pytest.mark.allow_console_errors("integrity", "404", "Failed to load resource")
def test_python_is_restored_from_the_build_snapshot_and_ranks_like_a_booted_python(page: Any, base_url: str) -> None:
    """With the snapshot unavailable Python boots; with it, Python is restored instead (no boot), and the same
    preset comes out in the same order with the same scores. The next visit reads the kept copy, not the file."""
    page.route(SNAPSHOT_URL, lambda route: route.fulfill(status=404, body="gone"))
    open_page(page, base_url)
    booted = python_start(page)
    assert booted["source"] == "boot" and booted["reason"], booted
    from_boot = ranked(page)
    page.unroute(SNAPSHOT_URL)

    downloads: list[str] = []
    page.on("requestfinished", lambda r: downloads.append(r.url) if r.url.endswith("pyodide-snapshot.bin.gz") else None)
    page.reload()
    wait_for_phase(page, "ready", timeout=RUN_TIMEOUT_MS)
    restored = python_start(page)
    assert restored["source"] == "snapshot" and not restored["cached"] and restored["bytes"] > 10_000_000, restored
    assert page.get_attribute("#load-python", "data-start") == "snapshot"
    assert "snapshot" in page.get_attribute("#python-start", "title")
    assert page.inner_text("#python-start").endswith(" s")
    from_snapshot = ranked(page)
    assert [i for i, _ in from_snapshot] == [i for i, _ in from_boot]
    assert from_snapshot == pytest.approx(from_boot, abs=1e-6)
    assert len(downloads) == 1, downloads

    page.wait_for_function(PYTHON_SNAPSHOT_KEPT_JS)
    page.reload()
    wait_for_phase(page, "ready", timeout=RUN_TIMEOUT_MS)
    again = python_start(page)
    assert again["source"] == "snapshot" and again["cached"], again
    assert len(downloads) == 1, "the second visit downloaded the snapshot again"
    assert ranked(page) == pytest.approx(from_boot, abs=1e-6)


def tampered(route: Any) -> None:
    """Serve the snapshot with one byte changed (its integrity hash no longer matches)."""
    body = bytearray(route.fetch().body())
    body[len(body) // 2] ^= 0xFF
    route.fulfill(status=200, body=bytes(body), headers={"content-type": "application/gzip"})


@pytest.mark.allow_console_errors("integrity", "404", "Failed to load resource")
@pytest.mark.parametrize("fault", ["altered", "missing"])
def test_a_snapshot_that_cannot_be_used_makes_python_boot_and_the_page_works(page: Any, base_url: str,
                                                                            fault: str) -> None:
    """An altered snapshot (Subresource Integrity refuses it) or a missing one: Python boots instead, the loading
    strip's tooltip says why, and ranking works."""
    if fault == "altered":
        page.route(SNAPSHOT_URL, tampered)
    else:
        page.route(SNAPSHOT_URL, lambda route: route.fulfill(status=404, body="gone"))
    open_page(page, base_url)
    start = python_start(page)
    assert start["source"] == "boot", start
    assert page.get_attribute("#load-python", "data-start") == "boot"
    assert "snapshot was not used" in page.get_attribute("#python-start", "title")
    ranked(page)


# Overwrite the kept (decompressed) snapshot with bytes of the same length that are not a snapshot.
SPOIL_KEPT_JS = """async () => {
  const cache = await caches.open("reranker-python-v1");
  const [request] = await cache.keys();
  const size = (await (await cache.match(request)).arrayBuffer()).byteLength;
  await cache.put(request, new Response(new Uint8Array(size).fill(7)));
}"""


def test_a_kept_snapshot_that_fails_is_dropped_and_the_next_visit_restores_again(page: Any, base_url: str) -> None:
    """The copy kept in Cache Storage goes bad (same size, wrong bytes): that visit boots Python and ranks, drops
    the copy, and the visit after it restores from the build's file again."""
    open_page(page, base_url)
    page.wait_for_function(PYTHON_SNAPSHOT_KEPT_JS)
    page.evaluate(SPOIL_KEPT_JS)
    page.reload()
    wait_for_phase(page, "ready", timeout=RUN_TIMEOUT_MS)
    assert python_start(page)["source"] == "boot"
    ranked(page)
    page.reload()
    wait_for_phase(page, "ready", timeout=RUN_TIMEOUT_MS)
    start = python_start(page)
    assert start["source"] == "snapshot" and not start["cached"], start
