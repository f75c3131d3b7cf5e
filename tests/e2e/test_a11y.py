"""Accessibility: axe-core (WCAG 2.1 A/AA) finds nothing in light and dark themes, before and after a run;
screenshots of a finished run (light, dark, and 360 px wide) go to test-artifacts/ for people to look at."""

from __future__ import annotations

from typing import Any

from harness import save_screenshot
from harness.page import assert_final_order, load_preset, open_page, rows, run
from harness.paths import ROOT

AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def axe_violations(page: Any) -> list[str]:
    """Run axe-core on the whole page; return one line per violation and node."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(AXE.read_text(encoding="utf-8"))  # evaluate, not a <script>: the page's CSP stays enforced
    result = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})",
        WCAG_TAGS)
    lines = []
    for violation in result["violations"]:
        for node in violation["nodes"]:
            lines.append(f"{violation['id']} ({violation['impact']}): {node['target']} - {node['failureSummary']}")
    return lines


def set_theme(page: Any, theme: str) -> None:
    """Switch theme with the page's own toggle button."""
    if page.evaluate("() => document.documentElement.dataset.theme") != theme:
        page.click("#theme-toggle")
    assert page.evaluate("() => document.documentElement.dataset.theme") == theme
    assert page.get_attribute("#theme-toggle", "aria-pressed") == ("true" if theme == "dark" else "false")


def test_axe_finds_no_wcag_violation_in_either_theme_before_and_after_a_run(page: Any, base_url: str) -> None:
    """Zero axe violations (WCAG 2.1 AA) in light and dark, on the ready page and after a labelled run."""
    page.emulate_media(reduced_motion="reduce")  # settled rows: axe must not see a half-finished animation
    open_page(page, base_url)
    found = {}
    for theme in ("light", "dark"):
        set_theme(page, theme)
        found[f"ready/{theme}"] = axe_violations(page)
        # The footer's "Clear stored data" confirmation (question + two buttons) and its status line.
        page.click("#clear-data")
        page.wait_for_selector("#clear-confirm:not([hidden])")
        found[f"clear-confirm/{theme}"] = axe_violations(page)
        page.click("#clear-no")
        page.wait_for_function("() => document.querySelector('#clear-status').textContent.includes('Nothing')")
        found[f"clear-status/{theme}"] = axe_violations(page)
    set_theme(page, "light")
    load_preset(page, "long-everest-boiling")
    run(page)
    page.locator("#results li.passage").first.locator("input.relevance-box").check()
    for theme in ("light", "dark"):
        set_theme(page, theme)
        page.wait_for_timeout(400)  # colour transitions finish
        found[f"done/{theme}"] = axe_violations(page)
    assert all(not v for v in found.values()), "\n".join(f"{k}: {line}" for k, v in found.items() for line in v)


def test_screenshots_of_a_run_in_light_dark_and_narrow(page: Any, base_url: str) -> None:
    """A finished run, saved as PNGs; the narrow one must not scroll sideways at 360 px."""
    page.emulate_media(reduced_motion="reduce")
    open_page(page, base_url)
    load_preset(page, "rag-tides")
    run(page)
    assert_final_order(rows(page))
    for theme in ("light", "dark"):
        set_theme(page, theme)
        page.wait_for_timeout(400)
        save_screenshot(page, f"page-run-{theme}")
    page.set_viewport_size({"width": 360, "height": 780})
    page.wait_for_timeout(400)
    save_screenshot(page, "page-run-dark-360")
    overflow = page.evaluate("() => document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"the page scrolls sideways by {overflow}px at 360px"
    set_theme(page, "light")
    page.wait_for_timeout(400)
    save_screenshot(page, "page-run-light-360", full_page=False)


COLOURS_JS = """() => [document.documentElement, ...document.querySelectorAll('body *')].map((el) => {
  const cs = getComputedStyle(el);
  return [el.tagName, el.id, cs.color, cs.backgroundColor, cs.borderTopColor, cs.boxShadow, cs.outlineColor].join('|');
})"""


def colours_with(page: Any, theme: str | None) -> list[str]:
    """Computed colours of every element with <html data-theme> set to `theme` (None: no choice, OS decides)."""
    page.evaluate("t => { if (t) document.documentElement.dataset.theme = t;"
                  " else delete document.documentElement.dataset.theme; }", theme)
    page.wait_for_timeout(400)  # colour transitions finish
    return page.evaluate(COLOURS_JS)


def test_one_palette_follows_the_os_preference_unless_a_theme_is_chosen(page: Any, base_url: str) -> None:
    """With no theme chosen the OS preference picks light or dark; a chosen theme wins over it; the two themes
    differ (so the comparison can fail)."""
    open_page(page, base_url)  # ready: the DOM stays as it is while colours are compared
    seen = {}
    for preference in ("light", "dark"):
        page.emulate_media(color_scheme=preference)
        for theme in (None, "light", "dark"):
            seen[(preference, theme)] = colours_with(page, theme)
    assert seen[("light", None)] == seen[("light", "light")] == seen[("dark", "light")]
    assert seen[("dark", None)] == seen[("dark", "dark")] == seen[("light", "dark")]
    assert seen[("light", None)] != seen[("dark", None)]


def test_axe_finds_nothing_in_the_documents_inputs(page: Any, base_url: str) -> None:
    """Documents mode's drop zone (while files are dragged over it), paste box with its error line, and the
    collection search with hits, one marked, pass axe in light and dark."""
    from test_documents import load_demo, open_documents  # noqa: PLC0415 - the Documents-mode helpers
    page.emulate_media(reduced_motion="reduce")
    open_documents(page, base_url)
    load_demo(page)
    page.click("#documents-text-add")  # an empty box: its error line shows
    page.wait_for_function("() => document.getElementById('documents-text-error').textContent !== ''")
    page.fill("#collection-search", "kernel")
    page.press("#collection-search", "Enter")
    page.locator("#collection-found li.found-passage input.found-box").first.check()
    page.evaluate("() => { const data = new DataTransfer(); data.items.add(new File(['x'], 'x.txt'));"
                  " document.getElementById('documents-drop').dispatchEvent(new DragEvent('dragenter',"
                  " {dataTransfer: data, bubbles: true, cancelable: true})); }")
    assert page.get_attribute("#documents-drop", "data-drag") == "over"
    found = {}
    for theme in ("light", "dark"):
        set_theme(page, theme)
        page.wait_for_timeout(400)
        found[theme] = axe_violations(page)
    save_screenshot(page, "documents-inputs-dark")
    assert all(not v for v in found.values()), "\n".join(f"{k}: {line}" for k, v in found.items() for line in v)
