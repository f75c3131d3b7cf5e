"""The `reranker` package runs under the vendored Pyodide (Python 3.14, wasm) in the served page and gives
the same results as CPython: parse -> BM25 -> streamed session (shuffled arrivals) -> metrics -> export ->
share round trip. The package files are fetched from the server, exactly as the page would get them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

PYODIDE_TIMEOUT_MS = 180_000

# One realistic scenario, run verbatim by CPython here and by Pyodide in the page. Floats are rounded to
# 9 places: wasm and glibc libm may differ in the last bit of exp/log, which is not a behaviour.
SCENARIO = r'''
import json, random, sys
import reranker
from reranker import (RankingSession, ScoreCache, ShareState, calibration_for, decode_share, encode_share,
                      parse_passages, to_csv, to_json, to_markdown, view_json)

def _round(value):
    if isinstance(value, float):
        return round(value, 9)
    if isinstance(value, dict):
        return {k: _round(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_round(v) for v in value]
    return value

def run_scenario(foreign_share):
    pasted = "\n".join([
        "1. The Moon's gravity pulls the oceans into two bulges, which is what causes tides.",
        "2. Spring tides happen when the Sun and Moon line up; neap tides when they are at right angles.",
        "3. Tide tables for | Brest | are published yearly by the SHOM.",
        "4. Cats sleep up to sixteen hours a day.",
        "5. 潮汐は主に月の引力によって起こります。",
        "6. Stock prices fell sharply on Tuesday 🚀📉.",
        "7. Cats sleep up to sixteen hours a day.",
        "8. مد و جزر ناتج عن جاذبية القمر",
    ])
    parsed = parse_passages(pasted)
    model = {"id": "minilm-l6-debian-ce", "max_length": 64, "calibration": "sigmoid"}
    cache = ScoreCache()
    session = RankingSession("  What causes   the tides? ", parsed.passages, model["id"], model["max_length"],
                             calibration=calibration_for(model), cache=cache, threshold=0.5, top_k=3)
    for index, grade in enumerate([2, 1, 1, 0, 2, 0, 0, 2]):
        session.set_relevance(index, grade)
    logits = {0: 6.0, 1: 2.5, 2: 0.5, 3: -7.0, 4: 5.0, 5: -8.5, 7: 4.0}
    pairs = session.pending_pairs()
    random.Random(20261122).shuffle(pairs)
    trace = []
    for start in range(0, len(pairs), 2):
        batch = [{"key": p["key"], "logit": logits[int(p["key"].split("/")[1])], "tokens": 20}
                 for p in pairs[start:start + 2]]
        update = session.add_scores(batch)
        trace.append({"order": update.order, "changed": update.changed, "patch": view_json(update, full=False),
                      "scored": update.scored,
                      "moves": update.moves, "sunk": [r.index for r in update.rows if r.sunk]})
    after_threshold = view_json(session.set_view(0.9, 2), full=True)
    edited = list(parsed.texts)
    edited[2] = "Tide tables for Brest are published every year."
    rerun = session.rerun(passages=edited)
    state = ShareState(query=session.query, passages=parsed.texts, model=model["id"],
                       labels=session.relevance, threshold=0.5, top_k=3)
    long_state = ShareState(query="q", passages=[t * 4 for t in parsed.texts], model=model["id"])
    return _round({
        "python": list(sys.version_info[:2]),
        "parsed": parsed.to_dict(),
        "query": session.query,
        "bm25": session.orders()["bm25"],
        "bm25_scores": session.bm25_scores(),
        "pairs": len(pairs),
        "trace": trace,
        "final": view_json(session.view(), full=True),
        "metrics": session.metrics(k=3),
        "after_threshold": after_threshold,
        "rerun_pending": [p["text"] for p in rerun.pending_pairs()],
        "json": json.loads(to_json(session)),
        "markdown": to_markdown(session),
        "csv": to_csv(session),
        "share": encode_share(state),
        "share_round_trip": decode_share(encode_share(state)) == state,
        "long_share_round_trip": decode_share(encode_share(long_state)) == long_state,
        "long_share_compressed": encode_share(long_state).startswith("1z."),
        "foreign_share": decode_share(foreign_share).to_dict() if foreign_share else None,
        "bad_share": _error(lambda: decode_share("1z.AAAA")),
        "future_share": _error(lambda: decode_share("2z.AAAA")),
        "empty_query": _error(lambda: RankingSession(" ", ["a"], "m")),
    })

def _error(call):
    try:
        call()
    except reranker.RerankerError as error:
        return error.to_dict()
    return None
'''

LOAD_AND_RUN_JS = """
async ({base, files, scenario, foreignShare}) => {
  const {loadPyodide} = await import(base + "vendor/pyodide/pyodide.mjs");
  const pyodide = await loadPyodide({indexURL: base + "vendor/pyodide/"});
  pyodide.FS.mkdirTree("/home/pyodide/reranker");
  for (const name of files) {
    const response = await fetch(base + "py/reranker/" + name);
    if (!response.ok) throw new Error(`py/reranker/${name}: HTTP ${response.status}`);
    pyodide.FS.writeFile("/home/pyodide/reranker/" + name, await response.text());
  }
  pyodide.runPython("import sys; sys.path.insert(0, '/home/pyodide')");
  pyodide.runPython(scenario);
  pyodide.globals.set("foreign_share", foreignShare);
  return pyodide.runPython("import json; json.dumps(run_scenario(foreign_share))");
}
"""


def run_in_cpython(foreign_share: str | None) -> dict:
    """The scenario under this interpreter, importing the same source tree (py/ is on sys.path: tests/conftest.py)."""
    namespace: dict[str, Any] = {}
    exec(compile(SCENARIO, "scenario", "exec"), namespace)  # noqa: S102 - our own fixed source, run in both
    return json.loads(json.dumps(namespace["run_scenario"](foreign_share)))


def test_reranker_package_runs_in_pyodide_like_cpython(page: Any, base_url: str, dist_dir: Path) -> None:
    """Same inputs, same orders, deltas, metrics, exports and share decoding under Python 3.14/wasm."""
    files = sorted(path.name for path in (dist_dir / "py" / "reranker").glob("*.py"))
    assert "__init__.py" in files and "session.py" in files
    cpython = run_in_cpython(None)
    page.goto(base_url)
    raw = page.evaluate(LOAD_AND_RUN_JS, {"base": base_url, "files": files, "scenario": SCENARIO,
                                          "foreignShare": cpython["share"]})
    browser = json.loads(raw)

    assert browser["python"] == [3, 14]
    assert cpython["python"][0] == 3 and cpython["python"][1] >= 11
    # the run is realistic: markers stripped, duplicate flagged, shuffled streaming reached a full order
    assert cpython["parsed"]["passages"][0]["text"].startswith("The Moon's gravity")
    assert cpython["parsed"]["passages"][6]["duplicate_of"] == 3
    assert cpython["final"]["order"] == [0, 4, 7, 1, 2, 3, 6, 5]
    assert cpython["rerun_pending"] == ["Tide tables for Brest are published every year."]
    assert cpython["bad_share"]["code"] == "share_damaged"
    assert cpython["future_share"]["code"] == "share_future_version"
    assert cpython["empty_query"]["code"] == "query_empty"
    assert cpython["share_round_trip"] and cpython["long_share_round_trip"] and cpython["long_share_compressed"]
    # a link made by CPython opens in the page's Python
    assert browser["foreign_share"]["passages"] == [p["text"] for p in cpython["parsed"]["passages"]]
    assert browser["foreign_share"]["query"] == cpython["query"]
    assert browser["foreign_share"]["labels"] == [2, 1, 1, 0, 2, 0, 0, 2]
    for key in ("parsed", "query", "bm25", "bm25_scores", "pairs", "trace", "final", "metrics",
                "after_threshold", "rerun_pending", "json", "markdown", "csv", "share_round_trip",
                "long_share_round_trip", "long_share_compressed", "bad_share", "future_share", "empty_query"):
        assert browser[key] == cpython[key], f"Pyodide and CPython differ in {key!r}"
