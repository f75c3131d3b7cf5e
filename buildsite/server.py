"""The loopback server of `build.py serve`: a built site with its `_headers` on every response, its MIME types, no cache.

Tests and benchmarks reuse it (tests/harness/server.py adds the test-only hooks by subclassing SiteHandler).
"""

from __future__ import annotations

import http.server
import os
import sys
import threading
from pathlib import Path

from .headers import HeaderRules, headers_for_path, parse_headers_file

MIME_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".wasm": "application/wasm",
    ".onnx": "application/octet-stream",
    ".bin": "application/octet-stream",
    ".data": "application/octet-stream",
    ".zip": "application/zip",
    ".whl": "application/zip",
    ".py": "text/x-python; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".md": "text/markdown; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".webp": "image/webp",
    ".woff2": "font/woff2",
    ".map": "application/json",
    ".webmanifest": "application/manifest+json",
}


class QuietThreadingHTTPServer(http.server.ThreadingHTTPServer):
    """ThreadingHTTPServer that ignores clients hanging up mid-response."""

    daemon_threads = True

    def handle_error(self, request, client_address) -> None:  # noqa: ANN001 - stdlib signature
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, TimeoutError)):
            return
        super().handle_error(request, client_address)


class SiteHandler(http.server.SimpleHTTPRequestHandler):
    """Serves `site_dir` with the rules of `headers_path` (a `_headers` file) on every response, plus no-cache.

    Use make_handler() for a class bound to a directory; subclasses may extend response_headers()."""

    extensions_map = {**http.server.SimpleHTTPRequestHandler.extensions_map, **MIME_TYPES, "": "application/octet-stream"}
    site_dir: Path = Path(".")
    headers_path: Path | None = None

    def __init__(self, *args, **kwargs) -> None:  # noqa: ANN002, ANN003
        super().__init__(*args, directory=str(self.site_dir), **kwargs)

    def header_rules(self) -> HeaderRules:
        """The `_headers` rules, read on every request (a rebuild takes effect without a restart)."""
        try:
            return parse_headers_file(self.headers_path.read_text(encoding="utf-8")) if self.headers_path else []
        except FileNotFoundError:
            return []

    def response_headers(self, url_path: str) -> list[tuple[str, str]]:
        """Headers for a response to `url_path` (before Cache-Control)."""
        return headers_for_path(self.header_rules(), url_path)

    def end_headers(self) -> None:
        url_path = self.path.split("?", 1)[0].split("#", 1)[0]
        for name, value in self.response_headers(url_path):
            self.send_header(name, value)
        self.send_header("Cache-Control", "no-cache")
        super().end_headers()

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib signature
        if os.environ.get("RERANKER_SERVER_LOG"):
            super().log_message(format, *args)


def make_handler(directory: Path) -> type[SiteHandler]:
    """A SiteHandler class serving `directory` with its own `_headers` file."""
    directory = Path(directory).absolute()

    class Handler(SiteHandler):
        site_dir = directory
        headers_path = directory / "_headers"

    return Handler


def start_server(
    directory: Path,
    port: int = 0,
    *,
    host: str = "127.0.0.1",
    handler: type[http.server.BaseHTTPRequestHandler] | None = None,
) -> tuple[QuietThreadingHTTPServer, str]:
    """Serve `directory` (with `handler`, default make_handler's) in a background thread; return server and base URL."""
    server = QuietThreadingHTTPServer((host, port), handler or make_handler(directory))
    thread = threading.Thread(target=server.serve_forever, name=f"http-{server.server_address[1]}", daemon=True)
    thread.start()
    return server, f"http://{host}:{server.server_address[1]}/"
