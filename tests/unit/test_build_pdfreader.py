"""The PDF reader wheel: one pin shared by the build and the unit tests, its URL in RUNTIME.pdfReader."""

from __future__ import annotations

import importlib
import json
import re
from pathlib import Path

import pypdf

from harness.paths import ROOT, load_buildsite

buildsite = load_buildsite()
pdfreader = importlib.import_module("buildsite.pdfreader")


def test_the_build_ships_the_version_the_tests_run() -> None:
    requirements = (ROOT / "requirements-test.txt").read_text(encoding="utf-8").splitlines()
    assert pdfreader.PDF_READER_WHEEL in requirements
    assert pdfreader.PDF_READER_WHEEL == f"pypdf=={pypdf.__version__}"


def test_the_wheel_comes_from_the_cache_and_its_url_is_relative_to_app(tmp_path: Path) -> None:
    cache = tmp_path / ".cache" / "wheels"
    cache.mkdir(parents=True)
    (cache / "pypdf-7.1.1-py3-none-any.whl").write_bytes(b"PK")
    wheel = pdfreader.ensure_pdf_reader(tmp_path, log=lambda _: None)  # cached: no download
    assert wheel == cache / "pypdf-7.1.1-py3-none-any.whl"
    assert pdfreader.pdf_reader_entry(wheel) == "../wheels/pypdf-7.1.1-py3-none-any.whl"


def test_runtime_js_carries_the_pdf_reader_url() -> None:
    source = buildsite.runtime.runtime_js(None, {"pyodide": "1"}, "https://huggingface.co/", {"url": "u"}, {},
                                          "../wheels/pypdf-7.1.1-py3-none-any.whl")
    runtime = json.loads(re.search(r"export const RUNTIME = Object\.freeze\((\{.*\})\);", source, re.S).group(1))
    assert runtime["pdfReader"] == "../wheels/pypdf-7.1.1-py3-none-any.whl"
