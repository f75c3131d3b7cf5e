"""Shared test harness: build once, serve dist/ like `build.py serve`, drive real Chromium with guards.

Modules: paths (repository paths, build.py, the lockfile), browser (Chromium options, the guard), helpers (phase
waits, screenshots), page (the page tests' recorder and steps), faults (fault routes, probes, hostile strings),
view_fixture (the result-list fixture page).
Fixtures live in tests/conftest.py; the reference model, the scorer host page fixtures (scoring_host) and the hub
mirror in tests/support/."""

from .browser import GuardedContext, launch_options
from .helpers import save_screenshot, wait_for_phase
from .paths import ARTIFACTS, ROOT, load_build_module, load_buildsite
from .server import make_test_handler, start_test_server

__all__ = [
    "ARTIFACTS",
    "ROOT",
    "GuardedContext",
    "launch_options",
    "load_build_module",
    "load_buildsite",
    "make_test_handler",
    "save_screenshot",
    "start_test_server",
    "wait_for_phase",
]
