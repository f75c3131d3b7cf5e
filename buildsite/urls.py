"""Where runtimes and models come from: the page's relative runtime strings, pinned CDN URLs, the model hub."""

from __future__ import annotations

import re
from typing import Mapping

from .core import BuildError

DEFAULT_HUB_HOST = "https://huggingface.co/"
CDN_ORIGIN = "https://cdn.jsdelivr.net"

# The only runtime strings index.html may contain; --cdn rewrites them (docs/ARCHITECTURE.md).
PAGE_PYSCRIPT_JS = "vendor/pyscript/core.js"
PAGE_PYSCRIPT_CSS = "vendor/pyscript/core.css"
# Pyodide's module: PyScript's interpreter is app/pyodide-boot.js, which imports it from app/runtime.js.
PAGE_PYODIDE = "vendor/pyodide/pyodide.mjs"


def cdn_urls(versions: Mapping[str, str], origin: str = CDN_ORIGIN) -> dict[str, str]:
    """Pinned jsDelivr-layout URLs for every runtime, same versions as the vendored copies."""
    return {
        PAGE_PYSCRIPT_JS: f"{origin}/npm/@pyscript/core@{versions['pyscript']}/dist/core.js",
        PAGE_PYSCRIPT_CSS: f"{origin}/npm/@pyscript/core@{versions['pyscript']}/dist/core.css",
        PAGE_PYODIDE: f"{origin}/pyodide/v{versions['pyodide']}/full/pyodide.mjs",
        "transformers": f"{origin}/npm/@huggingface/transformers@{versions['transformers']}/dist/transformers.min.js",
        "ort": f"{origin}/npm/onnxruntime-web@{versions['ort']}/dist/",
    }


def normalise_hub_host(url: str) -> str:
    """Validate --hub-host and give it exactly one trailing slash."""
    if not re.fullmatch(r"https?://[A-Za-z0-9.\-\[\]]+(:\d+)?(/[^\s'\";]*)?", url):
        raise BuildError(f"--hub-host must be an http(s) URL like {DEFAULT_HUB_HOST}, got {url!r}")
    return url.rstrip("/") + "/"


def normalise_origin(url: str) -> str:
    """Validate --cdn-origin: scheme://host[:port] with no path."""
    if not re.fullmatch(r"https?://[A-Za-z0-9.\-\[\]]+(:\d+)?/?", url):
        raise BuildError(f"--cdn-origin must be an origin like {CDN_ORIGIN}, got {url!r}")
    return url.rstrip("/")


def origin_of(url: str) -> str:
    """scheme://host[:port] of a URL."""
    match = re.match(r"^(https?://[^/]+)", url)
    assert match, url
    return match.group(1)


def hub_connect_sources(hub_host: str) -> list[str]:
    """connect-src entries for hub model downloads (the hub redirects large files to its CDN hosts)."""
    origin = origin_of(hub_host)
    sources = [origin]
    if origin == origin_of(DEFAULT_HUB_HOST):
        sources += ["https://*.huggingface.co", "https://*.hf.co"]
    return sources
