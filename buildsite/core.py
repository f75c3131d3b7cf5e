"""What every room of the build shares: the repository root, the one error type, the log callback, SRI hashes."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path
from typing import Callable

# The default `root` of every function here. build.py passes its own directory instead (not resolved: a symlinked
# build.py in a scratch directory builds that directory).
ROOT = Path(__file__).absolute().parents[1]

Log = Callable[[str], None]


class BuildError(Exception):
    """A failure with a one-line message a person can act on."""


def last_line(output: str) -> str:
    """The last non-empty line of a tool's output (what an error message quotes)."""
    return next((ln.strip() for ln in reversed(output.splitlines()) if ln.strip()), "no output")


def sri_hash(path: Path) -> str:
    """Subresource Integrity value (sha384) of a file."""
    if not path.is_file():
        raise BuildError(f"missing file {path} - run `npm ci --ignore-scripts` (needed for its integrity hash)")
    return "sha384-" + base64.b64encode(hashlib.sha384(path.read_bytes()).digest()).decode("ascii")
