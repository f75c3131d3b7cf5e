"""Documents-mode benchmark in CPython: read, split + index and query 2,000 documents / ~10,000 passages.

Usage:  python bench/bench_documents.py [--documents 2000] [--repeats 5]
The collection is the demo collection (static/collections/debian-faq) replicated: each synthetic Markdown
document takes four of the demo's passages under headings, plus a line naming the copy, so no two are equal.
Prints one table (figure, measured, reference, ratio, target) and the memory tracemalloc saw. Targets are the
issue's Pyodide budgets divided by ~6 (CPython here is 3-6x faster than Pyodide); nothing is asserted.
Absolute times depend on the machine's load (printed); ratios against the reference less so.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "py"))

from reranker.bm25 import bm25_scores  # noqa: E402
from reranker.collection import Collection  # noqa: E402
from reranker.documents import DocumentReader  # noqa: E402
from reranker.retrieval import funnel, rrf  # noqa: E402
from reranker.tokenize import tokenize  # noqa: E402

DEMO = ROOT / "static" / "collections"
TARGET_BUILD_S = 0.5     # split + index 2,000 documents (Pyodide: 3 s)
TARGET_QUERY_MS = 10.0   # one stage-1 BM25 query (Pyodide: 100 ms)
TARGET_SLICE_MS = 30.0   # longest work() slice asked for 30 ms (Pyodide: no task over 100 ms); one document more


def demo_entry() -> dict:
    """The demo collection's index entry."""
    return json.loads((DEMO / "index.json").read_text(encoding="utf-8"))[0]


def demo_collection() -> Collection:
    """The demo collection, indexed."""
    entry = demo_entry()
    collection = Collection()
    collection.add_files([(n, (DEMO / entry["folder"] / n).read_bytes()) for n in entry["files"]])
    collection.build()
    return collection


def synthetic_files(n_documents: int, passages: list[str]) -> list[tuple[str, bytes]]:
    """`n_documents` Markdown files of four demo passages each under `##` headings."""
    files = []
    for i in range(n_documents):
        parts = [f"# Copy {i} of the demo collection"]
        for j in range(4):
            text = passages[(i * 4 + j * 7) % len(passages)]
            parts.append(f"## Section {j} of copy {i}\n\n{text}")
        files.append((f"doc-{i:05d}.md", "\n\n".join(parts).encode("utf-8")))
    return files


def timed(fn, repeats: int) -> tuple[float, object]:
    """Median seconds of `repeats` calls of fn() and its last result."""
    times, result = [], None
    for _ in range(repeats):
        started = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def fresh(files: list[tuple[str, bytes]]) -> Collection:
    """A collection with the files read (not yet split)."""
    collection = Collection()
    collection.add_files(files)
    return collection


def run(n_documents: int, repeats: int) -> list[tuple[str, str, str, str, str]]:
    """Every figure as (figure, measured, reference, ratio, target) strings."""
    demo = demo_collection()
    files = synthetic_files(n_documents, [c.text for c in demo.chunks])
    rows = []
    read_s, _ = timed(lambda: DocumentReader().read_files(files), repeats)
    rows.append((f"read {n_documents:,} files", f"{read_s * 1000:.0f} ms", "", "", ""))
    build_s, collection = _build_time(files, repeats)
    n = len(collection.chunks)
    rows.append((f"split + index -> {n:,} passages", f"{build_s * 1000:.0f} ms", "", "",
                 f"<= {TARGET_BUILD_S * 1000:.0f} ms"))
    split_s = _split_only(files, repeats)
    rows.append(("  of which splitting", f"{split_s * 1000:.0f} ms", "", f"{split_s / build_s:.2f} of build", ""))
    texts = [c.text for c in collection.chunks]
    tokenize_s, _ = timed(lambda: [tokenize(t) for t in texts], 1)
    rows.append(("  reference: tokenize() every passage", f"{tokenize_s * 1000:.0f} ms", "", f"build = "
                 f"{build_s / tokenize_s:.1f}x", ""))
    slices = _slices(files)
    rows.append(("longest work(max_ms=30) slice", f"{max(slices):.1f} ms", f"{len(slices)} slices", "",
                 f"<= {TARGET_SLICE_MS:.0f} ms + 1 document"))
    queries = [q["query"] for q in demo_entry()["queries"]]
    query_s = _per_query(lambda q: collection.stage1(q, "bm25", k=50), queries, repeats)
    scan_s = _per_query(lambda q: bm25_scores(q, texts), queries[:2], 1)
    rows.append(("stage-1 BM25 query (K=50), median", f"{query_s * 1000:.2f} ms",
                 f"scan: {scan_s * 1000:.0f} ms", f"{scan_s / query_s:.0f}x faster", f"<= {TARGET_QUERY_MS:.0f} ms"))
    worst = max(_per_query(lambda q: collection.stage1(q, "bm25", k=200), [w], 3) for w in
                ("the debian package", "a the of to and in is"))
    rows.append(("stage-1 query of common words (K=200)", f"{worst * 1000:.2f} ms", "", "",
                 f"<= {TARGET_QUERY_MS:.0f} ms"))
    bm25 = [i for i, _ in collection.search(queries[0])]
    vectors = list(reversed(range(n)))
    fuse_s, _ = timed(lambda: rrf([bm25, vectors]), repeats)
    rows.append((f"RRF of {len(bm25):,} BM25 + {n:,} vector ids", f"{fuse_s * 1000:.1f} ms", "", "", ""))
    funnel_s, _ = timed(lambda: funnel(vectors, n, 50, 5, range(0, n, 97)), repeats)
    rows.append(("funnel over a full order", f"{funnel_s * 1000:.2f} ms", "", "", ""))
    rows.extend(_memory(files))
    return rows


def _build_time(files: list[tuple[str, bytes]], repeats: int) -> tuple[float, Collection]:
    """Median seconds of split + index (reading not counted) and the last collection built."""
    times, collection = [], None
    for _ in range(repeats):
        collection = fresh(files)
        started = time.perf_counter()
        collection.build()
        times.append(time.perf_counter() - started)
    return statistics.median(times), collection


def _split_only(files: list[tuple[str, bytes]], repeats: int) -> float:
    """Median seconds of splitting alone (same documents, no index)."""
    from reranker.chunking import split_document  # noqa: PLC0415

    documents = fresh(files).documents
    seconds, _ = timed(lambda: [split_document(d, 200, 0.15) for d in documents], repeats)
    return seconds


def _slices(files: list[tuple[str, bytes]]) -> list[float]:
    """Durations (ms) of work(max_ms=30) slices over the whole build."""
    collection = fresh(files)
    durations = []
    while not collection.ready:
        durations.append(collection.work(max_ms=30).ms)
    return durations


def _per_query(fn, queries: list[str], repeats: int) -> float:
    """Median seconds of fn(query) over queries x repeats."""
    times = []
    for _ in range(repeats):
        for query in queries:
            started = time.perf_counter()
            fn(query)
            times.append(time.perf_counter() - started)
    return statistics.median(times)


def _memory(files: list[tuple[str, bytes]]) -> list[tuple[str, str, str, str, str]]:
    """Peak memory while building and what the built collection keeps (tracemalloc)."""
    tracemalloc.start()
    collection = fresh(files)
    base = tracemalloc.get_traced_memory()[0]
    collection.build()
    current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    text_mb = sum(len(d.text) for d in collection.documents) / 1e6
    return [("memory kept by passages + index", f"{(current - base) / 1e6:.1f} MB",
             f"{text_mb:.1f} M chars of text", "", ""),
            ("memory peak while building", f"{(peak - base) / 1e6:.1f} MB", "", "", "")]


def main() -> None:
    """Parse arguments, run, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    started = time.perf_counter()
    rows = run(args.documents, args.repeats)
    header = ("figure", "measured", "reference", "ratio", "target (CPython)")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(5)]
    print(f"Python {sys.version.split()[0]} · load {' '.join(f'{x:.1f}' for x in os.getloadavg())} · "
          f"{time.perf_counter() - started:.0f} s")
    for row in [header, tuple("-" * w for w in widths), *rows]:
        print(" | ".join(cell.ljust(width) for cell, width in zip(row, widths)))


if __name__ == "__main__":
    main()
