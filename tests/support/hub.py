"""A local stand-in for the Hugging Face hub: a directory in hub layout served on its own loopback port (CORS),
and a site build whose `--hub-host` points at it. Import the fixtures into a test module to use them."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from support.scoring import bundled_model_dir, make_hub_mirror


@dataclass
class HubMirror:
    """The mirror's directory, URL and a log of the paths browsers requested from it."""

    root: Path
    url: str
    requests: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add_model(self, hub_id: str, model_dir: Path | None = None) -> Path:
        """Publish a copy of `model_dir` (default: the bundled model) as `hub_id`; returns its file directory."""
        make_hub_mirror(self.root, hub_id, model_dir or bundled_model_dir())
        return self.root / hub_id / "resolve" / "main"

    def requested(self, hub_id: str) -> list[str]:
        """Paths requested under `hub_id` so far."""
        with self.lock:
            return [p for p in self.requests if p.startswith(f"/{hub_id}/")]


@dataclass
class HubSite:
    """A site build using the mirror as its hub, served on its own port."""

    mirror: HubMirror
    dist: Path
    url: str


@pytest.fixture(scope="session")
def hub_mirror(tmp_path_factory: pytest.TempPathFactory, serve_directory: Callable[..., str]) -> HubMirror:
    """An empty hub-layout directory served with CORS on a loopback port; every GET path is logged."""
    root = tmp_path_factory.mktemp("hub-mirror")
    mirror = HubMirror(root=root, url="")

    def log_request(handler: Any) -> bool:
        with mirror.lock:
            mirror.requests.append(handler.path.split("?", 1)[0])
        return False  # let the normal handler answer

    mirror.url = serve_directory(root, cors=True, use_headers_file=False, intercept=log_request)
    return mirror


@pytest.fixture(scope="session")
def hub_site(hub_mirror: HubMirror, build_variant: Callable[..., Path], serve_directory: Callable[..., str]) -> HubSite:
    """The self-contained site built with `--hub-host <mirror>` and served on its own port."""
    dist = build_variant("--hub-host", hub_mirror.url)
    return HubSite(mirror=hub_mirror, dist=dist, url=serve_directory(dist))
