"""Documents mode's stored passage vectors in real Chromium with the demo collection: a progress bar while the
bi-encoder embeds, each passage embedded once (a second query, a reload and loading the demo again embed
nothing), Cancel and Esc keep what was embedded and the next run embeds only the rest, and vector stage 1 equals
the old per-query (query, passage) cosine path."""

from __future__ import annotations

import json
from typing import Any

from harness import save_screenshot, wait_for_phase
from harness.page import wait_for_done
from harness.paths import ROOT
from test_documents import STAGE1_RECORDER, doc_rows, load_demo, open_documents

# Counts what the page asks of the bi-encoder worker: `embed` requests (and how many texts each asked for), vectors
# the worker sent back, queries. A cancel reaches the worker during a batch, so at most one batch more is sent back.
BIENCODER_SPY = """
(() => {
  const bi = window.__bi = {embedPosts: 0, requested: [], embedded: 0, queries: 0};
  const W = window.Worker;
  window.Worker = class extends W {
    constructor(...args) {
      super(...args);
      this.__isBi = /biencoder-worker/.test(String(args[0]));
      this.addEventListener("message", (ev) => {
        const m = ev.data || {};
        if (this.__isBi && m.type === "vectors") bi.embedded += m.keys.length;
      });
    }
    postMessage(msg, ...rest) {
      if (this.__isBi && msg && msg.type === "embed") { bi.embedPosts += 1; bi.requested.push(msg.texts.length); }
      if (this.__isBi && msg && msg.type === "embed-query") bi.queries += 1;
      return super.postMessage(msg, ...rest);
    }
  };
})();
"""
MAX_BATCH = 4  # app/worker-encode.js: passages per micro-batch
BI_ENTRY = next(e for e in json.loads((ROOT / "static" / "models.json").read_text(encoding="utf-8"))
                if e.get("kind") == "bi-encoder")
# The path vector stage 1 took before vectors were stored: (query, passage) pairs scored by the bi-encoder worker
# (the comparison column's protocol), one cosine per passage. Runs in a second worker of its own.
PAIRWISE_JS = """async ([entry, query]) => {
  const S = await import(new URL('./app/scorer.js', location.href).href);
  const bi = new S.Scorer({workerUrl: new URL('./app/biencoder-worker.js', location.href)});
  await bi.load(entry);
  const n = Number(document.querySelector('#funnel [data-stat="passages"]').dataset.value);
  const texts = JSON.parse(window.rerankerGlue.docs_texts(JSON.stringify(0), JSON.stringify(n)));
  const sims = new Array(n).fill(null);
  await bi.score(texts.map((text, i) => ({key: String(i), query, text})), {onResult: (r) => { sims[Number(r.key)] = r.logit; }});
  bi.terminate();
  return sims;
}"""
QUERY = "How do I remove an old kernel package?"


def vectors_state(page: Any) -> dict[str, Any]:
    """#vectors-progress: its state, numbers and sentence, and the bar."""
    return page.evaluate("""() => { const b = document.getElementById('vectors-progress');
      const bar = document.getElementById('vectors-bar');
      return {state: b.dataset.state, total: Number(b.dataset.total), ready: Number(b.dataset.ready),
              stored: Number(b.dataset.stored), embedded: Number(b.dataset.embedded), hidden: b.hidden,
              text: document.getElementById('vectors-text').textContent, value: bar.value, max: bar.max,
              cancelVisible: !document.getElementById('vectors-cancel').hidden}; }""")


def wait_vectors(page: Any, state: str) -> dict[str, Any]:
    page.wait_for_function("s => document.getElementById('vectors-progress').dataset.state === s", arg=state)
    return vectors_state(page)


def wait_ready_at_least(page: Any, n: int) -> None:
    page.wait_for_function("n => Number(document.getElementById('vectors-progress').dataset.ready || 0) >= n", arg=n)


def spy(page: Any) -> dict[str, int]:
    return page.evaluate("() => ({...window.__bi})")


def open_vectors(page: Any, base_url: str) -> None:
    """Documents mode with the worker spy and the vector retriever chosen before the demo loads."""
    page.add_init_script(BIENCODER_SPY)
    open_documents(page, base_url)
    page.select_option("#retriever", "vectors")


def run_query(page: Any, query: str = QUERY) -> dict[str, Any]:
    """Rerank `query`; the rerank:stage1 detail."""
    page.fill("#query", query)
    page.evaluate("() => { window.__stage1 = []; window.__phases = []; }")
    page.click("#rerank")
    # the page may still say "done" from the last query until this run's stage 1 (vectors first) has returned
    page.wait_for_function("() => window.__phases.includes('scoring') || window.__phases.includes('error')")
    wait_for_done(page)
    [stage1] = page.evaluate("() => window.__stage1")
    return stage1


def test_vectors_are_embedded_once_and_kept_across_queries_and_reloads(page: Any, base_url: str) -> None:
    """The bar shows progress and completes; queries and a reload with the demo loaded again embed nothing more;
    stage 1 equals the per-query pairwise cosines; "Clear stored data" lists and clears the vectors."""
    open_vectors(page, base_url)
    load_demo(page)
    total = int(page.get_attribute('#funnel [data-stat="passages"]', "data-value") or 0)
    assert total > 300
    during = wait_vectors(page, "embedding")
    assert not during["hidden"] and during["cancelVisible"] and during["total"] == total
    assert page.get_attribute("#vectors-bar", "aria-describedby") == "vectors-text"
    assert page.locator('label[for="vectors-bar"]').inner_text() == "Passage vectors"
    wait_ready_at_least(page, 8)
    mid = vectors_state(page)
    assert "passages/s" in mid["text"] and "left" in mid["text"], mid
    save_screenshot(page, "documents-vectors-progress")
    done = wait_vectors(page, "done")
    assert done["ready"] == done["embedded"] == total and done["value"] == done["max"] == total
    assert f"0 of {total} from storage, {total} embedded now" in done["text"], done
    assert not done["cancelVisible"]
    assert spy(page)["embedded"] == total and spy(page)["requested"] == [total]

    page.fill("#candidates", "50")
    stage1 = run_query(page)
    assert stage1["retriever"] == "vectors" and len(stage1["order"]) == 50
    assert spy(page)["embedded"] == total and spy(page)["embedPosts"] == 1, "the first query embedded passages again"
    # The same stage 1 as the old path: the query's cosine with every passage from (query, passage) pairs.
    rows = {r["index"]: r for r in doc_rows(page)}
    pairwise = page.evaluate(PAIRWISE_JS, [BI_ENTRY, QUERY])
    expected = sorted(range(total), key=lambda i: (-pairwise[i], i))[:50]
    assert all(abs(rows[i]["stage1Score"] - pairwise[i]) <= 1e-5 for i in stage1["order"])
    for got, want in zip(stage1["order"], expected):
        assert got == want or abs(pairwise[got] - pairwise[want]) <= 1e-5, (got, want)

    run_query(page, "Where are the configuration files of a package kept?")
    assert spy(page)["embedded"] == total and spy(page)["embedPosts"] == 1, "the second query embedded passages"
    assert spy(page)["queries"] == 2

    page.reload()
    wait_for_phase(page, "ready")
    page.select_option("#retriever", "vectors")
    load_demo(page)
    stored = wait_vectors(page, "done")
    assert f"{total} of {total} from storage" in stored["text"] and stored["embedded"] == 0, stored
    run_query(page)
    assert spy(page)["embedded"] == 0 and spy(page)["requested"] == [], "a reload embedded passages again"

    page.click("#clear-data")
    page.wait_for_function("() => !document.getElementById('clear-confirm').hidden")
    assert "reranker-vectors" in page.inner_text("#clear-question")
    page.click("#clear-yes")
    page.wait_for_function("() => /^Removed /.test(document.querySelector('#clear-status').textContent)")
    assert "The next vector search embeds the passages again." in page.inner_text("#clear-status")


def test_cancel_and_esc_keep_the_vectors_and_the_next_run_embeds_the_rest(page: Any, base_url: str) -> None:
    """Cancel (button) mid-way, then a query resumes from what was kept; Esc stops that; the next query embeds
    exactly the remainder, and no passage is embedded twice."""
    open_vectors(page, base_url)
    load_demo(page)
    wait_vectors(page, "embedding")
    wait_ready_at_least(page, 12)
    page.click("#vectors-cancel")
    first = wait_vectors(page, "cancelled")
    assert 12 <= first["ready"] < first["total"] and not first["cancelVisible"]
    assert "Embedding stopped" in first["text"] and f"other {first['total'] - first['ready']}" in first["text"]
    page.wait_for_function("() => document.getElementById('status').textContent.includes('Embedding stopped')")
    assert spy(page)["requested"] == [first["total"]]
    assert first["ready"] <= spy(page)["embedded"] <= first["ready"] + MAX_BATCH
    from test_a11y import axe_violations  # noqa: PLC0415 - the one axe runner
    assert axe_violations(page) == []

    # A query waits for the vectors with the bar visible; it resumes from the kept ones; Esc stops it.
    page.fill("#query", QUERY)
    page.click("#rerank")
    resumed = wait_vectors(page, "embedding")
    assert resumed["stored"] == first["ready"], resumed
    assert spy(page)["requested"] == [first["total"], first["total"] - first["ready"]], "not only the rest"
    wait_ready_at_least(page, first["ready"] + 8)
    page.keyboard.press("Escape")
    second = wait_vectors(page, "cancelled")
    assert first["ready"] + 8 <= second["ready"] < second["total"]
    page.wait_for_function("() => document.getElementById('progress-note').textContent.startsWith('Stopped')")
    assert page.evaluate("() => document.documentElement.dataset.phase") in ("ready", "done")

    page.evaluate("() => { window.__stage1 = []; }")
    page.click("#rerank")
    wait_for_done(page)
    done = vectors_state(page)
    rest = done["total"] - second["ready"]
    assert done["state"] == "done" and done["stored"] == second["ready"] and done["embedded"] == rest
    assert f"{second['ready']} of {done['total']} from storage, {rest} embedded now" in done["text"], done
    assert spy(page)["requested"][2:] == [rest], "the last run did not embed exactly the rest"
    [stage1] = page.evaluate("() => window.__stage1")
    assert stage1["retriever"] == "vectors"
