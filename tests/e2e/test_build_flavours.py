"""build.py flavours and failure modes: pinned CDN URLs, a fully local default build, clear errors."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from harness.paths import ROOT, lockfile_versions

CDN_NPM_URL = re.compile(r"https://cdn\.jsdelivr\.net/npm/((?:@[\w.-]+/)?[\w.-]+)@([^/\"'\s]+)/")
CDN_PYODIDE_URL = re.compile(r"https://cdn\.jsdelivr\.net/pyodide/v([^/\"'\s]+)/full/")
ANY_URL = re.compile(r"""(?:https?:)?//[A-Za-z0-9.-]+""")


def runtime_object(dist: Path) -> dict[str, Any]:
    """RUNTIME from dist/app/runtime.js (a frozen JSON object literal)."""
    source = (dist / "app" / "runtime.js").read_text(encoding="utf-8")
    match = re.search(r"export const RUNTIME = Object\.freeze\((\{.*\})\);", source, re.S)
    assert match, source
    return json.loads(match.group(1))


def page_csp(dist: Path, build_module: Any) -> str:
    """The Content-Security-Policy dist/_headers gives the page."""
    rules = build_module.parse_headers_file((dist / "_headers").read_text(encoding="utf-8"))
    return next(v for n, v in build_module.headers_for_path(rules, "/") if n == "Content-Security-Policy")


def test_cdn_build_pins_exactly_the_lockfile_versions(build_variant: Any, build_module: Any) -> None:
    """Every runtime URL of the --cdn build names the version package-lock.json pins, nothing is vendored."""
    dist = build_variant("--cdn")
    locked = lockfile_versions()
    html = (dist / "index.html").read_text(encoding="utf-8")
    runtime = runtime_object(dist)
    assert "vendor/" not in html, "the --cdn page must not reference vendored files"
    assert not (dist / "vendor").exists()

    found: dict[str, str] = {}
    for text in (html, runtime["pyodide"], runtime["transformers"], runtime["ortWasmPaths"]):
        for package, version in CDN_NPM_URL.findall(text):
            found[package] = version
        for version in CDN_PYODIDE_URL.findall(text):
            found["pyodide"] = version
    assert found == {
        "@pyscript/core": locked["@pyscript/core"],
        "pyodide": locked["pyodide"],
        "@huggingface/transformers": locked["@huggingface/transformers"],
        "onnxruntime-web": locked["onnxruntime-web"],
    }
    assert '"interpreter": "app/pyodide-boot.js"' in html, "PyScript starts Pyodide through the page's loader"
    assert re.fullmatch(r"https://cdn\.jsdelivr\.net/pyodide/v[^/]+/full/pyodide\.mjs", runtime["pyodide"]), runtime
    assert runtime["flavour"] == "cdn"
    assert runtime["versions"] == {
        "pyodide": locked["pyodide"], "pyscript": locked["@pyscript/core"],
        "transformers": locked["@huggingface/transformers"], "ort": locked["onnxruntime-web"],
    }
    csp = page_csp(dist, build_module)
    assert "https://cdn.jsdelivr.net" in csp and "script-src 'self' 'wasm-unsafe-eval' https://cdn.jsdelivr.net blob:;" in csp


def test_vendored_runtimes_are_the_lockfile_packages(dist_dir: Path) -> None:
    """The self-contained build ships byte-identical copies of the installed lockfile versions."""
    locked = lockfile_versions()
    for package in ("pyodide", "@pyscript/core", "@huggingface/transformers", "onnxruntime-web"):
        meta = json.loads((ROOT / "node_modules" / package / "package.json").read_text(encoding="utf-8"))
        assert meta["version"] == locked[package], f"node_modules/{package} is not the locked version"
    pairs = {
        "vendor/pyodide/pyodide.asm.wasm": "pyodide/pyodide.asm.wasm",
        "vendor/pyscript/core.js": "@pyscript/core/dist/core.js",
        "vendor/transformers/transformers.min.js": "@huggingface/transformers/dist/transformers.min.js",
        "vendor/ort/ort-wasm-simd-threaded.wasm": "onnxruntime-web/dist/ort-wasm-simd-threaded.wasm",
        "vendor/ort/ort-wasm-simd-threaded.jsep.wasm": "onnxruntime-web/dist/ort-wasm-simd-threaded.jsep.wasm",
        "vendor/ort/ort-wasm-simd-threaded.asyncify.mjs": "onnxruntime-web/dist/ort-wasm-simd-threaded.asyncify.mjs",
    }
    for built, source in pairs.items():
        assert (dist_dir / built).read_bytes() == (ROOT / "node_modules" / source).read_bytes(), built
    assert not list((dist_dir / "vendor" / "pyscript").glob("codemirror*")), "editor chunks are not needed"


def test_self_contained_build_references_no_external_url(dist_dir: Path, build_module: Any) -> None:
    """index.html and RUNTIME use only relative URLs; the policy names no foreign origin except the model hub."""
    html = (dist_dir / "index.html").read_text(encoding="utf-8")
    assert ANY_URL.findall(html) == [], "index.html must not reference another host"
    runtime = runtime_object(dist_dir)
    assert runtime["flavour"] == "self-contained"
    for key in ("transformers", "ortWasmPaths", "bundledModelsPath"):
        assert runtime[key].startswith("../"), f"RUNTIME.{key} = {runtime[key]!r}"
    for key in ("transformers", "ortWasmPaths"):
        assert (dist_dir / "app" / runtime[key]).exists(), f"RUNTIME.{key} points at a missing file"
    csp = page_csp(dist_dir, build_module)
    hub = runtime["remoteHost"].rstrip("/")
    foreign = {src for src in csp.replace(";", " ").split() if "://" in src}
    assert foreign and all(src == hub or src.endswith((".huggingface.co", ".hf.co")) for src in foreign), foreign
    for script in sorted((dist_dir / "app").glob("*.js")):
        if script.name != "runtime.js":
            urls = [u for u in re.findall(r"https?://[^\s\"'`)]+", script.read_text(encoding="utf-8"))
                    if not u.startswith("http://www.w3.org/")]  # XML namespace names, never fetched
            assert urls == [], f"app/{script.name} hard-codes {urls}; runtime URLs belong in app/runtime.js"
    for ref in re.findall(r"""(?:src|href)=["']([^"'#]+)["']""", html):
        if not ref.startswith("data:"):
            assert (dist_dir / ref.split("?")[0]).is_file(), f"index.html references missing {ref}"


def test_hub_host_flag_sets_runtime_and_policy(build_variant: Any, build_module: Any) -> None:
    """--hub-host points model downloads (RUNTIME.remoteHost and connect-src) at a self-hosted mirror."""
    dist = build_variant("--hub-host", "http://127.0.0.1:9/mirror")
    assert runtime_object(dist)["remoteHost"] == "http://127.0.0.1:9/mirror/"
    csp = page_csp(dist, build_module)
    connect = next(d for d in csp.split(";") if d.strip().startswith("connect-src")).split()
    assert connect == ["connect-src", "'self'", "http://127.0.0.1:9"]
    assert "huggingface" not in csp


def test_runtime_carries_the_input_limits_in_both_flavours(dist_dir: Path, build_variant: Any) -> None:
    """RUNTIME.limits holds py/reranker/limits.py's constants by name, so the page never copies them by hand."""
    for dist in (dist_dir, build_variant("--cdn")):
        limits = runtime_object(dist)["limits"]
        assert limits["MAX_TOTAL_CHARS"] == 2_000_000 and limits["MAX_PASSAGES"] == 2_000, limits


def test_bad_hub_host_is_rejected_with_a_clear_line(tmp_path: Path) -> None:
    """A hub host that is not an http(s) URL fails before anything is written."""
    proc = subprocess.run([sys.executable, str(ROOT / "build.py"), "build", "--out", str(tmp_path / "d"),
                           "--hub-host", "ftp://mirror"], capture_output=True, text=True, timeout=120)
    assert proc.returncode != 0
    assert proc.stderr.strip().count("\n") == 0 and "--hub-host" in proc.stderr
    assert not (tmp_path / "d").exists()


def scratch_checkout(tmp_path: Path, *, with_page: bool = True) -> Path:
    """A minimal copy of the project without node_modules (build.py and its buildsite package, lockfile, page)."""
    work = tmp_path / "checkout"
    work.mkdir()
    for name in ("build.py", "package.json", "package-lock.json"):
        shutil.copy2(ROOT / name, work / name)
    shutil.copytree(ROOT / "buildsite", work / "buildsite", ignore=shutil.ignore_patterns("__pycache__"))
    if with_page:
        (work / "index.html").write_text(
            '<link rel="stylesheet" href="vendor/pyscript/core.css">'
            '<script type="module" src="vendor/pyscript/core.js"></script>'
            """<script type="py" config='{"interpreter": "vendor/pyodide/pyodide.mjs"}'></script>""",
            encoding="utf-8",
        )
    return work


def run_build(work: Path, env_path: str) -> subprocess.CompletedProcess[str]:
    """Run `build.py build` in a scratch checkout with the given PATH."""
    env = {**os.environ, "PATH": env_path}
    return subprocess.run([sys.executable, str(work / "build.py"), "build"], cwd=work, env=env,
                          capture_output=True, text=True, timeout=120)


def test_build_without_npm_says_what_to_install(tmp_path: Path) -> None:
    """No node_modules and no npm on PATH: exit non-zero with one line naming npm."""
    work = scratch_checkout(tmp_path)
    empty_bin = tmp_path / "bin"
    empty_bin.mkdir()
    proc = run_build(work, str(empty_bin))
    assert proc.returncode != 0
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "npm" in lines[0] and "install" in lines[0], proc.stderr
    assert not (work / "dist").exists()


def test_build_with_failing_npm_reports_the_failure(tmp_path: Path) -> None:
    """npm present but failing (e.g. no network): exit non-zero with one line quoting npm's error."""
    work = scratch_checkout(tmp_path)
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    fake_npm = fake_bin / "npm"
    fake_npm.write_text("#!/bin/sh\necho 'npm error code ENOTFOUND registry unreachable' >&2\nexit 1\n")
    fake_npm.chmod(0o755)
    proc = run_build(work, f"{fake_bin}:/usr/bin:/bin")
    assert proc.returncode != 0
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "npm ci failed" in lines[0] and "ENOTFOUND" in lines[0], proc.stderr


def test_build_without_page_fails_clearly(tmp_path: Path) -> None:
    """A checkout without index.html is refused with one line naming the file."""
    work = scratch_checkout(tmp_path, with_page=False)
    proc = run_build(work, os.environ.get("PATH", ""))
    assert proc.returncode != 0
    assert len(proc.stderr.strip().splitlines()) == 1 and "index.html" in proc.stderr


def test_serve_on_busy_port_suggests_another(dist_dir: Path) -> None:
    """`build.py serve` on a taken port prints one line suggesting --port and exits non-zero."""
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        proc = subprocess.run(
            [sys.executable, str(ROOT / "build.py"), "serve", "--no-build", "--out", str(dist_dir), "--port", str(port)],
            capture_output=True, text=True, timeout=60,
        )
    assert proc.returncode != 0
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "--port" in lines[0] and str(port) in lines[0], proc.stderr


def test_serve_prints_url_serves_and_stops_on_ctrl_c(dist_dir: Path) -> None:
    """`build.py serve` prints its URL, serves the page with isolation headers, and exits 0 on Ctrl-C."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "build.py"), "serve", "--no-build", "--out", str(dist_dir), "--port", str(port)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        line = proc.stdout.readline() if proc.stdout else ""
        url = f"http://127.0.0.1:{port}/"
        assert url in line, line
        with urllib.request.urlopen(url, timeout=30) as response:
            assert response.headers["Cross-Origin-Embedder-Policy"] == "require-corp"
            assert b"vendor/pyscript/core.js" in response.read()
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.stderr is not None and "Traceback" not in proc.stderr.read()


def test_cdn_flavour_boots_python_from_the_pinned_cdn_paths(
    page: Any, cdn_mirror: str, build_variant: Any, serve_directory: Any
) -> None:
    """The --cdn page, served like a static host, loads its runtimes cross-origin from the pinned
    paths only, stays cross-origin isolated and runs Python without a policy violation."""
    site = serve_directory(build_variant("--cdn", "--cdn-origin", cdn_mirror))
    cdn_requests: list[str] = []
    page.context.on("request", lambda r: cdn_requests.append(r.url) if r.url.startswith(cdn_mirror) else None)
    page.add_init_script(
        "window.__cspViolations = [];"
        "document.addEventListener('securitypolicyviolation', e => window.__cspViolations.push(e.blockedURI));"
    )
    page.goto(site)
    page.wait_for_function(
        "() => /3\\.14\\.\\d+/.test(document.querySelector('#python-version')?.textContent ?? '')", timeout=120_000
    )
    page.wait_for_load_state("networkidle")
    assert page.evaluate("() => crossOriginIsolated") is True
    assert page.evaluate("() => window.__cspViolations") == []
    locked = lockfile_versions()
    pinned = (f"{cdn_mirror}/npm/@pyscript/core@{locked['@pyscript/core']}/dist/",
              f"{cdn_mirror}/pyodide/v{locked['pyodide']}/full/",
              f"{cdn_mirror}/npm/@huggingface/transformers@{locked['@huggingface/transformers']}/dist/",
              f"{cdn_mirror}/npm/onnxruntime-web@{locked['onnxruntime-web']}/dist/")
    assert any(u.endswith("/pyodide.asm.wasm") for u in cdn_requests), cdn_requests
    assert [u for u in cdn_requests if not u.startswith(pinned)] == []


@pytest.mark.allow_console_errors()
def test_cdn_flavour_refuses_a_tampered_pyodide_module_imported_dynamically(
    page: Any, cdn_mirror: str, build_variant: Any, serve_directory: Any
) -> None:
    """pyodide.asm.mjs is import()ed (no integrity on the import itself): a CDN copy with one extra line is
    refused because the page's modulepreload for it carries the lockfile hash, so the altered code never runs."""
    site = serve_directory(build_variant("--cdn", "--cdn-origin", cdn_mirror))
    served: list[str] = []

    def tampered(route: Any) -> None:
        response = route.fetch()
        served.append(route.request.url)
        route.fulfill(response=response, body=response.body() + b"\nglobalThis.__tampered = true;\n")

    page.route(f"{cdn_mirror}/pyodide/**/pyodide.asm.mjs", tampered)
    integrity_errors: list[str] = []
    page.on("console", lambda m: integrity_errors.append(m.text) if "integrity" in m.text else None)
    page.goto(site)
    page.wait_for_function("() => true")  # page alive
    deadline = time.monotonic() + 120
    while not (served and integrity_errors) and time.monotonic() < deadline:
        page.wait_for_timeout(500)
    assert served, "the tampered module was never requested"
    assert any("pyodide.asm.mjs" in e for e in integrity_errors), integrity_errors
    page.wait_for_timeout(10_000)  # time for the import to run, had the browser accepted it
    assert page.evaluate("() => globalThis.__tampered") is None, "the tampered module ran"
    assert not re.search(r"3\.14\.\d", page.inner_text("#python-version")), "Python started from altered code"
    # and the refusal is not a silent hang: the page says Python could not start, keeping what was typed
    page.wait_for_function("() => document.querySelector('#python-version').textContent === 'failed'", timeout=30_000)
    assert "Python could not start" in page.inner_text("#status")


def test_build_refuses_to_prune_a_foreign_directory(tmp_path: Path) -> None:
    """--out pointing at a non-empty directory that is not an earlier build loses nothing."""
    precious = tmp_path / "notes.txt"
    precious.write_text("keep me")
    proc = subprocess.run([sys.executable, str(ROOT / "build.py"), "build", "--out", str(tmp_path)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode != 0
    assert len(proc.stderr.strip().splitlines()) == 1 and "--out" in proc.stderr
    assert precious.read_text() == "keep me" and sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


def test_editing_the_page_python_makes_a_new_start_up_snapshot(tmp_path: Path, build_module: Any) -> None:
    """The start-up snapshot holds the imported `reranker` package, so it must never outlive an edit of it: its cache
    key follows the package's sources (an edited module, a new module), and nothing else in py/."""
    package = tmp_path / "py" / build_module.SNAPSHOT_PACKAGE
    shutil.copytree(ROOT / "py" / build_module.SNAPSHOT_PACKAGE, package)
    version = "314.0.2"
    original = build_module.snapshot_recipe(tmp_path, version)
    assert build_module.snapshot_recipe(tmp_path, version) == original
    (tmp_path / "py" / "glue.py").write_text("# not part of the snapshot\n", encoding="utf-8")
    assert build_module.snapshot_recipe(tmp_path, version) == original
    parse = package / "parse.py"
    parse.write_text(parse.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    edited = build_module.snapshot_recipe(tmp_path, version)
    assert edited != original
    (package / "extra.py").write_text("VALUE = 1\n", encoding="utf-8")
    assert build_module.snapshot_recipe(tmp_path, version) not in (original, edited)
