"""The test server: `build.py serve`'s handler plus test-only hooks (CSP reports, fault injection, CORS, headers file)."""

from __future__ import annotations

import http.server
import json
from pathlib import Path
from typing import Any, Callable, Mapping

from .paths import load_buildsite

CSP_REPORT_PATH = "/__csp-report"


def make_test_handler(
    directory: Path,
    *,
    headers_path: Path | None = None,
    extra_headers: Mapping[str, str] | None = None,
    intercept: Callable[[http.server.BaseHTTPRequestHandler], bool] | None = None,
    csp_reports: list[dict[str, object]] | None = None,
) -> type[http.server.BaseHTTPRequestHandler]:
    """buildsite's handler for `directory` (what `build.py serve` sends), with hooks: `headers_path` replaces the
    directory's `_headers`; `extra_headers` go on every response; OPTIONS (a CORS preflight) gets a 204;
    `intercept(handler)` may answer a request itself (return True), e.g. to inject faults; `csp_reports`: CSP headers gain
    `report-uri /__csp-report` and every violation report the browser posts there - from the page and from its
    workers - is appended to this list."""
    base: Any = load_buildsite().make_handler(directory)
    extra = dict(extra_headers or {})

    class TestHandler(base):  # type: ignore[misc, valid-type]
        def response_headers(self, url_path: str) -> list[tuple[str, str]]:
            headers = super().response_headers(url_path)
            if csp_reports is not None:
                headers = [(n, f"{v}; report-uri {CSP_REPORT_PATH}" if n.lower() == "content-security-policy" else v)
                           for n, v in headers]
            return headers + list(extra.items())

        def do_GET(self) -> None:
            if intercept is not None and intercept(self):
                return
            super().do_GET()

        def do_HEAD(self) -> None:
            if intercept is not None and intercept(self):
                return
            super().do_HEAD()

        def do_POST(self) -> None:
            if csp_reports is None or self.path != CSP_REPORT_PATH:
                self.send_error(405)
                return
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            try:
                report = json.loads(body or b"{}")
            except ValueError:
                report = {"unparsed": body.decode("utf-8", "replace")}
            csp_reports.append(report.get("csp-report", report) if isinstance(report, dict) else {"report": report})
            self.send_response(204)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def do_OPTIONS(self) -> None:
            self.send_response(204)
            self.send_header("Access-Control-Allow-Methods", "GET, HEAD, OPTIONS")
            self.send_header("Access-Control-Allow-Headers", "*")
            self.send_header("Content-Length", "0")
            self.end_headers()

    if headers_path is not None:
        TestHandler.headers_path = headers_path
    return TestHandler


def start_test_server(directory: Path, **hooks: Any) -> tuple[Any, str]:
    """Serve `directory` with make_test_handler(directory, **hooks) on a free loopback port; (server, base URL)."""
    return load_buildsite().start_server(directory, handler=make_test_handler(directory, **hooks))
