"""Re-scoring only what changed, counted at the worker boundary (what is posted to and received from the
scoring worker), not by the page's own statistics.

test_page.py already covers "edit one passage -> 1 inference, identical re-run -> 0, threshold/top-k after a run
-> 0" through the page's counter; these tests cover the rest: reorder/remove/add, a long passage whose windows
change only at the end, a query change and return, settings changed while a run is in flight, and that the
page's "New inferences" statistic agrees with the worker's real traffic."""

from __future__ import annotations

import json
from typing import Any

from harness.page import open_page, rows, run, stat
from reranker.tokenize import estimate_tokens
from reranker.windows import passage_budget, split_windows

MAX_LENGTH = 256  # the bundled default model's window (static/models.json), which the page windows by

# Counts every pair posted to the scoring worker and every result it sends back, from the page's first byte.
WORKER_SPY = """
(() => {
  const spy = window.__spy = {posted: [], results: []};
  const W = window.Worker;
  window.Worker = class extends W {
    constructor(...args) {
      super(...args);
      this.scorer = /scorer-worker/.test(String(args[0]));  // the cross-encoder, not the bi-encoder column
      this.addEventListener("message", (ev) => {
        if (this.scorer && ev.data && ev.data.type === "result") spy.results.push(ev.data.key);
      });
    }
    postMessage(msg, ...rest) {
      if (this.scorer && msg && msg.type === "score") for (const p of msg.pairs || []) spy.posted.push(p.key);
      return super.postMessage(msg, ...rest);
    }
  };
})();
"""

SHORT = [
    "apt is the command-line package manager of Debian and Ubuntu.",
    "The weather in Lisbon is mild in winter and hot in summer.",
    "dpkg installs single .deb files; apt resolves their dependencies first.",
    "A tidy room makes it easier to find things.",
    "apt-get update downloads the package lists from the configured sources.",
]
LONG = " ".join(
    f"Sentence {i} explains how the package manager resolves dependencies, verifies signatures and unpacks archives."
    for i in range(40)
)


def open_spied(page: Any, base_url: str) -> None:
    page.add_init_script(WORKER_SPY)
    open_page(page, base_url)


def fill(page: Any, query: str, passages: list[str]) -> None:
    """Query and passages (JSON array mode) as a person would leave them in the form."""
    page.fill("#query", query)
    page.check('input[name="mode"][value="json"]')
    page.fill("#passages", json.dumps(passages, ensure_ascii=False))


def traffic(page: Any) -> tuple[list[str], list[str]]:
    """(keys posted to the worker, keys of results it returned) so far."""
    spy = page.evaluate("() => window.__spy")
    return spy["posted"], spy["results"]


def run_counted(page: Any) -> tuple[list[str], list[str]]:
    """Run once; the keys posted and returned during that run. The page's counter must agree with the worker."""
    posted0, results0 = (len(x) for x in traffic(page))
    run(page)
    posted, results = traffic(page)
    new_posted, new_results = posted[posted0:], results[results0:]
    assert sorted(new_results) == sorted(new_posted), "every posted pair returns exactly one result"
    assert stat(page, "inferences") == str(len(new_results)), "the page's statistic must match the worker traffic"
    return new_posted, new_results


def scores_by_text(page: Any) -> dict[str, float]:
    return {r["text"]: r["score"] for r in rows(page)}


def passage_of(key: str) -> int:
    """Passage index of a pair key ("<session>/<passage>/<window>")."""
    return int(key.split("/")[1])


def test_reordering_removing_and_adding_passages_scores_only_the_new_text(page: Any, base_url: str) -> None:
    """Shuffle, drop one and add one passage: exactly one pair goes to the worker, known scores are reused."""
    open_spied(page, base_url)
    query = "what is apt"
    fill(page, query, SHORT)
    posted, _ = run_counted(page)
    assert len(posted) == len(SHORT)
    before = scores_by_text(page)

    added = "apt search finds packages by name or description."
    changed = [SHORT[4], SHORT[2], added, SHORT[0], SHORT[3]]  # reordered, SHORT[1] removed, one new text
    fill(page, query, changed)
    posted, _ = run_counted(page)
    assert [passage_of(k) for k in posted] == [changed.index(added)], posted
    after = scores_by_text(page)
    assert set(after) == set(changed)
    for text in changed:
        if text != added:
            assert after[text] == before[text], f"the cached score of {text!r} changed"

    fill(page, query, changed[::-1])  # same texts, new order: nothing to score
    posted, _ = run_counted(page)
    assert posted == []
    assert scores_by_text(page) == after


def test_editing_the_end_of_a_long_passage_rescores_only_its_changed_windows(page: Any, base_url: str) -> None:
    """A passage longer than the model window is scored window by window; an edit at its end re-scores only the
    windows whose text changed (cached per window text), never the other passages."""
    query = "how does apt resolve dependencies"
    budget = passage_budget(query, MAX_LENGTH, estimate_tokens)
    windows = lambda text: [text[w.start:w.end] for w in split_windows(text, budget, estimate_tokens)]  # noqa: E731
    edited = LONG + " Edited at the very end."
    old_windows, new_windows = windows(LONG), windows(edited)
    assert len(old_windows) >= 3, "the long passage must span several windows for this test to mean anything"
    expected = [w for w, text in enumerate(new_windows) if text not in old_windows]
    assert 1 <= len(expected) < len(new_windows)

    open_spied(page, base_url)
    passages = [*SHORT[:3], LONG, *SHORT[3:]]
    fill(page, query, passages)
    posted, _ = run_counted(page)
    assert len(posted) == len(SHORT) + len(old_windows)
    assert sum(passage_of(k) == 3 for k in posted) == len(old_windows)

    passages[3] = edited
    fill(page, query, passages)
    posted, _ = run_counted(page)
    assert all(passage_of(k) == 3 for k in posted), f"only the edited passage may be re-scored: {posted}"
    assert sorted(int(k.split("/")[2]) for k in posted) == expected
    final = rows(page)
    assert len(final) == len(passages) and all(r["state"] == "scored" for r in final)


def test_a_new_query_scores_everything_and_the_previous_query_is_still_cached(page: Any, base_url: str) -> None:
    """Scores belong to (query, passage): a new query re-scores all pairs; going back to the old one scores none."""
    open_spied(page, base_url)
    fill(page, "what is apt", SHORT)
    first, _ = run_counted(page)
    scores = scores_by_text(page)
    fill(page, "how is the weather in Lisbon", SHORT)
    second, _ = run_counted(page)
    assert len(first) == len(second) == len(SHORT)
    fill(page, "what is apt", SHORT)
    third, _ = run_counted(page)
    assert third == []
    assert scores_by_text(page) == scores


def test_threshold_and_top_k_changed_during_a_run_send_nothing_more_to_the_worker(page: Any, base_url: str) -> None:
    """Moving the slider and the top-k field while scores stream in re-sorts the view; the run still scores
    each pair exactly once and no second request reaches the worker."""
    open_spied(page, base_url)
    passages = [f"{text} (variant {i})" for i in range(6) for text in SHORT]
    fill(page, "what is apt", passages)
    page.click("#rerank")
    page.wait_for_function("() => document.querySelector('#results li.passage[data-state=\"scored\"]')")
    page.fill("#top-k", "3")
    page.focus("#threshold")
    page.keyboard.press("End")
    page.keyboard.press("Home")
    page.wait_for_function("() => document.documentElement.dataset.phase === 'done'", timeout=180_000)
    posted, results = traffic(page)
    assert len(posted) == len(passages) and sorted(results) == sorted(posted)
    assert page.evaluate("() => window.__spy.posted.length") == len(passages)
    final = rows(page)
    assert all(r["state"] == "scored" for r in final) and len(final) == len(passages)
    cut = page.evaluate("() => document.querySelector('#results .cut-line')?.dataset.cutAfter")
    assert cut == "3"
    assert stat(page, "inferences") == str(len(passages))
