"""Shared test harness: build once, serve dist/ like `build.py serve`, drive real Chromium with guards."""

from .browser import GuardedContext, launch_options
from .helpers import save_screenshot, wait_for_phase
from .paths import ARTIFACTS, ROOT, load_build_module

__all__ = [
    "ARTIFACTS",
    "ROOT",
    "GuardedContext",
    "launch_options",
    "load_build_module",
    "save_screenshot",
    "wait_for_phase",
]
