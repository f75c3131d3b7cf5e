"""Session-wide fixtures: one build, one loopback server, one Chromium; a guarded page per test.

Fixtures (see tests/harness for helpers):
  build_module              the buildsite package (what build.py runs: build, headers, server)
  dist_dir -> Path          the self-contained build under test ($RERANKER_DIST to reuse an existing one)
  base_url -> str           "http://127.0.0.1:<port>/" serving dist_dir with `build.py serve`'s handler and headers
  browser                   headless Chromium (Playwright); $RERANKER_CHROMIUM overrides the binary
  guarded_context           GuardedContext of a fresh browser context (records external requests / errors)
  page                      a page in that context; the test fails at teardown on any request leaving
                            127.0.0.1, console error or uncaught error (opt out: @pytest.mark.allow_console_errors)
  build_variant(*args)      -> Path of a build made with extra `build.py build` args, cached per args
  serve_directory(path, cors=False, use_headers_file=True, intercept=None, report_csp=True) -> base URL
  cdn_mirror -> str         base URL of a loopback stand-in for jsDelivr (the lockfile's packages), per module
  csp_reports -> list[dict]  CSP violation reports (page AND workers) posted to any site server this session;
                            `page` fails a test that produced one (sites are served with `report-uri`)
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from harness import GuardedContext, launch_options, load_build_module, load_buildsite, save_screenshot, start_test_server
from harness.paths import PY_DIR, ROOT, lockfile_versions

# Every test imports the same `reranker` package (and glue.py) the page loads, from py/.
if str(PY_DIR) not in sys.path:
    sys.path.insert(0, str(PY_DIR))

BUILD_CACHE = ROOT / ".pytest_cache" / "reranker-builds"
CORS_HEADERS = {"Access-Control-Allow-Origin": "*", "Cross-Origin-Resource-Policy": "cross-origin"}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests under tests/e2e get the `e2e` marker automatically."""
    for item in items:
        if "e2e" in Path(str(item.fspath)).parts:
            item.add_marker(pytest.mark.e2e)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """Remember each phase's report on the item so fixtures can see whether the test failed."""
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


@pytest.fixture(scope="session")
def build_module() -> Any:
    """The buildsite package (build(), BuildError, the headers and server helpers)."""
    return load_buildsite()


def _locked_build(build_module: Any, out: Path, args: tuple[str, ...]) -> Path:
    """Run an incremental build into `out` under a file lock (parallel sessions share the cache)."""
    ns = load_build_module().parser().parse_args(["build", *args])
    out.mkdir(parents=True, exist_ok=True)
    with open(out.parent / f"{out.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            build_module.build(out, cdn=ns.cdn, hub_host=ns.hub_host, cdn_origin=ns.cdn_origin, log=lambda msg: None)
        except build_module.BuildError as exc:
            pytest.fail(f"build.py build {' '.join(args)} failed: {exc}", pytrace=False)
    return out


@pytest.fixture(scope="session")
def build_variant(build_module: Any, tmp_path_factory: pytest.TempPathFactory) -> Callable[..., Path]:
    """Factory: build_variant("--cdn") or build_variant("--hub-host", url) -> Path of that build
    (`build.py build` arguments; built once per session and argument tuple, in a session temp dir)."""
    cache: dict[tuple[str, ...], Path] = {}

    def make(*args: str) -> Path:
        if args not in cache:
            key = hashlib.sha256("\0".join(args).encode()).hexdigest()[:12]
            cache[args] = _locked_build(build_module, tmp_path_factory.mktemp(f"variant-{key}") / "dist", args)
        return cache[args]

    return make


@pytest.fixture(scope="session")
def dist_dir(build_module: Any) -> Path:
    """The self-contained build, built once per session (or $RERANKER_DIST as already built)."""
    prebuilt = os.environ.get("RERANKER_DIST")
    if prebuilt:
        path = Path(prebuilt)
        assert (path / "index.html").is_file(), f"$RERANKER_DIST={prebuilt} holds no build"
        return path
    return _locked_build(build_module, BUILD_CACHE / "self-contained", ())


@pytest.fixture(scope="session")
def csp_reports() -> list[dict[str, Any]]:
    """Every CSP violation report browsers posted to the session's site servers, in arrival order."""
    return []


@pytest.fixture(scope="session")
def serve_directory(csp_reports: list[dict[str, Any]]) -> Iterator[Callable[..., str]]:
    """Factory: serve a directory on a free loopback port for the rest of the session; returns its base URL.

    cors=True adds `Access-Control-Allow-Origin: *` and `Cross-Origin-Resource-Policy: cross-origin`
    (e.g. a local Hugging Face hub mirror); use_headers_file applies the directory's `_headers`;
    intercept(handler) -> bool may answer requests itself (fault injection). Directories served with their
    `_headers` get `report-uri` added to the CSP (unless report_csp=False: byte-exact `build.py serve`
    headers), and violations land in `csp_reports`."""
    servers = []

    def serve(path: Path, *, cors: bool = False, use_headers_file: bool = True,
              intercept: Callable[[Any], bool] | None = None, report_csp: bool = True) -> str:
        path = Path(path)
        server, url = start_test_server(
            path,
            headers_path=None if use_headers_file else Path(os.devnull),
            extra_headers=CORS_HEADERS if cors else None,
            intercept=intercept,
            csp_reports=csp_reports if use_headers_file and report_csp else None,
        )
        servers.append(server)
        return url

    yield serve
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="session")
def base_url(dist_dir: Path, serve_directory: Callable[..., str]) -> str:
    """URL of the self-contained build, served with exactly the headers of `build.py serve`."""
    return serve_directory(dist_dir)


@pytest.fixture(scope="module")
def cdn_mirror(tmp_path_factory: pytest.TempPathFactory, serve_directory: Any) -> str:
    """A loopback stand-in for jsDelivr: the lockfile's packages under jsDelivr's URL layout, with CORS."""
    root = tmp_path_factory.mktemp("cdn-mirror")
    locked = lockfile_versions()
    node_modules = ROOT / "node_modules"
    layout = {f"npm/{name}@{locked[name]}": node_modules / name
              for name in ("@pyscript/core", "@huggingface/transformers", "onnxruntime-web")}
    layout[f"pyodide/v{locked['pyodide']}/full"] = node_modules / "pyodide"
    for rel, target in layout.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).symlink_to(target, target_is_directory=True)
    return serve_directory(root, cors=True, use_headers_file=False).rstrip("/")


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """One headless Chromium for the session."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(**launch_options())
        yield chromium
        chromium.close()


@pytest.fixture
def guarded_context(browser: Any) -> Iterator[GuardedContext]:
    """A fresh browser context whose traffic and errors are recorded by a GuardedContext."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(30_000)
    guard = GuardedContext(context)
    yield guard
    context.close()


def guarded_page(request: pytest.FixtureRequest, guarded_context: GuardedContext,
                 csp_reports: list[dict[str, Any]]) -> Iterator[Any]:
    """The body of the `page` fixture, for fixtures that make their own GuardedContext (another browser):
    yields a new page, then fails the test on what the guard recorded (see `page`)."""
    page = guarded_context.context.new_page()
    reports_before = len(csp_reports)
    yield page
    if not page.is_closed():
        page.wait_for_timeout(50)  # violation reports are posted asynchronously
    for report in csp_reports[reports_before:]:
        guarded_context.page_errors.append(
            f"CSP violation: {report.get('violated-directive') or report.get('effective-directive')} "
            f"blocked {report.get('blocked-uri')!r} in {report.get('source-file') or report.get('document-uri')}"
        )
    failed = getattr(request.node, "rep_call", None)
    if failed is not None and failed.failed:
        try:
            save_screenshot(page, f"failed-{request.node.nodeid}")
        except Exception:  # noqa: BLE001 - a screenshot must never mask the real failure
            pass
    marker = request.node.get_closest_marker("allow_console_errors")
    problems = guarded_context.problems(
        allow_console_errors=marker is not None and not marker.args,
        allowed_patterns=tuple(marker.args) if marker else (),
    )
    if problems:
        pytest.fail("page guard:\n  " + "\n  ".join(problems), pytrace=False)


@pytest.fixture
def page(request: pytest.FixtureRequest, guarded_context: GuardedContext,
         csp_reports: list[dict[str, Any]]) -> Iterator[Any]:
    """A page in a fresh context; fails the test on external requests, console errors, page errors or
    CSP violation reports (from the page or its workers).

    `@pytest.mark.allow_console_errors` allows all console/page errors;
    `@pytest.mark.allow_console_errors("regex", ...)` allows only matching ones. External requests always fail."""
    yield from guarded_page(request, guarded_context, csp_reports)
