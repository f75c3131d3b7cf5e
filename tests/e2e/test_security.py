"""Content-Security-Policy and Subresource Integrity, tested in real Chromium.

- A full session (preset -> Rerank -> done -> share/export) raises no `securitypolicyviolation`, neither in the
  document nor in the scoring worker; the same recorder, under a deliberately broken policy, does report.
- Every response carries nosniff / Referrer-Policy / Permissions-Policy, in both flavours.
- The --cdn page pins every CDN script, stylesheet and module preload with an SRI hash that matches the
  lockfile's package files in node_modules."""

from __future__ import annotations

import base64
import hashlib
import re
import urllib.request
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Error as PlaywrightError

from harness import start_test_server, wait_for_phase
from harness.faults import CSP_RECORDER
from harness.page import RUN_TIMEOUT_MS, assert_final_order, load_preset, open_page, rows, run
from harness.paths import ROOT

# Wraps `Worker` so violations inside any worker (reported there, not in the document) land in window.__csp too.
WORKER_CSP_BRIDGE = """
(() => {
  const Real = window.Worker;
  window.Worker = class extends Real {
    constructor(...args) {
      super(...args);
      this.addEventListener("message", (e) => {
        if (e.data && e.data.type === "__csp") { e.stopImmediatePropagation(); window.__csp.push(e.data.v); }
      });
    }
  };
})();
"""
WORKER_CSP_LISTENER = """self.addEventListener("securitypolicyviolation", (e) => self.postMessage({type: "__csp", v: {
  directive: e.effectiveDirective, blocked: e.blockedURI, source: e.sourceFile, line: e.lineNumber, worker: true}}));
"""


def record_csp(page: Any) -> None:
    """Record CSP violations of the document and of the scoring worker from the first byte on.

    The worker script is served by the real server with its real headers (so its own CSP applies);
    only the listener is prepended to the body."""
    page.add_init_script(CSP_RECORDER)
    page.add_init_script(WORKER_CSP_BRIDGE)

    def add_listener(route: Any) -> None:
        try:
            response = route.fetch()
        except PlaywrightError:
            return  # the page is closing (a worker restarted during teardown): nothing left to record
        assert "content-security-policy" in response.headers, "the worker script must carry its own CSP"
        route.fulfill(response=response, body=WORKER_CSP_LISTENER + response.text())

    page.route("**/app/scorer-worker.js", add_listener)


def violations(page: Any) -> list[dict[str, Any]]:
    """Violations recorded so far."""
    return page.evaluate("() => window.__csp")


def test_full_session_raises_no_csp_violation(page: Any, base_url: str) -> None:
    """Python, the worker, ORT wasm, a run, share and every export under the enforced policy: zero violations."""
    record_csp(page)
    open_page(page, base_url)
    load_preset(page, "support-router-reset")
    run(page)
    assert_final_order(rows(page))
    page.click("#share")
    page.wait_for_function("() => document.querySelector('#share-url').value.includes('?s=')")
    for fmt in ("json", "markdown", "csv"):
        page.click(f"#export-{fmt}")
        page.wait_for_function("f => document.querySelector('#export-preview').dataset.format === f", arg=fmt)
    page.click("#theme-toggle")
    page.wait_for_timeout(300)
    assert violations(page) == []


@pytest.fixture
def broken_policy_url(build_module: Any, dist_dir: Path, tmp_path: Path) -> Iterator[str]:
    """dist served with the site's headers, except a CSP lacking 'wasm-unsafe-eval' (WebAssembly is refused)."""
    rules = build_module.parse_headers_file((dist_dir / "_headers").read_text(encoding="utf-8"))
    broken = [(pattern, [(n, v.replace(" 'wasm-unsafe-eval'", "") if n == "Content-Security-Policy" else v)
                         for n, v in headers]) for pattern, headers in rules]
    assert broken != rules, "the site's policy should name 'wasm-unsafe-eval'"
    headers = tmp_path / "_headers"
    headers.write_text(build_module.headers_file(broken), encoding="utf-8")
    server, url = start_test_server(dist_dir, headers_path=headers)
    yield url
    server.shutdown()
    server.server_close()


@pytest.mark.allow_console_errors()
def test_recorder_reports_violations_of_a_broken_policy(page: Any, broken_policy_url: str) -> None:
    """Same recorder, policy without 'wasm-unsafe-eval': Pyodide (document) and ORT (worker) are reported."""
    record_csp(page)
    open_page(page, broken_policy_url, wait=None)
    page.wait_for_function(
        "() => window.__csp.some((v) => !v.worker) && window.__csp.some((v) => v.worker)", timeout=RUN_TIMEOUT_MS)
    found = violations(page)
    assert {v["directive"] for v in found} == {"script-src"}, found
    assert any(v["blocked"] == "wasm-eval" for v in found), found
    # The page does not hang silently: the model picker explains the failure.
    wait_for_phase(page, "error", timeout=RUN_TIMEOUT_MS)
    assert page.inner_text("#model-error").strip()


@pytest.mark.parametrize("path", ["", "app/scorer-worker.js", "static/models.json",
                                  "models/minilm-l6-debian-ce/tokenizer.json"])
def test_every_response_carries_the_hardening_headers(base_url: str, path: str) -> None:
    """nosniff, no referrer, sensors/camera/microphone denied, an enforced CSP without eval or inline script."""
    with urllib.request.urlopen(base_url + path, timeout=30) as response:
        got = {k.lower(): v for k, v in response.getheaders()}
    assert got["x-content-type-options"] == "nosniff"
    assert got["referrer-policy"] == "no-referrer"
    for feature in ("camera", "microphone", "geolocation"):
        assert f"{feature}=()" in got["permissions-policy"], got["permissions-policy"]
    csp = got["content-security-policy"]
    assert "content-security-policy-report-only" not in got
    assert "'unsafe-eval'" not in csp and "'unsafe-inline'" not in csp, csp
    assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp, csp


def test_cdn_flavour_headers_file_carries_the_same_hardening(build_variant: Any, build_module: Any) -> None:
    """The static-host `_headers` of the --cdn build has nosniff, Referrer- and Permissions-Policy and a CSP."""
    dist = build_variant("--cdn")
    rules = build_module.parse_headers_file((dist / "_headers").read_text(encoding="utf-8"))
    headers = dict(build_module.headers_for_path(rules, "/index.html"))
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "no-referrer"
    assert "camera=()" in headers["Permissions-Policy"]
    assert "'unsafe-eval'" not in headers["Content-Security-Policy"]


# --------------------------------------------------------------------------- Subresource Integrity (--cdn)


class _Tags(HTMLParser):
    """Collects <script> and <link> start tags with their attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "link"):
            self.tags.append((tag, {k: v or "" for k, v in attrs}))


CDN_NPM = re.compile(r"^https://cdn\.jsdelivr\.net/npm/((?:@[^/@]+/)?[^/@]+)@([^/]+)/(.+)$")
CDN_PYODIDE = re.compile(r"^https://cdn\.jsdelivr\.net/pyodide/v([^/]+)/full/(.+)$")


def node_modules_file(url: str) -> Path:
    """The node_modules file a pinned CDN URL serves (jsDelivr mirrors npm packages file for file)."""
    npm = CDN_NPM.match(url)
    if npm:
        return ROOT / "node_modules" / npm.group(1) / npm.group(3)
    pyodide = CDN_PYODIDE.match(url)
    assert pyodide, f"unexpected CDN URL {url}"
    return ROOT / "node_modules" / "pyodide" / pyodide.group(2)


def sri(path: Path, algorithm: str) -> str:
    """`<algorithm>-<base64 digest>` of a file."""
    return f"{algorithm}-" + base64.b64encode(hashlib.new(algorithm, path.read_bytes()).digest()).decode()


def test_cdn_scripts_styles_and_preloads_carry_matching_integrity(build_variant: Any) -> None:
    """Each CDN <script src>, stylesheet and modulepreload has integrity = hash of the lockfile package file,
    with crossorigin; PyScript's eagerly imported chunks are preloaded with integrity too."""
    dist = build_variant("--cdn")
    parser = _Tags()
    parser.feed((dist / "index.html").read_text(encoding="utf-8"))
    cdn_tags = [(tag, a) for tag, a in parser.tags if (a.get("src") or a.get("href", "")).startswith("https://")]
    assert cdn_tags, "the --cdn page loads nothing from the CDN?"
    covered = set()
    for tag, attrs in cdn_tags:
        url = attrs.get("src") or attrs["href"]
        assert tag == "script" or attrs.get("rel") in ("stylesheet", "modulepreload"), (tag, attrs)
        integrity = attrs.get("integrity", "")
        assert integrity, f"<{tag}> {url} has no integrity attribute"
        assert attrs.get("crossorigin") in ("", "anonymous"), f"<{tag}> {url} needs crossorigin=anonymous for SRI"
        source = node_modules_file(url)
        assert source.is_file(), f"{url} does not correspond to a file in node_modules ({source})"
        algorithm = integrity.split("-", 1)[0]
        assert algorithm in ("sha384", "sha512"), integrity
        assert integrity.split()[0] == sri(source, algorithm), f"integrity of {url} does not match {source}"
        covered.add(url)
    pyscript_dist = ROOT / "node_modules" / "@pyscript" / "core" / "dist"
    import_re = re.compile(r"""(?:\bfrom\s*|\bimport\s*)["']\./([\w.-]+\.js)["']""")
    static_chunks = set(import_re.findall((pyscript_dist / "core.js").read_text(encoding="utf-8")))
    preloaded = {Path(u).name for u in covered if "/@pyscript/core@" in u}
    assert {"core.js", "core.css"} <= preloaded, preloaded
    assert static_chunks <= preloaded, f"PyScript chunks imported by core.js without integrity: {static_chunks - preloaded}"
    # Pyodide's two modules, import()ed by PyScript and by pyodide.mjs, are covered through their preloads.
    assert {"pyodide.mjs", "pyodide.asm.mjs"} <= {Path(u).name for u in covered if "/pyodide/v" in u}, covered


INTEGRITY_JS = """async (tags) => {
  const out = [];
  for (const [url, integrity] of tags) {
    const good = await fetch(url, {integrity}).then((r) => r.ok, () => false);
    const bad = await fetch(url, {integrity: 'sha384-' + btoa('x'.repeat(48))}).then(() => 'accepted', () => 'refused');
    out.push({url, good, bad});
  }
  return out;
}"""


@pytest.mark.allow_console_errors("SRI's integrity checks failed", "valid digest in the 'integrity' attribute")
def test_chromium_verifies_the_integrity_values(page: Any, cdn_mirror: str, build_variant: Any) -> None:
    """Against a loopback jsDelivr mirror, Chromium accepts each file under its build-time hash and refuses
    it under a wrong one (so the attributes really pin the bytes)."""
    dist = build_variant("--cdn", "--cdn-origin", cdn_mirror)
    parser = _Tags()
    parser.feed((dist / "index.html").read_text(encoding="utf-8"))
    tags = [(a.get("src") or a["href"], a["integrity"]) for _, a in parser.tags if a.get("integrity")]
    assert len(tags) >= 3 and all(url.startswith(cdn_mirror) for url, _ in tags), tags
    page.goto(cdn_mirror + "/")
    results = page.evaluate(INTEGRITY_JS, tags)
    assert [r for r in results if not r["good"] or r["bad"] != "refused"] == [], results
