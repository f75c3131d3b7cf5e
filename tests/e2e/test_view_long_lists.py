"""Long result lists (hundreds to 1,000 rows) in real Chromium: element reuse and capped animations, a first draw
spread over frames, ranks kept right off-screen, no shift after a re-sort, scrolling and Tab through every row.

Uses the same view fixture page as test_view.py (tests/harness/view_fixture.py).
"""

from __future__ import annotations

from typing import Any

from harness import save_screenshot
from harness.view_fixture import open_fixture


def test_thousand_rows_reuse_elements_and_cap_animations(page: Any, base_url: str) -> None:
    """1,000 rows re-sort by moving the same elements, animating only a bounded number near the viewport."""
    n = 1000
    open_fixture(page, base_url, [f"Row {i} with a few words of text" for i in range(n)])
    result = page.evaluate("""async (n) => {
      const original = [...Array(n).keys()];
      list.render(makeRows(original, null), {cutAfter: 10});
      await settle();
      // The first score arrives well after the pending list was drawn (model inference takes longer).
      await new Promise(r => setTimeout(r, 300));
      const first = document.querySelector('#results li[data-index="999"]');
      first.__marker = 'kept';
      const scores = Object.fromEntries(original.map(i => [i, i / n]));
      const order = [...original].reverse();
      const t0 = performance.now();
      list.render(makeRows(order, scores), {cutAfter: 10});
      const ms = performance.now() - t0;
      const running = flips().length;
      const top = document.querySelector('#results li.passage');
      await settle();
      return {ms, running, reused: top.__marker === 'kept', order: domOrder(),
              count: document.querySelectorAll('#results li.passage').length};
    }""", n)
    print(f"1,000-row re-sort render: {result['ms']:.1f} ms, {result['running']} rows animated")
    assert result["count"] == n
    assert result["order"] == list(range(n - 1, -1, -1))
    assert result["reused"], "rows must be reused (keyed by index), not rebuilt"
    assert 0 < result["running"] <= 120


def test_a_long_first_draw_is_spread_over_frames_top_first(page: Any, base_url: str) -> None:
    """300 new rows are not all styled and laid out in one frame: the top of the order appears at once, the rest
    within a few frames; a row scored to the top before it was drawn is drawn first."""
    n = 300
    open_fixture(page, base_url, [f"Row {i} with a few words of text" for i in range(n)])
    result = page.evaluate("""async (n) => {
      const original = [...Array(n).keys()];
      list.render(makeRows(original, null), {cutAfter: 10});
      const firstFrame = domOrder();
      const busy = document.querySelector('#results').getAttribute('aria-busy');
      const order = [n - 1, ...original.slice(0, n - 1)];
      list.render(makeRows(order, {[n - 1]: 0.9}), {cutAfter: 10});
      const afterScore = domOrder();
      await list.drawn();
      return {firstFrame, busy, afterScore, order: domOrder(),
              busyAfter: document.querySelector('#results').getAttribute('aria-busy')};
    }""", n)
    assert result["firstFrame"] == list(range(40)), "the first frame draws the top 40 rows, in order"
    assert result["busy"] == "true"
    assert result["afterScore"][0] == n - 1, "a row scored to the top is drawn before the rest of the backlog"
    assert result["order"] == [n - 1, *range(n - 1)]
    assert result["busyAfter"] is None


def test_long_list_ranks_are_right_wherever_the_user_looks(page: Any, base_url: str) -> None:
    """1,000 rows: a row climbing from the bottom shifts every rank below it. Rows on screen show their new rank in
    the re-sort's frame, a far-off row shows it by the time it is scrolled into view, and every row has it soon
    after (idle time), without the re-sort writing 1,000 rows at once."""
    n = 1000
    open_fixture(page, base_url, [f"Row {i} with a few words of text" for i in range(n)])
    result = page.evaluate("""async (n) => {
      const frames = (k) => new Promise(r => { const step = () => (k-- <= 0 ? r() : requestAnimationFrame(step)); step(); });
      const ranks = (sel) => [...document.querySelectorAll(sel)].map(li => [Number(li.dataset.rank),
        Number(li.querySelector('.rank-now').lastChild.data)]);
      const visible = () => [...document.querySelectorAll('#results li.passage')].filter(li => {
        const b = li.getBoundingClientRect(); return b.bottom > 0 && b.top < innerHeight; });
      const original = [...Array(n).keys()];
      list.render(makeRows(original, null), {cutAfter: 10});
      await settle();
      const order = [n - 1, ...original.slice(0, n - 1)];
      list.render(makeRows(order, {[n - 1]: 0.9}), {cutAfter: 10});
      const lastRow = document.querySelector('#results li[data-index="' + (n - 2) + '"]');
      const waiting = lastRow.dataset.rank;
      const onScreen = visible().map(li => [Number(li.dataset.index), Number(li.dataset.rank)]);
      lastRow.scrollIntoView();
      await frames(2);
      const scrolled = visible().map(li => [Number(li.dataset.index), Number(li.dataset.rank)]);
      await list.drawn();
      const all = [...document.querySelectorAll('#results li.passage')].map(li => [Number(li.dataset.rank),
        Number(li.querySelector('.rank-now').lastChild.data), li.querySelector('.rank-change-glyph').textContent]);
      return {waiting, onScreen, scrolled, all, order: domOrder()};
    }""", n)
    assert result["waiting"] == str(n - 1), "a far-off row keeps its old rank during the re-sort's frame"
    pos = {index: p + 1 for p, index in enumerate(result["order"])}
    assert result["onScreen"] and all(rank == pos[i] for i, rank in result["onScreen"])
    assert result["scrolled"] and all(rank == pos[i] for i, rank in result["scrolled"])
    assert [r[0] for r in result["all"]] == list(range(1, n + 1))
    assert all(dom == rank for rank, dom, _ in result["all"])
    assert result["all"][0][2] == f"▲{n - 1}" and result["all"][-1][2] == "▼1"


def test_long_list_rows_do_not_shift_after_a_resort(page: Any, base_url: str) -> None:
    """In a 1,000-row list, rows that skip off-screen layout still have their real height (each row is laid out
    once in the background after the list is drawn), so a re-sort that brings never-seen rows into view lands
    exactly where it was measured (no jump a frame later)."""
    n = 1000
    texts = [("Short row %d." % i) if i % 3 else ("A longer row %d " % i) + "with many more words " * 12 for i in range(n)]
    page.emulate_media(reduced_motion="reduce")
    open_fixture(page, base_url, texts)
    result = page.evaluate("""async (n) => {
      const frames = (k) => new Promise(r => { const step = () => (k-- <= 0 ? r() : requestAnimationFrame(step)); step(); });
      const original = [...Array(n).keys()];
      list.render(makeRows(original, null), {cutAfter: 10});
      const drawnWithin = await (async () => { await frames(1); return document.querySelector('#results').classList.contains('is-large'); })();
      while (document.querySelector('#results').dataset.measured !== 'true') await frames(1);
      const large = drawnWithin && document.querySelector('#results').classList.contains('is-large');
      // Bring rows from the far end (never on screen so far) to the top.
      const order = [...original.slice(900), ...original.slice(0, 900)];
      list.render(makeRows(order, Object.fromEntries(order.map((i, p) => [i, 1 - p / n]))), {cutAfter: 10});
      const measured = tops();
      await frames(3);
      const later = tops();
      const visible = Object.keys(measured).filter(k => measured[k] < innerHeight);
      return {large, drift: Math.max(...visible.map(k => Math.abs(later[k] - measured[k]))), visible: visible.length};
    }""", n)
    assert result["large"], "a 1,000-row list should use the long-list mode"
    assert result["visible"] > 5
    assert result["drift"] < 1, f"rows moved by {result['drift']}px after the re-sort was drawn"


def test_thousand_rows_scroll_to_the_end_and_tab_through(page: Any, base_url: str) -> None:
    """A 1,000-row scored list skips off-screen rows, yet scrolling to the bottom shows the last passages drawn, in
    rank order, and the keyboard reaches every row: Tab walks row by row, Shift+Tab from after the list lands on the
    last row's checkbox and brings it on screen."""
    n = 1000
    texts = [f"Passage number {i}: " + ("some words " * (i % 7 + 1)) for i in range(n)]
    open_fixture(page, base_url, texts)
    page.evaluate("""(n) => {
      const after = document.createElement('button'); after.id = 'after'; after.textContent = 'After the list';
      document.querySelector('#compare').before(after);
      const scores = Object.fromEntries([...Array(n).keys()].map(i => [i, ((i * 7919) % n) / n]));
      const order = [...Array(n).keys()].sort((a, b) => scores[b] - scores[a]);
      window.__order = order;
      list.render(makeRows(order, scores, {threshold: 0}), {cutAfter: 10});
    }""", n)
    page.wait_for_function("() => document.querySelector('#results').dataset.measured === 'true'", timeout=60_000)
    page.evaluate("() => window.scrollTo(0, document.documentElement.scrollHeight)")
    page.wait_for_timeout(500)  # scroll events and the next frames bring the bottom rows into rendering
    save_screenshot(page, "view-1000-rows-bottom", full_page=False)
    shown = page.evaluate("""() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(() => {
      const rows = [...document.querySelectorAll('#results li.passage')].filter(li => {
        const b = li.getBoundingClientRect(); return b.bottom > 0 && b.top < innerHeight; });
      r(rows.map(li => ({index: Number(li.dataset.index), rank: Number(li.dataset.rank),
                         text: li.querySelector('.passage-text').innerText,
                         height: li.getBoundingClientRect().height})));
    })))""")
    order = page.evaluate("() => window.__order")
    assert len(shown) >= 3
    assert shown[-1]["rank"] == n and shown[-1]["index"] == order[-1]
    assert [r["rank"] for r in shown] == list(range(n - len(shown) + 1, n + 1))
    assert [r["index"] for r in shown] == order[n - len(shown):]
    assert all(r["text"].strip() == texts[r["index"]].strip() for r in shown), f"rows must show their text: {shown[:2]}"
    # Keyboard: Shift+Tab from the control after the list reaches the last row, on screen.
    page.evaluate("() => window.scrollTo(0, 0)")
    page.focus("#after")
    page.keyboard.press("Shift+Tab")
    last = page.evaluate("""() => { const li = document.activeElement.closest('li.passage');
      const b = li.getBoundingClientRect(); return {rank: Number(li.dataset.rank), onScreen: b.top >= 0 && b.bottom <= innerHeight}; }""")
    assert last == {"rank": n, "onScreen": True}
    # Tab from the first row's checkbox walks down the rows in rank order.
    page.get_by_role("checkbox", name=f"Relevant (passage {order[0] + 1})").focus()
    ranks = []
    for _ in range(4):
        page.keyboard.press("Tab")
        ranks.append(page.evaluate("() => Number(document.activeElement.closest('li.passage')?.dataset.rank)"))
    assert ranks == [2, 3, 4, 5]
