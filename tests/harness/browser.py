"""Chromium launch options and a browser-context guard that records forbidden traffic and errors."""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from playwright.sync_api import BrowserContext, ConsoleMessage, Error, Request, Route, WebError

BROWSER_ENV = "RERANKER_CHROMIUM"
BROWSER_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}
LOCAL_SCHEMES = {"data", "blob", "about", "chrome-error", "chrome-extension"}


def launch_options() -> dict[str, Any]:
    """Keyword arguments for `playwright.chromium.launch`: headless, the first Chromium on PATH unless
    $RERANKER_CHROMIUM names the binary (empty: Playwright's own download)."""
    executable = os.environ.get(BROWSER_ENV)
    if executable is None:
        executable = next((found for name in BROWSER_NAMES if (found := shutil.which(name))), None)
    options: dict[str, Any] = {"headless": True, "args": list(CHROMIUM_ARGS)}
    if executable:  # empty string: Playwright's own downloaded Chromium
        options["executable_path"] = executable
    return options


def is_local_url(url: str) -> bool:
    """True for URLs that stay on this machine (loopback hosts, data:, blob: and friends)."""
    parts = urlsplit(url)
    if parts.scheme in LOCAL_SCHEMES:
        return True
    return parts.scheme in {"http", "https", "ws", "wss"} and (parts.hostname or "") in LOOPBACK_HOSTS


@dataclass
class GuardedContext:
    """Watches a browser context (pages and workers): non-loopback requests are aborted and recorded,
    console errors and uncaught page errors are recorded."""

    context: BrowserContext
    external_requests: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    console_log: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.context.on("request", self._on_request)
        self.context.on("console", self._on_console)
        self.context.on("weberror", self._on_web_error)
        self.context.route(lambda url: not is_local_url(url), self._abort_external)

    def _on_request(self, request: Request) -> None:
        if not is_local_url(request.url) and request.url not in self.external_requests:
            self.external_requests.append(request.url)

    def _abort_external(self, route: Route) -> None:
        url = route.request.url
        if url not in self.external_requests:
            self.external_requests.append(url)
        try:
            route.abort("blockedbyclient")
        except Error:
            pass  # the page went away meanwhile

    def _on_console(self, message: ConsoleMessage) -> None:
        text = f"[{message.type}] {message.text}"
        location = message.location or {}
        if location.get("url"):
            text += f"  ({location['url']}:{location.get('lineNumber', '?')})"
        self.console_log.append(text)
        if message.type == "error":
            self.console_errors.append(text)

    def _on_web_error(self, error: WebError) -> None:
        self.page_errors.append(str(error.error))

    def problems(self, *, allow_console_errors: bool = False, allowed_patterns: tuple[str, ...] = ()) -> list[str]:
        """Human-readable list of guard violations (empty when the test was clean)."""
        found = [f"request left 127.0.0.1: {url}" for url in self.external_requests]
        if not allow_console_errors:
            errors = [e for e in self.console_errors if not any(re.search(p, e) for p in allowed_patterns)]
            found += [f"console error: {e}" for e in errors]
            found += [f"uncaught page error: {e}" for e in self.page_errors
                      if not any(re.search(p, e) for p in allowed_patterns)]
        return found
