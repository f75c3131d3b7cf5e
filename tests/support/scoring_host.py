"""Scoring-engine test fixtures: a same-origin host page that imported app/scorer.js, with or without the bundled
model loaded, and the pair sets the worker-protocol and parity tests share."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from support.scoring import default_entry, load, open_host


@pytest.fixture
def host(page: Any, base_url: str, dist_dir: Path, build_module: Any) -> Any:
    """A same-origin page (with the site's real headers) that imported app/scorer.js as window.scoring."""
    info = open_host(page, base_url, dist_dir, build_module)
    assert info["isolated"] is True, "the site's COOP/COEP headers should make the host cross-origin isolated"
    return page


@pytest.fixture
def loaded(host: Any) -> Any:
    """Host page with the bundled default model loaded."""
    result = load(host, default_entry())
    assert result["ok"], result
    return host


def long_passage(i: int) -> str:
    """A passage far beyond the 256-token window (truncated), different for every i."""
    return " ".join(f"Clause {i}.{k}: the archive is unpacked, its signature verified and its files listed." for k in range(40))


BATCH_PAIR = ("how do tides work", "Tides are caused by the gravitational pull of the moon and the sun.")
