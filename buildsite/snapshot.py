"""Python's start-up snapshot: a gzip-compressed memory snapshot of a booted Pyodide, made with Node and cached.

The page restores it instead of booting Python (app/pyodide-boot.js, docs/ARCHITECTURE.md "Python's start"). It is
made by make_snapshot.mjs from the same pyodide package, once per Pyodide version and recipe (cached in .cache/),
gzip-compressed (31 MB of memory, 6 MB on the wire).
"""

from __future__ import annotations

import gzip
import hashlib
import os
import shutil
import subprocess
from pathlib import Path

from .core import BuildError, Log, sri_hash

PYTHON_SNAPSHOT = "py/pyodide-snapshot.bin.gz"
# Standard-library modules the page and PyScript import that a bare boot has not imported yet.
SNAPSHOT_PRELOAD = ("csv", "html", "unicodedata", "email", "importlib.metadata")
# The page's own package is imported into the snapshot too (what `import reranker` loads), with Documents mode's
# modules, which the glue imports on first use: compiled in the snapshot, a first dropped file costs no ~0.5 s import
# on the main thread. Its sources are part of the snapshot's cache key, so an edited py/ file makes a new snapshot.
SNAPSHOT_PACKAGE = "reranker"
SNAPSHOT_MODULES = ("collection", "collection_search", "collection_export", "retrieval")
SNAPSHOT_SCRIPT = Path(__file__).with_name("make_snapshot.mjs")


def snapshot_runtime_entry(snapshot: Path) -> dict[str, object]:
    """RUNTIME.pythonSnapshot: URL (relative to app/), SRI hash of the gzip file, size of the memory it holds."""
    with snapshot.open("rb") as file:
        file.seek(-4, os.SEEK_END)
        memory_bytes = int.from_bytes(file.read(4), "little")  # gzip's trailer: uncompressed size (mod 2**32)
    return {"url": f"../{PYTHON_SNAPSHOT}", "integrity": sri_hash(snapshot), "bytes": memory_bytes}


def snapshot_recipe(root: Path, version: str) -> str:
    """What the snapshot is made of, hashed: Pyodide's version, the preloads, the script and the package's sources."""
    script = SNAPSHOT_SCRIPT.read_text(encoding="utf-8")
    digest = hashlib.sha256(f"{version}\n{SNAPSHOT_PRELOAD}\n{SNAPSHOT_MODULES}\n{script}".encode())
    for source in sorted((root / "py" / SNAPSHOT_PACKAGE).glob("*.py")):
        digest.update(f"\n{source.name}\n".encode() + source.read_bytes())
    return digest.hexdigest()[:16]


def make_raw_snapshot(node: str, root: Path, raw: Path) -> None:
    """Run make_snapshot.mjs with Node: the uncompressed memory snapshot goes to `raw`."""
    module = (root / "node_modules" / "pyodide" / "pyodide.mjs").as_uri()
    proc = subprocess.run([node, str(SNAPSHOT_SCRIPT), module, str(raw), ", ".join(SNAPSHOT_PRELOAD),
                           str(root / "py" / SNAPSHOT_PACKAGE), SNAPSHOT_PACKAGE,
                           ", ".join(f"{SNAPSHOT_PACKAGE}.{name}" for name in SNAPSHOT_MODULES)],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if proc.returncode != 0 or not raw.is_file():
        lines = [ln.strip() for ln in proc.stdout.splitlines() if ln.strip()]
        reason = next((ln for ln in lines if "Error" in ln), lines[-1] if lines else "no output")
        raise BuildError(f"making Python's start-up snapshot failed: {reason}")


def python_snapshot(root: Path, version: str, log: Log = print) -> Path:
    """The gzip-compressed Pyodide memory snapshot for `version`, made with Node on first use and cached."""
    recipe = snapshot_recipe(root, version)
    target = root / ".cache" / "python-snapshot" / f"pyodide-{version}-{recipe}.bin.gz"
    if target.is_file():
        return target
    node = shutil.which("node")
    if node is None:
        raise BuildError("node not found: install Node.js 20+ (it makes Python's start-up snapshot), then rerun")
    log(f"making Python's start-up snapshot (Pyodide {version}, Node)")
    target.parent.mkdir(parents=True, exist_ok=True)
    raw = target.with_name(target.name + ".raw")
    make_raw_snapshot(node, root, raw)
    data = raw.read_bytes()
    raw.unlink()
    tmp = target.with_name(target.name + ".tmp")
    tmp.write_bytes(gzip.compress(data, compresslevel=6, mtime=0))
    os.replace(tmp, target)
    for stale in target.parent.glob("pyodide-*.bin.gz"):  # each py/ edit makes a new one: keep only the newest
        if stale != target:
            stale.unlink()
    return target
