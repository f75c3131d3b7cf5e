"""Repository paths and access to the build: the `buildsite` package (build, headers, server) and build.py's CLI."""

from __future__ import annotations

import importlib
import importlib.util
import json
import sys
from functools import lru_cache
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
PY_DIR = ROOT / "py"  # the `reranker` package and glue.py the page loads


def lockfile_versions() -> dict[str, str]:
    """npm package name -> version pinned in package-lock.json."""
    packages = json.loads((ROOT / "package-lock.json").read_text(encoding="utf-8"))["packages"]
    return {path.removeprefix("node_modules/"): entry["version"]
            for path, entry in packages.items() if path.startswith("node_modules/")}


@lru_cache(maxsize=None)
def load_buildsite() -> ModuleType:
    """The repository's `buildsite` package (what build.py runs); tests reuse its build, headers and server."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    return importlib.import_module("buildsite")


@lru_cache(maxsize=None)
def load_build_module() -> ModuleType:
    """The repository's build.py (its command line, e.g. parser()) imported as module `reranker_build`."""
    load_buildsite()  # build.py imports it
    spec = importlib.util.spec_from_file_location("reranker_build", ROOT / "build.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["reranker_build"] = module
    spec.loader.exec_module(module)
    return module
