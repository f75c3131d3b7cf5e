"""RUNTIME.limits: build.py copies every UPPER_CASE int of py/reranker/limits.py into app/runtime.js."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from harness.paths import ROOT, load_buildsite
from reranker import limits

buildsite = load_buildsite()
read_limits = buildsite.runtime.read_limits
runtime_js = buildsite.runtime.runtime_js


def test_limits_are_every_upper_case_int_of_the_python_module() -> None:
    """Same names and values as the module Python imports, nothing else."""
    expected = {name: value for name, value in vars(limits).items()
                if re.fullmatch(r"[A-Z][A-Z0-9_]*", name) and type(value) is int}
    assert read_limits(ROOT) == expected
    assert read_limits(ROOT)["MAX_TOTAL_CHARS"] == 2_000_000


def test_only_top_level_upper_case_int_literals_count(tmp_path: Path) -> None:
    """Lower-case names, bools, floats, strings, expressions and nested assignments are not limits."""
    source = tmp_path / "py" / "reranker" / "limits.py"
    source.parent.mkdir(parents=True)
    source.write_text('"""doc"""\nA = 1\nB: int = 2_000\nlower = 3\nFLAG = True\nRATIO = 0.5\nNAME = "x"\n'
                      "SUM = A + 1\nNEG = -4\nif A:\n    NESTED = 5\n", encoding="utf-8")
    assert read_limits(tmp_path) == {"A": 1, "B": 2000, "NEG": -4}


def test_missing_limits_file_is_a_build_error(tmp_path: Path) -> None:
    with pytest.raises(buildsite.BuildError, match="limits"):
        read_limits(tmp_path)


def test_runtime_js_carries_the_limits_as_json() -> None:
    source = runtime_js(None, {"pyodide": "1"}, "https://huggingface.co/", {"url": "u"}, read_limits(ROOT))
    runtime = json.loads(re.search(r"export const RUNTIME = Object\.freeze\((\{.*\})\);", source, re.S).group(1))
    assert runtime["limits"]["MAX_TOTAL_CHARS"] == 2_000_000
    assert runtime["limits"] == read_limits(ROOT)
