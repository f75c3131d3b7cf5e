"""The PDF reader: the pinned pure-Python pypdf wheel, shipped as is for the page to import when a PDF arrives."""

from __future__ import annotations

from pathlib import Path

from .biencoder import WHEEL_CACHE, download_wheel, wheel_path
from .core import ROOT, Log

# Keep in step with requirements-test.txt (the unit tests run the same version in CPython).
PDF_READER_WHEEL = "pypdf==7.1.1"
PDF_READER_DIR = "wheels"  # outside vendor/: the --cdn flavour ships it too (a CDN has no such wheel)


def ensure_pdf_reader(root: Path = ROOT, log: Log = print) -> Path:
    """The pinned pypdf wheel from the wheel cache, downloaded once (`pip download --no-deps`)."""
    cache = root / WHEEL_CACHE
    return wheel_path(PDF_READER_WHEEL, cache) or download_wheel(PDF_READER_WHEEL, cache, log, "the PDF reader")


def pdf_reader_entry(wheel: Path) -> str:
    """The wheel's URL relative to app/runtime.js (RUNTIME.pdfReader)."""
    return f"../{PDF_READER_DIR}/{wheel.name}"
