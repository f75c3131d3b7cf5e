"""The served self-contained site: PyScript + vendored Pyodide run, isolation and security headers hold."""

from __future__ import annotations

import json
import re
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from harness.paths import ROOT

PYTHON_READY_TIMEOUT_MS = 120_000
CSP_RECORDER = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", e => window.__cspViolations.push(
  {directive: e.effectiveDirective, blocked: e.blockedURI, source: e.sourceFile, line: e.lineNumber}));
"""


def pyodide_python_minor() -> str:
    """major.minor of the CPython the pinned Pyodide ships (its lock file records it)."""
    lock = json.loads((ROOT / "node_modules" / "pyodide" / "pyodide-lock.json").read_text(encoding="utf-8"))
    return ".".join(lock["info"]["python"].split(".")[:2])


def fetch_headers(url: str) -> dict[str, str]:
    """Status-200 response headers of a GET (lower-cased names)."""
    with urllib.request.urlopen(url, timeout=30) as response:
        assert response.status == 200, url
        return {name.lower(): value for name, value in response.getheaders()}


def wait_for_python_version(page: Any) -> str:
    """Wait until #python-version shows a version number and return the text."""
    locator = page.locator("#python-version")
    page.wait_for_function(
        "() => /\\d+\\.\\d+\\.\\d+/.test(document.querySelector('#python-version')?.textContent ?? '')",
        timeout=PYTHON_READY_TIMEOUT_MS,
    )
    return locator.inner_text()


def test_python_version_from_pyodide_is_shown(page: Any, base_url: str, dist_dir: Path) -> None:
    """The page runs Python under the vendored Pyodide and shows that interpreter's version."""
    page.goto(base_url)
    text = wait_for_python_version(page)
    minor = pyodide_python_minor()
    assert minor == "3.14", "the pinned Pyodide should run Python 3.14"
    match = re.search(rf"(?<![\d.]){re.escape(minor)}\.\d+(?![\d.])", text)
    assert match, f"#python-version shows {text!r}, expected Python {minor}.x"
    # The exact patch version is compiled into the vendored interpreter, so it cannot be a guess.
    wasm = (dist_dir / "vendor" / "pyodide" / "pyodide.asm.wasm").read_bytes()
    assert match.group(0).encode() in wasm, f"{match.group(0)} is not the version inside pyodide.asm.wasm"


def test_page_is_cross_origin_isolated(page: Any, base_url: str) -> None:
    """COOP + COEP give the page SharedArrayBuffer, which threaded ONNX Runtime Web needs."""
    page.goto(base_url)
    assert page.evaluate("() => crossOriginIsolated") is True
    assert page.evaluate("() => typeof SharedArrayBuffer") == "function"


def test_full_load_has_no_csp_violation(page: Any, base_url: str) -> None:
    """Loading the page up to a running Python triggers no Content-Security-Policy violation."""
    page.add_init_script(CSP_RECORDER)
    page.goto(base_url)
    wait_for_python_version(page)
    page.wait_for_load_state("networkidle")
    assert page.evaluate("() => window.__cspViolations") == []


@pytest.mark.allow_console_errors("Content Security Policy", "CSP violation: script-src-elem blocked 'inline'")
def test_csp_is_enforced_not_report_only(page: Any, base_url: str, csp_reports: list[dict[str, Any]]) -> None:
    """An injected inline script is blocked and reported, proving the policy is enforced."""
    page.add_init_script(CSP_RECORDER)
    page.goto(base_url)
    ran = page.evaluate(
        """() => new Promise(resolve => {
             window.__injected = false;
             const s = document.createElement("script");
             s.textContent = "window.__injected = true";
             document.body.append(s);
             setTimeout(() => resolve(window.__injected), 200);
           })"""
    )
    assert ran is False
    violations = page.evaluate("() => window.__cspViolations")
    assert any(v["directive"] == "script-src-elem" for v in violations), violations
    page.wait_for_timeout(200)
    assert any(r.get("blocked-uri") == "inline" for r in csp_reports), "the harness must receive the report"


def csp_directives(policy: str) -> dict[str, list[str]]:
    """Parse a CSP header value into {directive: [sources]}."""
    parsed = {}
    for part in policy.split(";"):
        if part.strip():
            name, *sources = part.split()
            parsed[name] = sources
    return parsed


@pytest.mark.parametrize("path", ["", "index.html", "app/runtime.js", "vendor/pyodide/pyodide.asm.wasm",
                                  "vendor/ort/ort-wasm-simd-threaded.jsep.mjs"])
def test_served_headers_are_the_build_headers_file(
    serve_directory: Any, dist_dir: Path, build_module: Any, path: str
) -> None:
    """Responses carry exactly the isolation and security headers dist/_headers lists for that path."""
    base_url = serve_directory(dist_dir, report_csp=False)  # exactly what `build.py serve` sends
    rules = build_module.parse_headers_file((dist_dir / "_headers").read_text(encoding="utf-8"))
    expected = {name.lower(): value for name, value in build_module.headers_for_path(rules, "/" + path)}
    got = fetch_headers(base_url + path)
    assert expected["cross-origin-opener-policy"] == "same-origin"
    assert expected["cross-origin-embedder-policy"] == "require-corp"
    assert expected["cross-origin-resource-policy"] == "same-origin"
    assert expected["x-content-type-options"] == "nosniff"
    assert expected["referrer-policy"] == "no-referrer"
    assert "camera=()" in expected["permissions-policy"]
    for name, value in expected.items():
        assert got.get(name) == value, f"/{path}: {name}"


def test_csp_is_tight(dist_dir: Path, build_module: Any) -> None:
    """The policy allows no inline script, no eval and no foreign script origin, for the page and its workers."""
    rules = build_module.parse_headers_file((dist_dir / "_headers").read_text(encoding="utf-8"))

    def policy(path: str) -> dict[str, list[str]]:
        values = [v for n, v in build_module.headers_for_path(rules, path) if n == "Content-Security-Policy"]
        assert len(values) == 1, f"{path} must get exactly one policy, got {values}"
        return csp_directives(values[0])

    page = policy("/")
    assert page == policy("/index.html") == policy("/app/scorer-worker.js") == policy("/vendor/ort/x.mjs")
    assert page["script-src"] == ["'self'", "'wasm-unsafe-eval'"], "no inline script, no eval, no foreign origin"
    assert page["worker-src"] == ["'self'"] and page["object-src"] == ["'none'"]
    assert page["default-src"] == ["'self'"] and page["style-src"] == ["'self'"]
    assert page["connect-src"][0] == "'self'"
    assert all(src.startswith("https://") for src in page["connect-src"][1:]), "only the model hub may be contacted"


@pytest.mark.parametrize(
    ("path", "mime"),
    [
        ("vendor/pyodide/pyodide.asm.wasm", "application/wasm"),
        ("vendor/ort/ort-wasm-simd-threaded.jsep.wasm", "application/wasm"),
        ("vendor/pyodide/pyodide.mjs", "text/javascript"),
        ("vendor/pyscript/core.js", "text/javascript"),
        ("vendor/pyodide/pyodide-lock.json", "application/json"),
        ("vendor/pyodide/python_stdlib.zip", "application/zip"),
        ("vendor/pyscript/core.css", "text/css"),
        ("", "text/html"),
    ],
)
def test_mime_types(base_url: str, path: str, mime: str) -> None:
    """Browsers refuse streaming wasm compilation and module scripts without the right MIME type."""
    assert fetch_headers(base_url + path)["content-type"].split(";")[0] == mime


def test_page_requests_resolve_without_missing_files(page: Any, base_url: str) -> None:
    """Every request the page makes while booting Python succeeds (no vendored file is missing)."""
    failures: list[str] = []
    page.on("response", lambda r: failures.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    page.on("requestfailed", lambda r: failures.append(f"failed {r.url}: {r.failure}"))
    page.goto(base_url)
    wait_for_python_version(page)
    page.wait_for_load_state("networkidle")
    assert failures == []


def test_harness_guard_catches_leaks_errors_and_worker_csp_violations(
    guarded_context: Any, serve_directory: Any, tmp_path: Path, csp_reports: list[dict[str, Any]]
) -> None:
    """The guard every e2e test relies on really sees an outside request, a console error and a CSP
    violation inside a worker (which no page-level listener can observe)."""
    (tmp_path / "_headers").write_text(
        "/*\n  Content-Security-Policy: default-src 'self'; img-src data:; connect-src 'self' https://example.invalid\n"
        "  Cross-Origin-Opener-Policy: same-origin\n  Cross-Origin-Embedder-Policy: require-corp\n"
    )
    (tmp_path / "index.html").write_text('<!doctype html><link rel="icon" href="data:,">'
                                         '<script type="module" src="main.js"></script>')
    (tmp_path / "main.js").write_text(
        'console.error("deliberate console error");\n'
        'fetch("https://example.invalid/leak").catch(() => {});\n'
        'new Worker("worker.js", {type: "module"});\n'
    )
    (tmp_path / "worker.js").write_text(  # not allowed: connect-src has no other loopback port
        'fetch("http://localhost:9/elsewhere").catch(() => postMessage("blocked"));\n'
    )
    before = len(csp_reports)
    page = guarded_context.context.new_page()
    page.goto(serve_directory(tmp_path))
    page.wait_for_function("() => true")
    page.wait_for_timeout(1500)
    problems = guarded_context.problems()
    assert "request left 127.0.0.1: https://example.invalid/leak" in problems
    assert any("deliberate console error" in p for p in problems)
    worker_reports = [r for r in csp_reports[before:] if r.get("source-file", "").endswith("/worker.js")]
    assert worker_reports and worker_reports[0]["blocked-uri"].startswith("http://localhost:9"), csp_reports[before:]
    guarded_context.external_requests.clear()  # the deliberate faults must not leak into other tests
