"""Documents-mode benchmark in CPython: read, split + index and query 2,000 documents / ~10,000 passages.

Usage:  python bench/bench_documents.py [--documents 2000] [--repeats 5] [--pyodide]
The collection is the demo collection (static/collections/debian-faq) replicated: each synthetic Markdown
document takes four of the demo's passages under headings, plus a line naming the copy, so no two are equal.
Prints one table (figure, measured, reference, ratio, target) and the memory tracemalloc saw. Targets are the
issue's Pyodide budgets under Pyodide and tighter ones under CPython; nothing is asserted.
Times are the best of --repeats runs (queries: the median over the demo queries), the least disturbed by other
load on a shared machine; absolute times still depend on the load (printed), ratios against a reference less so.
--pyodide also runs the same figures in the pinned Pyodide (node_modules/pyodide, under Node: the same wasm
the page runs, without the browser) and checks that the demo collection's results are identical there.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import subprocess
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
PYODIDE = sys.platform == "emscripten"
# The budgets are for Pyodide; the CPython ones are what leaves room for Pyodide being 3-10x slower.
TARGET_BUILD_S = 3.0 if PYODIDE else 0.5        # split + index 2,000 documents / ~10,000 passages
TARGET_QUERY_MS = 100.0 if PYODIDE else 10.0    # one stage-1 BM25 query
TARGET_SLICE_MS = 100.0 if PYODIDE else 30.0    # longest work(max_ms=30) slice: no long task on the main thread


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
    """Best seconds of `repeats` calls of fn() (the least disturbed by other load) and its last result."""
    times, result = [], None
    for _ in range(repeats):
        started = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - started)
    return min(times), result


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
    tokenize_s, _ = timed(lambda: [tokenize(t) for t in texts], repeats)
    rows.append(("  reference: tokenize() every passage", f"{tokenize_s * 1000:.0f} ms", "", f"build = "
                 f"{build_s / tokenize_s:.1f}x", ""))
    slices = _slices(files)
    rows.append(("longest work(max_ms=30) slice", f"{max(slices):.1f} ms", f"{len(slices)} slices", "",
                 f"<= {TARGET_SLICE_MS:.0f} ms"))
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
    """Best seconds of split + index (reading not counted) and the last collection built."""
    times, collection = [], None
    for _ in range(repeats):
        collection = fresh(files)
        started = time.perf_counter()
        collection.build()
        times.append(time.perf_counter() - started)
    return min(times), collection


def _split_only(files: list[tuple[str, bytes]], repeats: int) -> float:
    """Best seconds of splitting alone (same documents, no index)."""
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


def demo_digest() -> str:
    """A hash of the demo collection's stage-1 results and funnels for every labelled query (parity check)."""
    collection, results = demo_collection(), []
    for labelled in demo_entry()["queries"]:
        relevant = collection.resolve(labelled["relevant"])
        stage1 = collection.stage1(labelled["query"], "bm25", k=50)
        results.append([relevant, stage1.order, [round(x, 9) for x in stage1.scores],
                        funnel(stage1.order, len(collection.chunks), 50, 5, relevant).to_dict()])
    return hashlib.sha256(json.dumps(results).encode()).hexdigest()


# The start of a Node script (ES module, `node --input-type=module -e`): boots the pinned Pyodide from node_modules
# and defines copy(from, to), a folder into Pyodide's file system; ARGS names process.argv after the repo root.
NODE_PYODIDE_PRELUDE = r"""
import fs from "node:fs";
import path from "node:path";
const [root, ARGS] = process.argv.slice(1);
const {loadPyodide} = await import(path.join(root, "node_modules/pyodide/pyodide.mjs"));
const py = await loadPyodide({indexURL: path.join(root, "node_modules/pyodide/")});
function copy(from, to) {
  py.FS.mkdirTree(to);
  for (const name of fs.readdirSync(from)) {
    const source = path.join(from, name);
    if (fs.statSync(source).isDirectory()) copy(source, to + "/" + name);
    else if (!name.endsWith(".pyc")) py.FS.writeFile(to + "/" + name, fs.readFileSync(source));
  }
}
"""


def node_pyodide_script(args: str, body: str) -> str:
    """NODE_PYODIDE_PRELUDE with its argument names, then `body`."""
    return NODE_PYODIDE_PRELUDE.replace("ARGS", args) + body


PYODIDE_JS = node_pyodide_script("documents, repeats", r"""
copy(path.join(root, "py/reranker"), "/bench/py/reranker");
copy(path.join(root, "static/collections"), "/bench/static/collections");
py.FS.mkdirTree("/bench/bench");
py.FS.writeFile("/bench/bench/bench_documents.py", fs.readFileSync(path.join(root, "bench/bench_documents.py")));
py.runPython("import sys; sys.path.insert(0, '/bench/bench')");
console.log(py.runPython(`import json, sys, bench_documents as b
json.dumps({"python": sys.version.split()[0], "digest": b.demo_digest(), "rows": b.run(${documents}, ${repeats})})`));
""")


def run_pyodide(n_documents: int, repeats: int) -> dict:
    """The same figures under the pinned Pyodide in Node: {python, digest, rows}."""
    done = subprocess.run(["node", "--input-type=module", "-e", PYODIDE_JS, str(ROOT), str(n_documents),
                           str(repeats)], capture_output=True, text=True, check=True, timeout=1800)
    return json.loads(done.stdout.strip().splitlines()[-1])


def print_table(title: str, rows: list) -> None:
    """One aligned table under a title line."""
    header = ("figure", "measured", "reference", "ratio", "target")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(5)]
    print(title)
    for row in [header, tuple("-" * w for w in widths), *rows]:
        print(" | ".join(cell.ljust(width) for cell, width in zip(row, widths)))


def main() -> None:
    """Parse arguments, run, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--pyodide", action="store_true", help="also run in the pinned Pyodide under Node")
    args = parser.parse_args()
    started = time.perf_counter()
    rows = run(args.documents, args.repeats)
    print_table(f"CPython {sys.version.split()[0]} · load {' '.join(f'{x:.1f}' for x in os.getloadavg())} · "
                f"{time.perf_counter() - started:.0f} s", rows)
    if args.pyodide:
        started = time.perf_counter()
        result = run_pyodide(args.documents, args.repeats)
        same = "identical" if result["digest"] == demo_digest() else "DIFFERENT"
        print()
        print_table(f"Pyodide {result['python']} under Node · load {' '.join(f'{x:.1f}' for x in os.getloadavg())}"
                    f" · {time.perf_counter() - started:.0f} s · demo results {same} to CPython", result["rows"])


if __name__ == "__main__":
    main()
