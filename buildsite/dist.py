"""The build: assemble dist/ (or --out) for a flavour from the page, app/, py/, static/, models/ and the runtimes."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

from .assembly import Assembly
from .biencoder import BIENCODER_ID, ensure_biencoder
from .core import ROOT, BuildError, Log
from .headers import header_rules, headers_file
from .page import page_html
from .pdfreader import PDF_READER_DIR, ensure_pdf_reader, pdf_reader_entry
from .runtime import read_limits, runtime_js
from .snapshot import PYTHON_SNAPSHOT, python_snapshot, snapshot_runtime_entry
from .urls import CDN_ORIGIN, DEFAULT_HUB_HOST, normalise_hub_host, normalise_origin
from .vendor import ensure_node_modules, lock_versions, vendored_files

SOURCE_DIRS = ("app", "py", "static", "models")
BUILD_MARKER = ".build.json"  # marks a directory build.py owns (and may prune)


@dataclass
class BuildResult:
    """What a build produced."""

    out: Path
    flavour: str
    stats: dict[str, int]
    seconds: float


def check_target(root: Path, out: Path) -> None:
    """Refuse to build without a page shell, or into a non-empty directory that holds no earlier build."""
    if not (root / "index.html").is_file():
        raise BuildError(f"{root / 'index.html'} is missing: the page shell must exist before building")
    if out.exists() and any(out.iterdir()) and not (out / BUILD_MARKER).is_file():
        raise BuildError(f"{out} is not empty and holds no earlier build; choose an empty or new --out directory")


def build(
    out: Path | None = None,
    *,
    cdn: bool = False,
    hub_host: str = DEFAULT_HUB_HOST,
    cdn_origin: str = CDN_ORIGIN,
    root: Path = ROOT,
    log: Log = print,
) -> BuildResult:
    """Assemble dist/ (or `out`) for the chosen flavour; only changed files are rewritten."""
    started = time.perf_counter()
    out = (out or root / "dist").absolute()
    flavour = "cdn" if cdn else "self-contained"
    hub_host = normalise_hub_host(hub_host)
    origin = normalise_origin(cdn_origin) if cdn else None
    check_target(root, out)
    ensure_node_modules(root, log)
    versions = lock_versions(root)

    asm = Assembly()
    asm.write("index.html", page_html(origin, versions, root))
    for name in SOURCE_DIRS:
        if (root / name).is_dir():
            asm.copy_tree(name, root / name)
    snapshot = python_snapshot(root, versions["pyodide"], log)
    asm.copy(PYTHON_SNAPSHOT, snapshot)
    pdf_wheel = ensure_pdf_reader(root, log)
    asm.copy(f"{PDF_READER_DIR}/{pdf_wheel.name}", pdf_wheel)  # both flavours: it is the page's own file
    asm.write("app/runtime.js", runtime_js(origin, versions, hub_host, snapshot_runtime_entry(snapshot),
                                           read_limits(root), pdf_reader_entry(pdf_wheel)))
    asm.copy_tree(f"models/{BIENCODER_ID}", ensure_biencoder(root, log))
    if flavour == "self-contained":
        for rel, source in vendored_files(root / "node_modules").items():
            asm.copy(rel, source)
    asm.write("_headers", headers_file(header_rules(origin, hub_host)))
    marker = {"flavour": flavour, "cdn_origin": origin, "hub_host": hub_host, "versions": versions}
    asm.write(BUILD_MARKER, json.dumps(marker, indent=2) + "\n")
    stats = asm.sync(out)
    return BuildResult(out=out, flavour=flavour, stats=stats, seconds=time.perf_counter() - started)
