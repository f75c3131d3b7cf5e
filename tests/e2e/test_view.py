"""The result-list view (app/view.js, app/compare-view.js + static/style.css) in real Chromium, and the shipped presets.

The view is loaded from the built site (dist/app/view.js, dist/static/style.css) into a small fixture
page on the same origin (tests/harness/view_fixture.py), so these tests exercise rendering and animation without
waiting for Python or the model. Long lists (hundreds of rows) are in test_view_long_lists.py; the page-level flow
(index.html + page.js + Python) is tested elsewhere.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from harness import save_screenshot
from harness.paths import ROOT
from harness.view_fixture import open_fixture, short_texts

PRESETS_DIR = ROOT / "static" / "presets"
AXE_JS = ROOT / "node_modules" / "axe-core" / "axe.min.js"


def test_render_writes_the_dom_contract(page: Any, base_url: str) -> None:
    """Rows carry index/rank/state/score/sunk/relevance, the rank change, and follow the given order."""
    open_fixture(page, base_url, short_texts(8))
    result = page.evaluate("""async () => {
      const original = [0, 1, 2, 3, 4, 5, 6, 7];
      list.render(makeRows(original, null), {cutAfter: 3});
      const pending = [...document.querySelectorAll("#results li.passage")].map(li => ({...li.dataset}));
      const scores = [0.1, 0.2, 0.95, 0.05, 0.6, null, 0.8, 0.4];
      const order = [2, 6, 4, 7, 1, 0, 3, 5];
      const relevance = [0, 1, 2, 0, 1, 0, 2, 0];
      list.render(makeRows(order, scores, {relevance}), {cutAfter: 3});
      const rows = [...document.querySelectorAll("#results li.passage")].map(li => ({
        ...li.dataset,
        change: li.querySelector(".rank-change").textContent,
        was: li.querySelector(".rank-was").textContent,
        value: li.querySelector(".score-value").textContent,
        checked: li.querySelector("input.relevance-box").checked,
        mixed: li.querySelector("input.relevance-box").indeterminate,
      }));
      await settle();
      const colour = (i) => getComputedStyle(document.querySelector(`#results li[data-index="${i}"] .passage-text`)).color;
      const faded = {kept: colour(2), sunk: colour(0)};
      const children = [...document.querySelector("#results").children].map(
        li => li.classList.contains("cut-line") ? "cut" : li.dataset.index);
      return {pending, rows, children, faded, cutText: document.querySelector(".cut-line").textContent};
    }""")
    assert [r["state"] for r in result["pending"]] == ["pending"] * 8
    assert all("score" not in r for r in result["pending"])
    rows = result["rows"]
    assert [int(r["index"]) for r in rows] == [2, 6, 4, 7, 1, 0, 3, 5]
    assert [int(r["rank"]) for r in rows] == list(range(1, 9))
    assert rows[0]["state"] == "scored" and float(rows[0]["score"]) == pytest.approx(0.95)
    assert rows[0]["value"] == "0.950"
    assert rows[-1]["state"] == "pending" and "score" not in rows[-1] and rows[-1]["value"] == "pending"
    assert [r["sunk"] for r in rows] == ["false", "false", "false", "false", "true", "true", "true", "false"]
    # Passage #3 (index 2) went from rank 3 to 1: the badge says so in glyphs and in words.
    assert rows[0]["was"] == "was #3"
    assert "▲2" in rows[0]["change"] and "up 2" in rows[0]["change"]
    assert rows[6]["index"] == "3" and "▼3" in rows[6]["change"] and "down 3" in rows[6]["change"]
    assert rows[0]["relevance"] == "2" and rows[0]["checked"] and not rows[0]["mixed"]
    assert rows[4]["relevance"] == "1" and rows[4]["mixed"]
    assert rows[3]["relevance"] == "0" and not rows[3]["checked"]
    assert result["faded"]["sunk"] != result["faded"]["kept"], "sunk rows should look faded"
    # The cut line sits right after the top 3 and says what it means.
    assert result["children"] == ["2", "6", "4", "cut", "7", "1", "0", "3", "5"]
    assert "Top 3 sent to the LLM" in result["cutText"] and "5 dropped" in result["cutText"]


def test_resort_interrupted_mid_animation_retargets_without_jumps(page: Any, base_url: str) -> None:
    """A render during a running re-sort starts every row from where it is drawn: no jump, no overlap at the end."""
    n = 12
    open_fixture(page, base_url, short_texts(n))
    first = page.evaluate("""async (n) => {
      const original = [...Array(n).keys()];
      list.render(makeRows(original, null), {cutAfter: 4});
      await settle();
      const reversed = [...original].reverse();
      list.render(makeRows(reversed, Object.fromEntries(reversed.map((i, p) => [i, 1 - p / n]))), {cutAfter: 4});
      // mid-flight: moves run on the compositor and start at its next commit (later on a loaded machine)
      await Promise.all(flips().map(a => a.ready));
      await new Promise(r => setTimeout(r, 120));
      const running = flips().length;
      const layout = Object.fromEntries([...document.querySelectorAll('#results li.passage')].map(li => {
        const t = li.getAnimations().find(a => a.id === 'flip');
        return [li.dataset.index, t ? t.currentTime : null];
      }));
      const before = tops();
      const shuffled = [5, 0, 11, 3, 8, 1, 10, 2, 7, 4, 9, 6];
      list.render(makeRows(shuffled, Object.fromEntries(shuffled.map((i, p) => [i, 1 - p / n]))), {cutAfter: 4});
      const after = tops();
      const retargeted = flips().length;
      await settle();
      const rects = [...document.querySelectorAll('#results > li')].map(li => {
        const r = li.getBoundingClientRect(); return {top: r.top, bottom: r.bottom, cls: li.className};
      });
      const transforms = [...document.querySelectorAll('#results > li')].map(li => getComputedStyle(li).transform);
      return {running, before, after, retargeted, order: domOrder(), rects, transforms, layout};
    }""", n)
    assert first["running"] > 0, "the second render should still be animating when the third arrives"
    # The rows were really mid-flight (otherwise the continuity check below proves nothing).
    assert any(t is not None and t > 0 for t in first["layout"].values())
    assert "cut" in first["before"] and "cut" in first["after"]
    jumps = {i: abs(first["after"][i] - first["before"][i]) for i in first["before"]}
    assert max(jumps.values()) < 3, f"rows jumped on re-target: {jumps}"
    assert first["retargeted"] > 0, "the third render should animate from the in-flight positions"
    assert first["order"] == [5, 0, 11, 3, 8, 1, 10, 2, 7, 4, 9, 6]
    rects = first["rects"]
    for upper, lower in zip(rects, rects[1:]):
        assert upper["bottom"] <= lower["top"] + 0.5, f"rows overlap after the animation: {upper} / {lower}"
    assert all(t == "none" for t in first["transforms"])


def test_reduced_motion_reorders_without_animation_and_highlights_changes(page: Any, base_url: str) -> None:
    """With prefers-reduced-motion nothing moves or fades: the new order appears at once, changed rows flash."""
    page.emulate_media(reduced_motion="reduce")
    open_fixture(page, base_url, short_texts(6))
    result = page.evaluate("""async () => {
      list.render(makeRows([0, 1, 2, 3, 4, 5], null), {cutAfter: 2});
      list.render(makeRows([3, 1, 0, 2, 4, 5], {0: .5, 1: .6, 2: .2, 3: .9, 4: .1, 5: .05}), {cutAfter: 2});
      const during = document.getAnimations().map(a => a.id || a.constructor.name);
      const flashed = [...document.querySelectorAll('#results li.passage[data-flash="true"]')].map(li => Number(li.dataset.index));
      await new Promise(r => setTimeout(r, 50));
      return {during, flashed, order: domOrder(), later: document.getAnimations().length};
    }""")
    assert result["during"] == [] and result["later"] == 0
    assert result["order"] == [3, 1, 0, 2, 4, 5]
    assert sorted(result["flashed"]) == [0, 2, 3]


def test_user_text_with_markup_is_shown_as_text(page: Any, base_url: str) -> None:
    """HTML in a passage (and inside its highlighted window) is displayed literally and never executed."""
    texts = [
        '<img src=x onerror="window.__pwned = 1"> look at this',
        "<script>window.__pwned = 2</script> and " + "words " * 150 + '<b onmouseover="x()">bold</b> end',
        "plain",
    ]
    open_fixture(page, base_url, texts)
    result = page.evaluate("""async () => {
      const t = window.texts;
      const w = t[1].indexOf('<b ');
      list.render(makeRows([1, 0, 2], {0: .4, 1: .9, 2: .1}, {windows: {1: {start: w, end: w + 30}}}), {cutAfter: 1});
      await new Promise(r => setTimeout(r, 100));
      return {
        elements: document.querySelectorAll('#results img, #results script, #results b').length,
        pwned: window.__pwned ?? null,
        first: document.querySelector('#results li[data-index="0"] .passage-text').textContent,
        mark: document.querySelector('#results li[data-index="1"] mark.passage-window').textContent,
      };
    }""")
    assert result["elements"] == 0 and result["pwned"] is None
    assert result["first"] == texts[0]
    assert '<b onmouseover="x()">' in result["mark"]


def test_long_passage_highlights_window_without_layout_shift(page: Any, base_url: str) -> None:
    """A long passage shows its winning window as a highlight; scores arriving don't change any row's height."""
    long_text = " ".join(f"filler{i}" for i in range(300)) + " THE ANSWER SENTENCE IS HERE. " + " ".join(
        f"tail{i}" for i in range(120))
    texts = [long_text, "short one", "another short passage that is a little longer than the first"]
    open_fixture(page, base_url, texts)
    result = page.evaluate("""async () => {
      const t = window.texts[0];
      const s = t.indexOf('THE ANSWER');
      list.render(makeRows([0, 1, 2], null), {cutAfter: 1});
      const heights = () => [...document.querySelectorAll('#results li.passage')].map(li => [li.dataset.index, li.getBoundingClientRect().height]);
      const listHeight = () => document.querySelector('#results').getBoundingClientRect().height;
      const before = {rows: Object.fromEntries(heights()), list: listHeight()};
      list.render(makeRows([0, 2, 1], {0: .9, 1: .1, 2: .5}, {windows: {0: {start: s, end: s + 29}}}), {cutAfter: 1});
      await settle();
      const after = {rows: Object.fromEntries(heights()), list: listHeight()};
      const row = document.querySelector('#results li[data-index="0"]');
      const mark = row.querySelector('mark.passage-window');
      const box = row.querySelector('.passage-text').getBoundingClientRect();
      const m = mark.getBoundingClientRect();
      return {before, after, mark: mark.textContent, markVisible: m.top >= box.top && m.bottom <= box.bottom,
              expand: row.querySelector('.passage-expand').textContent};
    }""")
    assert result["mark"].strip() == "Best window: THE ANSWER SENTENCE IS HERE."
    assert result["markVisible"], "the winning window must be inside the visible excerpt"
    assert result["before"] == result["after"], "row heights changed when scores arrived"
    assert "Show all" in result["expand"]
    page.click('#results li[data-index="0"] .passage-expand')
    full = page.evaluate("""() => document.querySelector('#results li[data-index="0"] .passage-text').textContent""")
    assert "filler0 " in full and "tail119" in full


def test_relevance_toggle_emits_event(page: Any, base_url: str) -> None:
    """Ticking a row's checkbox marks it relevant and tells the page which passage changed."""
    open_fixture(page, base_url, short_texts(3))
    page.evaluate("""() => {
      window.events = [];
      document.querySelector('#results').addEventListener('relevance-toggle', e => events.push(e.detail));
      list.render(makeRows([2, 0, 1], {0: .5, 1: .2, 2: .9}, {relevance: [0, 0, 0]}), {cutAfter: 2});
    }""")
    box = page.get_by_role("checkbox", name="Relevant (passage 1)")
    box.check()
    box.uncheck()
    assert page.evaluate("() => events") == [{"index": 0, "relevance": 2}, {"index": 0, "relevance": 0}]
    assert page.evaluate("""() => document.querySelector('#results li[data-index="0"]').dataset.relevance""") == "0"


def test_compare_columns_show_where_relevant_passages_went(page: Any, base_url: str) -> None:
    """Compare view: metrics per column, relevant items marked with an icon, linked across columns; pending shown."""
    texts = [f"Passage {i}" for i in range(6)]
    open_fixture(page, base_url, texts)
    result = page.evaluate("""() => {
      const relevance = [0, 2, 0, 1, 0, 0];
      compareView.renderCompare(document.querySelector('#compare'), [
        {id: 'original', label: 'Original', order: [0, 1, 2, 3, 4, 5], metrics: {ndcg: 0.61, mrr: 0.5}},
        {id: 'bm25', label: 'BM25', order: [2, 0, 3, 1, 4, 5], metrics: {ndcg: 0.48, mrr: 0.25}},
        {id: 'bi', label: 'Bi-encoder', order: [], metrics: null, pending: true},
        {id: 'ce', label: 'Cross-encoder', order: [1, 3, 0, 2, 4, 5], metrics: {ndcg: 1, mrr: 1}},
      ], {relevance, texts: window.texts, k: 3});
      const cols = [...document.querySelectorAll('#compare .compare-col')].map(c => ({
        id: c.dataset.column, busy: c.getAttribute('aria-busy'),
        metrics: c.querySelector('.compare-metrics').textContent,
        first: c.querySelector('.compare-item')?.dataset.index ?? null,
        icons: [...c.querySelectorAll('.compare-item[data-relevance="2"] .ci-mark')].map(m => m.textContent),
      }));
      const links = [...document.querySelectorAll('#compare path.compare-link')].map(p => p.dataset.index);
      return {cols, links};
    }""")
    cols = {c["id"]: c for c in result["cols"]}
    assert "nDCG@3 0.610" in cols["original"]["metrics"] and "MRR 0.500" in cols["original"]["metrics"]
    assert cols["bi"]["busy"] == "true" and "pending" in cols["bi"]["metrics"]
    assert cols["ce"]["first"] == "1" and cols["ce"]["icons"] == ["✓"]
    # Relevant passages 1 and 3 are linked original->BM25; the pending column breaks the chain to the last one.
    assert sorted(result["links"]) == ["1", "3"]


@pytest.mark.parametrize(("theme", "width"), [("light", 1280), ("dark", 1280), ("light", 360)])
def test_rendered_results_pass_axe(page: Any, base_url: str, theme: str, width: int) -> None:
    """The scored list (sunk rows, highlight, cut line, labels) and compare view meet WCAG 2.1 AA in both
    themes, and at phone width (where the comparison scrolls sideways) nothing overflows the page."""
    texts = [p["text"] for p in json.loads((PRESETS_DIR / "long-everest-boiling.json").read_text(encoding="utf-8"))["passages"]]
    relevance = [p["relevance"] for p in json.loads((PRESETS_DIR / "long-everest-boiling.json").read_text(encoding="utf-8"))["passages"]]
    page.emulate_media(color_scheme=theme)
    page.set_viewport_size({"width": width, "height": 900})
    open_fixture(page, base_url, texts)
    page.evaluate("""async (relevance) => {
      const n = texts.length;
      const scores = Object.fromEntries([...Array(n).keys()].map(i => [i, relevance[i] * 0.4 + (i % 3) * 0.05]));
      scores[3] = null;
      const order = [...Array(n).keys()].sort((a, b) => (scores[b] ?? -1) - (scores[a] ?? -1));
      const s = texts[6].indexOf('On the summit');
      list.render(makeRows(order, scores, {relevance, windows: {6: {start: s, end: s + 140}}}), {cutAfter: 4});
      compareView.renderCompare(document.querySelector('#compare'), [
        {id: 'original', label: 'Original', order: [...Array(n).keys()], metrics: {ndcg: 0.5, mrr: 0.14}},
        {id: 'bm25', label: 'BM25', order: [...order].reverse(), metrics: {ndcg: 0.7, mrr: 0.5}},
        {id: 'ce', label: 'Cross-encoder', order, metrics: {ndcg: 0.9, mrr: 1}, pending: true},
      ], {relevance, texts, k: 4});
      await settle();
    }""", relevance)
    save_screenshot(page, f"view-results-{theme}-{width}")
    assert page.evaluate("() => document.documentElement.scrollWidth") <= width
    page.add_script_tag(path=str(AXE_JS))
    violations = page.evaluate("""async () => {
      const r = await axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}});
      return r.violations.map(v => ({id: v.id, nodes: v.nodes.slice(0, 3).map(n => n.target.join(' ') + ' ' + n.failureSummary)}));
    }""")
    assert violations == []


def test_keyboard_focus_survives_a_resort(page: Any, base_url: str) -> None:
    """A keyboard user's focus on a row's checkbox stays put while that row moves in a re-sort."""
    open_fixture(page, base_url, short_texts(6))
    page.evaluate("() => list.render(makeRows([0, 1, 2, 3, 4, 5], null), {cutAfter: 2})")
    page.get_by_role("checkbox", name="Relevant (passage 2)").focus()
    page.evaluate("() => list.render(makeRows([5, 4, 3, 2, 0, 1], {0: .3, 1: .2, 2: .4, 3: .6, 4: .8, 5: .9}), {cutAfter: 2})")
    page.evaluate("() => list.render(makeRows([1, 5, 4, 3, 2, 0], {0: .1, 1: .95, 2: .4, 3: .6, 4: .8, 5: .9}), {cutAfter: 2})")
    focused = page.evaluate("() => document.activeElement.closest('li.passage')?.dataset.index ?? null")
    assert focused == "1"
    page.keyboard.press("Space")
    assert page.evaluate("""() => document.querySelector('#results li[data-index="1"]').dataset.relevance""") == "2"


# ---- presets (static/presets) ----------------------------------------------------------------------

def preset_files() -> list[Path]:
    index = json.loads((PRESETS_DIR / "index.json").read_text(encoding="utf-8"))
    return [PRESETS_DIR / entry["file"] for entry in index]


def test_preset_index_lists_every_preset_file() -> None:
    """index.json names each preset file exactly once, with ids and titles matching the files."""
    index = json.loads((PRESETS_DIR / "index.json").read_text(encoding="utf-8"))
    assert len(index) >= 7
    files = {p.name for p in PRESETS_DIR.glob("*.json")} - {"index.json"}
    assert sorted(e["file"] for e in index) == sorted(files)
    assert len({e["id"] for e in index}) == len(index)
    for entry in index:
        preset = json.loads((PRESETS_DIR / entry["file"]).read_text(encoding="utf-8"))
        assert preset["id"] == entry["id"] and preset["title"] == entry["title"]
        assert entry["file"] == f"{entry['id']}.json"


@pytest.mark.parametrize("path", preset_files(), ids=lambda p: p.stem)
def test_preset_matches_schema_and_is_a_useful_demo(path: Path) -> None:
    """Each preset: the documented fields, 8-15 passages, at least one answer and two off-topic lines."""
    preset = json.loads(path.read_text(encoding="utf-8"))
    assert set(preset) == {"id", "title", "description", "query", "passages"}
    for key in ("id", "title", "description", "query"):
        assert isinstance(preset[key], str) and preset[key].strip(), key
    passages = preset["passages"]
    assert 8 <= len(passages) <= 15
    for passage in passages:
        assert set(passage) == {"text", "relevance"}
        assert isinstance(passage["text"], str) and passage["text"].strip()
        assert "\n" not in passage["text"], "one passage per line must survive the textarea round trip"
        assert passage["relevance"] in (0, 1, 2)
    labels = [p["relevance"] for p in passages]
    assert labels.count(2) >= 1 and labels.count(0) >= 2
    assert len({p["text"] for p in passages}) == len(passages), "duplicate passage text"
    assert labels[0] != 2, "the retrieved order should not already start with the answer"


def test_presets_cover_the_promised_scenarios() -> None:
    """A non-English preset and a long-passage preset (answer deep inside a >300-word passage) exist."""
    presets = [json.loads(p.read_text(encoding="utf-8")) for p in preset_files()]
    non_english = [p for p in presets if any(ch in p["query"] for ch in "äöüßéñ¿¡")]
    assert non_english, "expected a German or Spanish preset"
    long_ones = [p for p in presets if sum(len(x["text"].split()) > 300 for x in p["passages"]) >= 2]
    assert long_ones
    for preset in long_ones:
        answers = [x["text"] for x in preset["passages"] if x["relevance"] == 2 and len(x["text"].split()) > 300]
        assert answers, "the long preset's answer should sit inside a long passage"
