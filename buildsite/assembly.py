"""An output tree assembled in memory (copies and generated texts), then synced to disk touching only what changed."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from .core import BuildError

SKIP_NAMES = {"__pycache__", ".DS_Store", ".pytest_cache"}
TMP_SUFFIX = ".tmp-build"


def replace_file(dst: Path, write: Callable[[Path], object]) -> None:
    """Write dst through a temporary sibling and an atomic rename."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = dst.with_name(dst.name + TMP_SUFFIX)
    write(tmp)
    os.replace(tmp, dst)


@dataclass
class Assembly:
    """Collects the files of one dist/ tree, then syncs it to disk touching only what changed."""

    copies: dict[str, Path] = field(default_factory=dict)  # dist-relative path -> source file
    texts: dict[str, bytes] = field(default_factory=dict)  # dist-relative path -> generated content

    def copy(self, rel: str, source: Path) -> None:
        """Schedule a file copy."""
        if not source.is_file():
            raise BuildError(f"missing file {source} - run `npm ci --ignore-scripts` or check the checkout")
        self.copies[rel] = source

    def copy_tree(self, rel: str, source: Path) -> None:
        """Schedule a recursive copy of a source directory (skipping caches)."""
        for dirpath, dirnames, filenames in os.walk(source):
            dirnames[:] = sorted(d for d in dirnames if d not in SKIP_NAMES and not d.startswith("."))
            for name in filenames:
                if name in SKIP_NAMES or name.endswith(".pyc"):
                    continue
                src = Path(dirpath) / name
                self.copies[f"{rel}/{src.relative_to(source).as_posix()}"] = src

    def write(self, rel: str, content: str) -> None:
        """Schedule a generated text file."""
        self.texts[rel] = content.encode("utf-8")

    def sync(self, out: Path) -> dict[str, int]:
        """Make `out` contain exactly the scheduled files; return counts of copied/kept/removed files."""
        stats = {"copied": 0, "kept": 0, "removed": 0}
        out.mkdir(parents=True, exist_ok=True)
        for rel, src in self.copies.items():
            dst = out / rel
            st = src.stat()
            try:
                dt = dst.stat()
                if dt.st_size == st.st_size and dt.st_mtime_ns == st.st_mtime_ns and not dst.is_symlink():
                    stats["kept"] += 1
                    continue
            except FileNotFoundError:
                pass
            replace_file(dst, lambda tmp, src=src: shutil.copy2(src, tmp))
            stats["copied"] += 1
        for rel, data in self.texts.items():
            dst = out / rel
            if dst.is_file() and dst.read_bytes() == data:
                stats["kept"] += 1
                continue
            replace_file(dst, lambda tmp, data=data: tmp.write_bytes(data))
            stats["copied"] += 1
        stats["removed"] = self.prune(out)
        return stats

    def prune(self, out: Path) -> int:
        """Delete files under `out` that are not scheduled, and directories left empty; return how many files."""
        wanted = set(self.copies) | set(self.texts)
        removed = 0
        for dirpath, dirnames, filenames in os.walk(out, topdown=False):
            for name in filenames:
                path = Path(dirpath) / name
                if path.relative_to(out).as_posix() not in wanted:
                    path.unlink()
                    removed += 1
            if Path(dirpath) != out and not any(Path(dirpath).iterdir()):
                Path(dirpath).rmdir()
        return removed
