"""Documents-mode vector indexing: the page's passages/s against native onnxruntime, same ONNX file, same ids.

Usage:  python bench/bench_vectors.py [--repeats 3] [--json FILE]
The page (self-contained build, headless Chromium, a fresh profile) loads the demo collection with the vector
retriever and embeds every passage in the bi-encoder worker; a spy times the worker's `embed` request to its last
`vectors` message. Native onnxruntime embeds the same passages (the demo collection split by reranker.collection,
HF tokenizers ids: tests/e2e/test_scoring_parity.py holds the worker's ids equal to them) from the same file of
the build's dist, with the worker's threads, both in the worker's batches (shortest of the first 8 alone, then
length buckets of 4 / 1024 tokens) and one passage per run. Then a reload: the demo again, vectors from IndexedDB.
Also checked: the page's stored vectors against the native ones (max |cosine - 1|). Nothing is asserted.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from common import ROOT, build_site, launch_options, load_average, serve, write_json

sys.path.insert(0, str(ROOT / "py"))
from bench_documents import demo_collection, print_table  # noqa: E402

MODEL = "all-minilm-l6-v2-int8"
MAX_LENGTH = 256
FIRST_CANDIDATES, MAX_BATCH, BATCH_TOKENS = 8, 4, 1024  # app/worker-encode.js defaults

SPY_JS = """
(() => {
  const S = window.__vec = {posted: null, last: null, embedded: 0, ready: null};
  const W = window.Worker;
  window.Worker = class extends W {
    constructor(...args) {
      super(...args);
      this.__bi = /biencoder-worker/.test(String(args[0]));
      this.addEventListener("message", (ev) => {
        const m = ev.data || {};
        if (!this.__bi) return;
        if (m.type === "vectors") { S.embedded += m.keys.length; S.last = performance.now(); }
        if (m.type === "ready") S.ready = {threads: m.threads, backend: m.backend, loadMs: m.loadMs};
      });
    }
    postMessage(msg, ...rest) {
      if (this.__bi && msg && msg.type === "embed") S.posted = performance.now();
      return super.postMessage(msg, ...rest);
    }
  };
})();
"""
STORED_JS = """async () => {
  const db = await new Promise((resolve, reject) => { const r = indexedDB.open('reranker-vectors');
    r.onsuccess = () => resolve(r.result); r.onerror = () => reject(r.error); });
  const store = db.transaction('vectors').objectStore('vectors');
  const req = (r) => new Promise((resolve) => { r.onsuccess = () => resolve(r.result); });
  const [keys, values] = await Promise.all([req(store.getAllKeys()), req(store.getAll())]);
  db.close();
  return keys.map((k, i) => [k.split(' ').pop(), Array.from(values[i])]);
}"""


def page_run(browser: Any, url: str) -> dict[str, Any]:
    """A fresh profile: embed the demo collection, then reload and load it again (vectors from storage)."""
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(900_000)
    page.add_init_script(SPY_JS)
    out: dict[str, Any] = {}
    for visit in ("first", "reload"):
        if visit == "first":
            page.goto(url + "?mode=documents")
        else:
            page.reload()
        page.wait_for_function("() => document.documentElement.dataset.phase === 'ready'")
        page.select_option("#retriever", "vectors")
        t0 = page.evaluate("() => performance.now()")
        page.click("#documents-demo")
        page.wait_for_function("() => document.getElementById('vectors-progress').dataset.state === 'done'")
        box = page.evaluate("() => ({...document.getElementById('vectors-progress').dataset, "
                            "text: document.getElementById('vectors-text').textContent, now: performance.now()})")
        spy = page.evaluate("() => ({...window.__vec})")
        out[visit] = {"box": box, "spy": spy, "sinceClickMs": box["now"] - t0}
        if visit == "first":
            out["stored"] = page.evaluate(STORED_JS)
    context.close()
    return out


def worker_batches(lengths: list[int]) -> list[list[int]]:
    """The worker's batches over items 0..n-1 (app/worker-encode.js: splitFirstBatch, lengthBuckets)."""
    head = list(range(min(len(lengths), FIRST_CANDIDATES)))
    first = sorted(head, key=lambda i: lengths[i])[:1]
    rest = sorted((i for i in range(len(lengths)) if i not in first), key=lambda i: lengths[i])
    batches, batch = [first] if first else [], []
    for i in rest:
        if batch and (len(batch) >= MAX_BATCH or (len(batch) + 1) * lengths[i] > BATCH_TOKENS):
            batches.append(batch)
            batch = []
        batch.append(i)
    return batches + ([batch] if batch else [])


def native(texts: list[str], threads: int, repeats: int) -> dict[str, Any]:
    """Native onnxruntime on dist's ONNX file: seconds per pass (worker batches, one by one) and the vectors."""
    import numpy as np
    import onnxruntime as ort
    from tokenizers import Tokenizer

    folder = ROOT / "bench" / "out" / "page-dist" / "models" / MODEL
    tok = Tokenizer.from_file(str(folder / "tokenizer.json"))
    tok.no_padding()
    tok.enable_truncation(max_length=MAX_LENGTH)
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    session = ort.InferenceSession(str(folder / "onnx" / "model_quantized.onnx"), opts,
                                   providers=["CPUExecutionProvider"])
    encs = [tok.encode(t) for t in texts]
    vectors: dict[int, Any] = {}

    def run(batch: list[int]) -> None:
        width = max(len(encs[i].ids) for i in batch)
        ids = np.zeros((len(batch), width), dtype=np.int64)
        mask = np.zeros_like(ids)
        for row, i in enumerate(batch):
            ids[row, :len(encs[i].ids)] = encs[i].ids
            mask[row, :len(encs[i].ids)] = 1
        out = session.run(None, {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)})[0]
        pooled = (out * mask[..., None]).sum(axis=1) / mask.sum(axis=1, keepdims=True)
        for row, i in enumerate(batch):
            vectors[i] = pooled[row] / np.linalg.norm(pooled[row])

    batches = worker_batches([len(e.ids) for e in encs])
    timings: dict[str, list[float]] = {"batched": [], "single": []}
    for _ in range(repeats):
        for name, plan in (("batched", batches), ("single", [[i] for i in range(len(texts))])):
            started = time.perf_counter()
            for batch in plan:
                run(batch)
            timings[name].append(time.perf_counter() - started)
    return {"seconds": {k: statistics.median(v) for k, v in timings.items()}, "vectors": vectors,
            "tokens": sum(len(e.ids) for e in encs)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="native passes (median)")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    dist = build_site()
    server, url, _ = serve(dist)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(**launch_options())
            page = page_run(browser, url)
            browser.close()
    finally:
        server.shutdown()
    collection = demo_collection()
    texts = [c.text for c in collection.chunks]
    threads = int((page["first"]["spy"]["ready"] or {}).get("threads") or 1)
    ref = native(texts, threads, args.repeats)
    report(page, ref, texts, threads, collection)
    write_json(args.json, {"page": {k: v for k, v in page.items() if k != "stored"}, "native": ref["seconds"],
                           "threads": threads, "load": load_average()})
    return 0


def report(page: dict[str, Any], ref: dict[str, Any], texts: list[str], threads: int, collection: Any) -> None:
    """The ratio table."""
    import numpy as np

    first, again = page["first"], page["reload"]
    n = int(first["box"]["embedded"])
    page_s = (first["spy"]["last"] - first["spy"]["posted"]) / 1000
    page_rate = n / page_s
    rows = []
    for name, label in (("batched", "native, the worker's batches"), ("single", "native, one passage per run")):
        rate = len(texts) / ref["seconds"][name]
        rows.append((f"embed {len(texts)} passages: page vs {label}", f"{page_rate:.1f} passages/s",
                     f"{rate:.1f} passages/s", f"{rate / page_rate:.2f}x native", ""))
    rows.append(("  page: request to last vectors", f"{page_s:.1f} s", f"native batched {ref['seconds']['batched']:.1f} s",
                 "", ""))
    rows.append(("reload + demo again: embedded", f"{again['box']['embedded']} passages",
                 f"{again['box']['stored']} from storage", "", "0 embedded"))
    rows.append(("reload: demo click -> vectors done", f"{again['sinceClickMs']:.0f} ms",
                 f"first visit {first['sinceClickMs'] / 1000:.1f} s", f"{first['sinceClickMs'] / again['sinceClickMs']:.0f}x", ""))
    keys = {k: i for i, k in enumerate(collection.keys())}
    worst = max(abs(float(np.dot(np.asarray(v, dtype=np.float64), ref["vectors"][keys[k]])) - 1.0)
                for k, v in page["stored"] if k in keys)
    rows.append(("stored vectors vs native: max |cos - 1|", f"{worst:.2e}", f"{len(page['stored'])} stored", "", ""))
    print_table(f"Vector indexing, demo collection ({len(texts)} passages, {ref['tokens']:,} tokens) · {threads} "
                f"thread(s) both sides · load {load_average()}", rows)
    print(f"page, first visit: {first['box']['text']}")
    print(f"page, after the reload: {again['box']['text']}")


if __name__ == "__main__":
    sys.exit(main())
