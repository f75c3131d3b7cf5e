"""Documents mode, this tree's py/reranker against a git revision's, in the pinned Pyodide under Node: CPU time.

Usage:  python3 bench/bench_documents_ab.py [--against REV] [--documents 2000] [--rounds 5]
Both packages run in ONE Pyodide, interleaved round by round, on bench_documents.py's synthetic collection;
each figure is the least CPU time (process.cpuUsage, user + system) over the rounds. CPU time, unlike wall time,
barely moves when other processes share the cores, so small differences show on a loaded machine; still read
differences under ~5 % as noise. Figures: reading the files, splitting, indexing the passages, split + index
(Collection.build), a typical stage-1 query (the demo's labelled queries, K = 50) and the common-words query
(K = 200). The results are also checked to be identical (chunks, stage-1 order and scores).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tarfile
import tempfile
from io import BytesIO
from pathlib import Path

from bench_documents import node_pyodide_script

ROOT = Path(__file__).resolve().parents[1]

NODE_JS = node_pyodide_script("old, documents, rounds", r"""
copy(path.join(root, "py/reranker"), "/new/py/reranker");
copy(path.join(old, "py/reranker"), "/old/py/reranker");
copy(path.join(root, "static/collections"), "/new/static/collections");
py.FS.mkdirTree("/new/bench");
py.FS.writeFile("/new/bench/bench_documents.py", fs.readFileSync(path.join(root, "bench/bench_documents.py")));
py.FS.writeFile("/new/bench/ab.py", fs.readFileSync(path.join(root, "bench/bench_documents_ab.py")));
py.runPython("import sys; sys.path.insert(0, '/new/bench')");
console.log(py.runPython(`import ab; ab.measure(${documents}, ${rounds})`));
""")


def cpu_ms() -> float:
    """CPU time of the Node process (ms): Pyodide runs on its main thread."""
    from js import process  # noqa: PLC0415 - only under Pyodide

    usage = process.cpuUsage()
    return (usage.user + usage.system) / 1000


def load(root: str) -> dict:
    """The reranker modules of the package under `root`/py, imported afresh."""
    import importlib  # noqa: PLC0415

    for name in [n for n in sys.modules if n == "reranker" or n.startswith("reranker.")]:
        del sys.modules[name]
    sys.path.insert(0, f"{root}/py")
    try:
        return {m: importlib.import_module(f"reranker.{m}") for m in ("bm25", "collection", "chunking", "documents")}
    finally:
        sys.path.pop(0)


def one_round(m: dict, files: list, queries: list[str], best: dict) -> tuple:
    """Every figure once for one package; keeps the least CPU time per figure in `best`; returns its results."""
    def timed(name: str, fn):  # noqa: ANN202
        started = cpu_ms()
        out = fn()
        best[name] = min(best.get(name, float("inf")), cpu_ms() - started)
        return out

    timed("read", lambda: m["documents"].DocumentReader().read_files(files))
    col = m["collection"].Collection()
    col.add_files(files)
    chunks = timed("split", lambda: [c for d in col.documents for c in m["chunking"].split_document(d, 200, 0.15)])
    timed("index", lambda: m["bm25"].BM25Index().add([c.text for c in chunks]))
    timed("split + index", col.build)
    typical = timed("query, typical (per query)", lambda: [col.stage1(q, "bm25", k=50) for q in queries])
    common = timed("query, common words", lambda: col.stage1("a the of to and in is", "bm25", k=200))
    return ([c.to_dict() for c in col.chunks], [(s.order, s.scores) for s in typical], common.order, common.scores)


def measure(documents: int, rounds: int) -> str:
    """Run under Pyodide: old and new interleaved; JSON {old, new, identical}."""
    import bench_documents as b  # noqa: PLC0415

    old, new = load("/old"), load("/new")
    files = b.synthetic_files(documents, [c.text for c in b.demo_collection().chunks])
    queries = [q["query"] for q in b.demo_entry()["queries"]]
    best: dict = {"old": {}, "new": {}}
    results = {}
    for _ in range(rounds):
        for name, modules in (("old", old), ("new", new)):
            results[name] = one_round(modules, files, queries, best[name])
    for side in best.values():
        side["query, typical (per query)"] /= len(queries)
    return json.dumps({**best, "identical": results["old"] == results["new"]})


def extract(rev: str, into: Path) -> Path:
    """py/reranker of git revision `rev` under `into`."""
    archive = subprocess.run(["git", "archive", rev, "py/reranker"], cwd=ROOT, capture_output=True, check=True).stdout
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    return into


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--against", default="HEAD", help="git revision to compare with (default HEAD)")
    parser.add_argument("--documents", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-ab-") as tmp:
        old = extract(args.against, Path(tmp))
        done = subprocess.run(["node", "--input-type=module", "-e", NODE_JS, str(ROOT), str(old), str(args.documents),
                               str(args.rounds)], capture_output=True, text=True, check=True, timeout=3600)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    print(f"Pyodide under Node, CPU ms, least of {args.rounds} rounds · {args.against} vs this tree · results "
          f"{'identical' if result['identical'] else 'DIFFERENT'}")
    print(f"{'figure':28} | {args.against[:12]:>12} | {'this tree':>9} | ratio")
    for name, before in result["old"].items():
        after = result["new"][name]
        print(f"{name:28} | {before:12.1f} | {after:9.1f} | {after / before:.2f}")


if __name__ == "__main__":
    main()
