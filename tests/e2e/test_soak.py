"""Soak: 100 consecutive runs on one page with seeded random edits. No error, no stale score (every final
order is the order of its data-score values, every row is the current input, and a (query, passage) pair
always gets the same score), and the JS heap stays bounded."""

from __future__ import annotations

import random
from typing import Any

from harness.faults import assert_scores_consistent, page_state
from harness.page import RUN_TIMEOUT_MS, open_page

RUNS = 100
QUERIES = ["why are there two tides a day", "how do I reset my router", "what boots for wide feet"]
POOL = [
    "The moon's gravity raises two bulges of water on opposite sides of the Earth.",
    "As the Earth turns, a coast passes through both bulges, so it sees two high tides.",
    "Hold the reset button for ten seconds until the lights blink, then wait two minutes.",
    "Unplug the router, wait thirty seconds and plug it back in before calling support.",
    "Wide-fit hiking boots have a roomier toe box and come in 2E and 4E widths.",
    "Leather boots need a few days of wear before they stop pinching.",
    "Sourdough starter should be fed every day with equal weights of flour and water.",
    "The tram to the old town leaves every twelve minutes from platform three.",
    "Tide tables are published a year ahead for every major harbour.",
    "A firmware update can change which button resets the router to factory settings.",
    "Spring tides happen near new and full moon, when sun and moon pull together.",
    "Insoles can make a narrow boot feel tighter, so try boots with your own insoles.",
]

EDIT_AND_RUN_JS = """([query, passages]) => {
  for (const [id, value] of [['query', query], ['passages', passages]]) {
    const el = document.getElementById(id);
    el.value = value;
    el.dispatchEvent(new Event('input', {bubbles: true}));
  }
  const before = window.__phases.length;
  document.getElementById('rerank').click();
  return before;
}"""


def edit(rng: random.Random, query: str, lines: list[str]) -> tuple[str, list[str]]:
    """One random edit a person might make between runs."""
    lines = list(lines)
    fresh = [p for p in POOL if p not in lines]
    action = rng.choice(["replace", "add", "remove", "query", "swap", "typo"])
    if action == "replace":
        lines[rng.randrange(len(lines))] = rng.choice(fresh)
    elif action == "add" and len(lines) < 10:
        lines.insert(rng.randrange(len(lines) + 1), rng.choice(fresh))
    elif action == "remove" and len(lines) > 3:
        lines.pop(rng.randrange(len(lines)))
    elif action == "query":
        query = rng.choice([q for q in QUERIES if q != query])
    elif action == "swap":
        i, j = rng.sample(range(len(lines)), 2)
        lines[i], lines[j] = lines[j], lines[i]
    else:
        i = rng.randrange(len(lines))
        lines[i] = lines[i] + rng.choice([" Really.", " (see above)", " ok", "!"])
        lines = list(dict.fromkeys(lines)) if len(set(lines)) > 2 else lines
    return query, lines


def test_hundred_runs_with_random_edits(page: Any, base_url: str, guarded_context: Any) -> None:
    """Seeded edits + Rerank, 100 times: each run finishes, matches its input, reuses consistent scores."""
    rng = random.Random(20261122)
    open_page(page, base_url)
    cdp = guarded_context.context.new_cdp_session(page)
    query, lines = QUERIES[0], POOL[:6]
    seen: dict[tuple[str, str], float] = {}
    heap: list[tuple[int, float]] = []
    for i in range(RUNS):
        query, lines = edit(rng, query, lines)
        # One round trip to edit and press Rerank, one to wait for the finished run (the machine is busy).
        before = page.evaluate(EDIT_AND_RUN_JS, [query, "\n".join(lines)])
        page.wait_for_function(
            "n => window.__phases.length > n && ['done', 'error'].includes(window.__phases.at(-1))"
            " && document.documentElement.dataset.phase === window.__phases.at(-1)",
            arg=before, timeout=RUN_TIMEOUT_MS, polling=50)
        state = page_state(page)
        assert state["phase"] == "done" and state["errors"] == {}, f"run {i}: {state}"
        final = assert_scores_consistent(page)
        assert sorted(r["text"] for r in final) == sorted(lines), f"run {i}: rows are not the current input"
        for r in final:
            key = (query, r["text"])
            if key in seen:
                assert abs(seen[key] - r["score"]) < 1e-4, f"run {i}: stale or mixed score for {key}"
            seen[key] = r["score"]
        if i in (9, RUNS - 1):
            cdp.send("HeapProfiler.collectGarbage")
            heap.append((i, cdp.send("Runtime.getHeapUsage")["usedSize"] / 1e6))
    (_, warm), (_, last) = heap
    print(f"JS heap after run 10: {warm:.1f} MB, after run {RUNS}: {last:.1f} MB; distinct pairs seen {len(seen)}")
    assert last < warm * 1.5 + 16, f"JS heap grew from {warm:.1f} MB to {last:.1f} MB over {RUNS - 10} runs"
    assert page.locator("#results li.passage").count() == len(lines), "rows of earlier runs were left behind"
