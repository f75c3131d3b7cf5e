"""Fault helpers for the reliability and security tests: routes that serve broken things, page-state probes,
a CSP violation recorder and generated hostile strings."""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from typing import Any
from urllib.request import urlopen

from .browser import GuardedContext
from .helpers import wait_for_phase
from .page import RUN_TIMEOUT_MS, rows

# Installed with add_init_script before any page script: records every CSP violation the document sees.
CSP_RECORDER = """
(() => {
  window.__csp = [];
  document.addEventListener("securitypolicyviolation", (e) => window.__csp.push({
    directive: e.effectiveDirective, blocked: e.blockedURI, source: e.sourceFile, line: e.lineNumber,
    disposition: e.disposition}));
})();
"""

# Appended to app/scorer-worker.js to make the worker throw an uncaught error after it posted `n` results.
CRASH_AFTER_RESULTS = """
;(() => {
  const realPost = self.postMessage.bind(self);
  let results = 0;
  self.postMessage = (msg, ...rest) => {
    realPost(msg, ...rest);
    if (msg && msg.type === "result" && ++results === %d) {
      setTimeout(() => { throw new Error("injected worker crash (test)"); }, 0);
      self.onmessage = () => {};  // the crashed worker never answers again
    }
  };
})();
"""


def fetch_text(url: str) -> str:
    """GET a file from the test server."""
    with urlopen(url, timeout=30) as response:
        return response.read().decode("utf-8")


def fetch_bytes(url: str) -> bytes:
    """GET a file from the test server as bytes."""
    with urlopen(url, timeout=60) as response:
        return response.read()


def fulfil_with(body: bytes | str, *, status: int = 200, content_type: str = "application/octet-stream",
                headers: dict[str, str] | None = None) -> Callable[[Any], None]:
    """A route handler answering every request with `body` (and the isolation headers the page needs)."""
    data = body.encode("utf-8") if isinstance(body, str) else body
    all_headers = {"Content-Type": content_type, "Cross-Origin-Resource-Policy": "same-origin",
                   "Cross-Origin-Embedder-Policy": "require-corp", "Cache-Control": "no-store", **(headers or {})}

    def handler(route: Any) -> None:
        route.fulfill(status=status, body=data, headers=all_headers)

    return handler


def page_state(page: Any) -> dict[str, Any]:
    """Phase, status line, every visible field error, and the typed inputs."""
    return page.evaluate("""() => ({
      phase: document.documentElement.dataset.phase,
      status: document.querySelector('#status').textContent.trim(),
      errors: Object.fromEntries([...document.querySelectorAll('.field-error')]
        .filter((e) => e.textContent.trim()).map((e) => [e.id, e.textContent.trim()])),
      query: document.querySelector('#query').value,
      passages: document.querySelector('#passages').value,
      rerankDisabled: document.querySelector('#rerank').disabled,
    })""")


def wait_for_message(page: Any, pattern: str, timeout: float = 90_000) -> dict[str, Any]:
    """Wait until a field error or the status line matches the regex `pattern`; return the page state."""
    try:
        page.wait_for_function(
            """(re) => { const r = new RegExp(re, 'i');
              return [...document.querySelectorAll('.field-error, #status')].some((e) => r.test(e.textContent)); }""",
            arg=pattern, timeout=timeout)
    except Exception as exc:  # noqa: BLE001 - re-raised with what the page shows
        raise AssertionError(f"no message matching /{pattern}/ appeared; page shows {page_state(page)}") from exc
    return page_state(page)


def assert_ui_responds(page: Any) -> None:
    """The page still reacts to input: a theme toggle click flips aria-pressed within a few seconds."""
    before = page.get_attribute("#theme-toggle", "aria-pressed")
    page.click("#theme-toggle", timeout=10_000)
    page.wait_for_function("b => document.querySelector('#theme-toggle').getAttribute('aria-pressed') !== b",
                           arg=before, timeout=10_000)
    page.click("#theme-toggle", timeout=10_000)


def assert_scores_consistent(page: Any, threshold: float = 0.5) -> list[dict[str, Any]]:
    """Final order is a recomputation from data-score: all scored, ranks 1..n, scores descending, sunk last."""
    final = rows(page)
    assert final and all(r["state"] == "scored" for r in final), final
    assert [r["rank"] for r in final] == list(range(1, len(final) + 1))
    scores = [r["score"] for r in final]
    assert scores == sorted(scores, reverse=True), f"stale order: {scores}"
    assert all(r["sunk"] == (r["score"] < threshold) for r in final), final
    return final


def fresh_guard(browser: Any) -> GuardedContext:
    """A second guarded context (for tests that inspect the guard itself instead of failing on it)."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(30_000)
    return GuardedContext(context)


def generated_strings(seed: int, count: int) -> list[str]:
    """A fixed, seeded sample of nasty strings: markup, entities, controls, bidi, astral, long runs."""
    rng = random.Random(seed)
    atoms = ["<script>window.__pwned=7</script>", "<img src=x onerror=window.__pwned=8>", "javascript:void(0)",
             "&amp;", "&#60;b&#62;", "</textarea>", "\x00", "\x07", "\x1b[31m", "\u202e", "\u2066", "\u200b",
             "\ufeff", "😀", "👨‍👩‍👧", "東京", "مرحبا", "שלום", "\t", "|", '"', "'", "`", "${x}", "{{x}}", "%s",
             "\\", "=cmd|' /C calc'!A0", "\u0301", "Ω", "\U0001F600" * 3]
    words = ["tide", "moon", "router", "lease", "boots", "python", "list", "reverse", "the", "a"]
    out = []
    for _ in range(count):
        parts = [rng.choice(atoms) if rng.random() < 0.45 else rng.choice(words) for _ in range(rng.randint(2, 9))]
        text = " ".join(parts)
        out.append(text)
    return out


def visible_text_only(text: str) -> str:
    """What a textarea line can hold: newline-free (the page splits lines on \\n and \\r)."""
    return re.sub(r"[\r\n\u2028\u2029\x0b\x0c\x1c\x1d\x1e\x85]", " ", text)


def ready(page: Any) -> None:
    """Wait until Python and the model are ready."""
    wait_for_phase(page, ("ready", "done"), timeout=RUN_TIMEOUT_MS)
