"""Small helpers for end-to-end tests."""

from __future__ import annotations

import re

from playwright.sync_api import Page
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from .paths import ARTIFACTS


def wait_for_phase(page: Page, phase: str | tuple[str, ...], timeout: float = 120_000) -> str:
    """Wait until `document.documentElement.dataset.phase` is `phase` (or one of them); return it.

    On timeout, fails with the phase and #status text the page actually shows."""
    phases = [phase] if isinstance(phase, str) else list(phase)
    try:
        page.wait_for_function(
            "phases => phases.includes(document.documentElement.dataset.phase)", arg=phases, timeout=timeout
        )
    except PlaywrightTimeoutError:
        state = page.evaluate(
            "() => ({phase: document.documentElement.dataset.phase ?? null,"
            " status: document.querySelector('#status')?.textContent?.trim() ?? null})"
        )
        raise AssertionError(
            f"page never reached phase {phases} within {timeout / 1000:.0f}s: "
            f"phase={state['phase']!r}, #status={state['status']!r}"
        ) from None
    return page.evaluate("() => document.documentElement.dataset.phase")


def save_screenshot(page: Page, name: str, *, full_page: bool = True) -> str:
    """Save a PNG of the page to test-artifacts/<name>.png and return its path."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("_") or "screenshot"
    path = ARTIFACTS / f"{safe}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return str(path)
