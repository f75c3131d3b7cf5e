"""Make `py/` importable so the tests exercise the same `reranker` package the page loads."""

import sys
from pathlib import Path

PY_DIR = Path(__file__).resolve().parents[2] / "py"
if str(PY_DIR) not in sys.path:
    sys.path.insert(0, str(PY_DIR))
