"""Hostile input through the real page: markup, script URLs, entities, </textarea>, NUL/control and bidi
characters are shown as inert text (nothing executes, no element appears, no dialog opens); 5,000 lines and
10 MB of text get a clear limit message, the page stays responsive, and nothing typed is lost.
The expected passage texts come from the same `reranker` package running in CPython."""

from __future__ import annotations

import re
from typing import Any

import reranker
from harness.faults import assert_ui_responds, generated_strings, page_state, visible_text_only
from harness.page import assert_final_order, open_page, rows, run

PAYLOADS = [
    "<script>window.__pwned = 'script'</script>Plain words after a script tag.",
    "<img src=x onerror=\"window.__pwned = 'img'\">An image that must never load.",
    "<svg onload=\"window.__pwned = 'svg'\"></svg>an svg with onload",
    "<a href=\"javascript:window.__pwned='link'\">a javascript: link</a> and javascript:alert(1) bare",
    "<iframe src=\"javascript:parent.__pwned='iframe'\"></iframe>an iframe",
    "&lt;b&gt;entities&lt;/b&gt; &amp;amp; &#60;i&#62; &quot;quoted&quot; stay literal",
    "</textarea><textarea>closing the textarea early</textarea>",
    "<style>body{display:none}</style>a style element",
    "NUL\x00here, bell\x07, escape\x1b[31m red, backspace\x08 and DEL\x7f inside",
    "bidi \u202eevil override\u202c and \u2066isolate\u2069 and \u200fRLM marks",
    "{{constructor.constructor('window.__pwned=\"tmpl\"')()}} ${window.__pwned='tpl'} %s %n",
]
HOSTILE_QUERY = "<img src=q onerror=\"window.__pwned='query'\"> \u202eyreuq\u202c &amp; </textarea>"

# Probes after a run: no injected element anywhere in the result list or comparison, nothing executed.
INERT_JS = """() => {
  const rows = [...document.querySelectorAll('#results li.passage')];
  const tagsOf = (el) => [...el.querySelectorAll('*')].map((e) => e.tagName).sort().join(',');
  const forbidden = 'script, img, svg:not(.compare-lines), iframe, style, a[href], textarea, object, embed';
  return {
    pwned: window.__pwned ?? null,
    rowShapes: [...new Set(rows.map((li) => tagsOf(li).replace(/(,?MARK)+/g, '')))].length,
    injected: [...document.querySelectorAll(
      ['#results', '#results-b', '#compare', '#stats', '#status'].map((s) => s + ' :is(' + forbidden + ')').join(','))]
      .map((e) => e.outerHTML.slice(0, 120)),
    iframes: document.querySelectorAll('iframe').length,
    textareas: document.querySelectorAll('textarea').length,
  };
}"""


def expected_texts(passages: str) -> list[str]:
    """What the page must show for each line: the reranker core's own parse (in CPython)."""
    return reranker.parse_passages(passages, "lines").texts


def set_inputs(page: Any, query: str, passages: str) -> None:
    """Put text into the fields the way a paste does (value + input event), NUL and all."""
    page.evaluate("""([q, p]) => {
      for (const [id, v] of [['query', q], ['passages', p]]) {
        const el = document.getElementById(id);
        el.value = v;
        el.dispatchEvent(new Event('input', {bubbles: true}));
      }
      document.querySelector('input[name="mode"][value="lines"]').click();
    }""", [query, passages])


def assert_inert(page: Any, dialogs: list[str]) -> None:
    """Nothing the user typed became markup or ran."""
    probe = page.evaluate(INERT_JS)
    assert probe["pwned"] is None, f"a payload executed: {probe['pwned']}"
    assert probe["injected"] == [] and probe["iframes"] == 0, probe
    assert probe["textareas"] == 3, "a payload added a textarea"  # passages, export preview, Documents' paste box
    assert probe["rowShapes"] == 1, "some rows have a different element structure (markup leaked into one)"
    assert dialogs == []


def test_markup_controls_and_bidi_render_as_inert_text(page: Any, base_url: str) -> None:
    """Every payload is shown as its text, the typed input stays byte-for-byte, nothing executes."""
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    open_page(page, base_url)
    passages = "\n".join(PAYLOADS)
    set_inputs(page, HOSTILE_QUERY, passages)
    run(page)
    final = rows(page)
    assert_final_order(final)
    assert [r["text"] for r in sorted(final, key=lambda r: r["index"])] == expected_texts(passages)
    assert_inert(page, dialogs)
    state = page_state(page)
    assert state["query"] == HOSTILE_QUERY and state["passages"] == passages, "the typed input changed"
    assert "Done:" in state["status"]
    assert page.evaluate("""() => [...document.querySelectorAll('#results .passage-text')].every(
      (p) => p.dir === 'auto' && getComputedStyle(p).unicodeBidi === 'isolate')"""), \
        "bidi overrides must be isolated to their own row (dir=auto, unicode-bidi: isolate)"
    # Exports and share carry the text, as text.
    page.click("#export-markdown")
    page.wait_for_function("() => document.querySelector('#export-preview').value.includes('textarea')")
    page.click("#share")
    page.wait_for_function("() => document.querySelector('#share-url').value.includes('?s=')")
    assert_inert(page, dialogs)


def test_seeded_generated_strings_survive_the_real_page(page: Any, base_url: str) -> None:
    """A fixed sample of generated nasty strings (seed 7): shown exactly as the core parses them, inert."""
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    open_page(page, base_url)
    sample = [visible_text_only(s) for s in generated_strings(seed=7, count=41)]
    query, passages = sample[0], "\n".join(sample[1:])
    set_inputs(page, query, passages)
    run(page)
    final = rows(page)
    assert_final_order(final)
    assert [r["text"] for r in sorted(final, key=lambda r: r["index"])] == expected_texts(passages)
    assert_inert(page, dialogs)
    state = page_state(page)
    assert state["query"] == query and state["passages"] == passages


def test_5000_lines_and_10_mb_get_a_limit_message_and_the_page_stays_responsive(page: Any, base_url: str,
                                                                                 guarded_context: Any) -> None:
    """Too many lines and far too much text: a specific message by the field, no run, input kept, UI alive."""
    open_page(page, base_url)
    lines = "\n".join(f"passage number {i} about tides and moons" for i in range(5_000))
    set_inputs(page, "why two tides a day?", lines)
    page.click("#rerank")
    page.wait_for_function("() => /5,000/.test(document.querySelector('#passages-error').textContent)")
    message = page.inner_text("#passages-error")
    assert "2,000" in message, message
    state = page_state(page)
    assert state["phase"] in ("ready", "done") and state["passages"] == lines

    # 10 MB pasted for real (system clipboard, Ctrl+V) on top of a short list the user already typed.
    kept = "\n".join(lines.split("\n")[:12])
    set_inputs(page, "why two tides a day?", kept)
    guarded_context.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=base_url.rstrip("/"))
    page.evaluate("""() => navigator.clipboard.writeText(
      'tides rise and fall twice a day because of the moon, the sun and the shape of the coast.\\n'
        .repeat(120000).slice(0, 10 * 1024 * 1024))""")
    # First the paste event alone (fails fast if the page has no guard: a 10 MB insert would freeze the tab
    # for minutes, see docs/SECURITY.md), then the real Ctrl+V.
    page.evaluate("""async () => {
      const data = new DataTransfer();
      data.setData('text/plain', await navigator.clipboard.readText());
      document.getElementById('passages').dispatchEvent(
        new ClipboardEvent('paste', {clipboardData: data, bubbles: true, cancelable: true}));
    }""")
    page.wait_for_function("() => /2,000,000/.test(document.querySelector('#passages-error').textContent)",
                           timeout=20_000)
    page.focus("#passages")
    page.keyboard.press("Control+End")
    page.keyboard.press("Control+V")
    assert_ui_responds(page)
    message = page.inner_text("#passages-error")
    assert "2,000,000" in message and re.search(r"10,485,76\d|10\.\d MB|10 MB", message), message
    assert_ui_responds(page)
    assert page.input_value("#passages") == kept, "the refused paste must leave what was typed untouched"
    assert page.evaluate("() => document.documentElement.dataset.phase") in ("ready", "done")
    assert page.locator("#results li.passage").count() == 0, "no run may start on refused input"

    # The kept input runs normally on the same page.
    run(page)
    assert_final_order(rows(page))
    assert page.inner_text("#passages-error") == ""


def test_a_refused_paste_message_outlives_the_live_count_that_follows(page: Any, base_url: str) -> None:
    """5,000 lines get the live count's message; the user cuts them to 12 and at once pastes 2.5 MB more. The
    paste is refused with its own message, and the live count of the 12 lines, finishing after it, keeps it."""
    open_page(page, base_url)
    lines = "\n".join(f"passage number {i} about tides and moons" for i in range(5_000))
    set_inputs(page, "why two tides a day?", lines)
    page.wait_for_function("() => /5,000/.test(document.querySelector('#passages-error').textContent)")
    kept = "\n".join(lines.split("\n")[:12])
    page.evaluate("""(kept) => {
      const field = document.getElementById('passages');
      field.value = kept;
      field.dispatchEvent(new Event('input', {bubbles: true}));
      field.setSelectionRange(kept.length, kept.length);
      const data = new DataTransfer();
      data.setData('text/plain', 'x'.repeat(2_500_000));
      field.dispatchEvent(new ClipboardEvent('paste', {clipboardData: data, bubbles: true, cancelable: true}));
    }""", kept)
    page.wait_for_function("() => /^12 passages/.test(document.querySelector('#counts').textContent)")
    message = page.inner_text("#passages-error")
    assert "2,500,000" in message and "unchanged" in message, message
    assert page.input_value("#passages") == kept
