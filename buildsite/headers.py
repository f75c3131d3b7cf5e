"""Response headers: the enforced Content-Security-Policy, isolation and hardening headers, and the `_headers` file.

One source for dist/_headers (static hosts), `build.py serve` and the test server (which reads the file back).
"""

from __future__ import annotations

import re

from .urls import hub_connect_sources

HeaderRules = list[tuple[str, list[tuple[str, str]]]]


def content_security_policy(cdn_origin: str | None, hub_host: str) -> str:
    """The enforced CSP: exactly what PyScript, Pyodide and ONNX Runtime Web need (reasons in README.md).

    No 'unsafe-eval': PyScript 0.7.31 would need it for its worker hooks, which app/pyscript-csp.js clears
    because the page runs no PyScript workers."""
    cdn = [cdn_origin] if cdn_origin else []
    # Cross-origin ORT scripts cannot start workers directly; ORT copies them into blob: URLs.
    blob = ["blob:"] if cdn_origin else []
    directives = {
        "default-src": ["'self'"],
        "script-src": ["'self'", "'wasm-unsafe-eval'", *cdn, *blob],
        "style-src": ["'self'", *cdn],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'", *cdn, *hub_connect_sources(hub_host)],
        "worker-src": ["'self'", *blob],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'none'"],
        "frame-ancestors": ["'none'"],
    }
    return "; ".join(f"{name} {' '.join(values)}" for name, values in directives.items())


def security_headers(cdn_origin: str | None, hub_host: str) -> dict[str, str]:
    """Headers every response carries (dist/_headers, build.py serve and the test server)."""
    return {
        "Cross-Origin-Opener-Policy": "same-origin",
        "Cross-Origin-Embedder-Policy": "require-corp",
        "Cross-Origin-Resource-Policy": "same-origin",
        "Content-Security-Policy": content_security_policy(cdn_origin, hub_host),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=(), "
        "accelerometer=(), gyroscope=(), magnetometer=()",
    }


def header_rules(cdn_origin: str | None, hub_host: str) -> HeaderRules:
    """`_headers` rules: every header on every path."""
    return [("/*", list(security_headers(cdn_origin, hub_host).items()))]


def headers_file(rules: HeaderRules) -> str:
    """Netlify / Cloudflare Pages `_headers` text."""
    return "".join(f"{pattern}\n" + "".join(f"  {n}: {v}\n" for n, v in headers) for pattern, headers in rules)


def parse_headers_file(text: str) -> HeaderRules:
    """Parse a `_headers` file into [(path pattern, [(name, value), ...]), ...]."""
    rules: HeaderRules = []
    for raw in text.splitlines():
        if not raw.strip() or raw.lstrip().startswith("#"):
            continue
        if not raw[0].isspace():
            rules.append((raw.strip(), []))
        elif rules and ":" in raw:
            name, value = raw.strip().split(":", 1)
            rules[-1][1].append((name.strip(), value.strip()))
    return rules


def headers_for_path(rules: HeaderRules, url_path: str) -> list[tuple[str, str]]:
    """Headers of every `_headers` rule whose pattern matches url_path (`*` matches anything)."""
    result = []
    for pattern, headers in rules:
        regex = "^" + ".*".join(re.escape(part) for part in pattern.split("*")) + "$"
        if re.match(regex, url_path):
            result.extend(headers)
    return result
