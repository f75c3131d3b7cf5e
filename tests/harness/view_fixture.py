"""The result-list view fixture: a small page on the served origin that loads the built app/view.js,
app/compare-view.js and static/style.css, with in-page helpers to build rows and wait for animations."""

from __future__ import annotations

from typing import Any

FIXTURE_HTML = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Result list fixture</title>
<link rel="icon" href="static/icons/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="static/style.css">
</head>
<body>
<main class="app-main">
<h1 class="app-title">Result list</h1>
<section class="panel results-panel" aria-labelledby="results-title">
<h2 class="panel-title" id="results-title">Results</h2>
<ol id="results"></ol>
<div id="compare"></div>
</section>
</main>
</body>
</html>
"""

# Helpers installed in the fixture page: rows in the shape of the view contract.
SETUP_JS = """
async (base) => {
  const view = await import(base + "app/view.js");
  window.view = view;
  window.compareView = await import(base + "app/compare-view.js");
  window.list = new view.ResultList(document.querySelector("#results"));
  window.texts = [];
  window.makeRows = (order, scores, {threshold = 0.3, relevance = null, windows = null} = {}) =>
    order.map((index, position) => {
      const score = scores ? scores[index] : null;
      return {
        index, text: window.texts[index], rank: position + 1,
        state: score === null || score === undefined ? "pending" : "scored",
        score: score ?? null,
        sunk: score !== null && score !== undefined && score < threshold,
        relevance: relevance ? relevance[index] : null,
        changeVsOriginal: index - position,
        window: windows ? (windows[index] ?? null) : null,
      };
    });
  window.domOrder = () => [...document.querySelectorAll("#results li.passage")].map(li => Number(li.dataset.index));
  window.tops = () => Object.fromEntries([...document.querySelectorAll("#results li.passage, #results li.cut-line")]
    .map(li => [li.dataset.index ?? "cut", li.getBoundingClientRect().top]));
  window.settle = async () => {
    await window.list.drawn();
    await Promise.all(document.getAnimations().map(a => a.finished.catch(() => null)));
  };
  window.flips = () => document.getAnimations().filter(a => a.id === "flip" && a.playState === "running");
}
"""


def open_fixture(page: Any, base_url: str, texts: list[str]) -> None:
    """Open the fixture page on the served origin and load view.js and compare-view.js from the build into it."""
    url = base_url + "view-fixture.html"
    page.route(url, lambda route: route.fulfill(status=200, content_type="text/html; charset=utf-8", body=FIXTURE_HTML))
    page.goto(url)
    page.evaluate(SETUP_JS, base_url)
    page.evaluate("texts => { window.texts = texts; }", texts)


def short_texts(n: int) -> list[str]:
    """`n` short distinct passages about tides."""
    return [f"Passage number {i + 1} about tides, the Moon and the oceans." for i in range(n)]
