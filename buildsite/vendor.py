"""The pinned front-end runtimes: lockfile versions, the node_modules check, and which of their files dist/ ships."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

from .core import ROOT, BuildError, Log, last_line

# npm package name -> key in RUNTIME.versions
RUNTIME_PACKAGES = {
    "pyodide": "pyodide",
    "@pyscript/core": "pyscript",
    "@huggingface/transformers": "transformers",
    "onnxruntime-web": "ort",
}

PYODIDE_FILES = ("pyodide.mjs", "pyodide.asm.mjs", "pyodide.asm.wasm", "python_stdlib.zip", "pyodide-lock.json")
ORT_FILES = (
    "ort-wasm-simd-threaded.mjs",  # CPU-only build: what the worker loads for the wasm backend (bench/README.md)
    "ort-wasm-simd-threaded.wasm",
    "ort-wasm-simd-threaded.jsep.mjs",
    "ort-wasm-simd-threaded.jsep.wasm",
    "ort-wasm-simd-threaded.asyncify.mjs",
    "ort-wasm-simd-threaded.asyncify.wasm",
)
# PyScript chunks that core.js only imports lazily for features this page does not use
# (code editor, terminal, MicroPython, TOML/zip config, package graph).
PYSCRIPT_LAZY_CHUNK = re.compile(r"^(codemirror|index-|xterm|mpy-|py-(?!editor-|game-|terminal-)|toml-|zip-|pyodide_graph-)")


def lock_versions(root: Path = ROOT) -> dict[str, str]:
    """Exact versions of the runtime packages, read from package-lock.json (keys as in RUNTIME.versions)."""
    lock_path = root / "package-lock.json"
    try:
        packages = json.loads(lock_path.read_text(encoding="utf-8"))["packages"]
    except (OSError, ValueError, KeyError) as exc:
        raise BuildError(f"cannot read {lock_path}: {exc}") from exc
    versions = {}
    for npm_name, key in RUNTIME_PACKAGES.items():
        entry = packages.get(f"node_modules/{npm_name}")
        if not entry or "version" not in entry:
            raise BuildError(f"package-lock.json has no entry for {npm_name}; add it to package.json and run npm install")
        versions[key] = entry["version"]
    return versions


def node_modules_stale(root: Path = ROOT) -> bool:
    """True when node_modules is missing or does not hold the versions package-lock.json pins."""
    hidden_lock = root / "node_modules" / ".package-lock.json"
    if not hidden_lock.is_file():
        return True
    try:
        wanted = json.loads((root / "package-lock.json").read_text(encoding="utf-8"))["packages"]
        installed = json.loads(hidden_lock.read_text(encoding="utf-8"))["packages"]
    except (OSError, ValueError, KeyError):
        return True
    for path, entry in wanted.items():
        if not path.startswith("node_modules/"):
            continue
        have = installed.get(path)
        if have is None and entry.get("optional"):
            continue  # platform-specific optional package npm skipped on this machine
        if have is None or have.get("version") != entry.get("version") or not (root / path).is_dir():
            return True
    return False


def ensure_node_modules(root: Path = ROOT, log: Log = print) -> None:
    """Run `npm ci --ignore-scripts` when node_modules is missing or stale."""
    if not node_modules_stale(root):
        return
    if (root / "node_modules").is_symlink():
        raise BuildError(f"{root / 'node_modules'} is a symlink and out of date; "
                         "run npm ci --ignore-scripts where it points")
    npm = shutil.which("npm")
    if npm is None:
        raise BuildError("npm not found: install Node.js 20+ with npm (Debian: apt-get install -y nodejs npm), then rerun")
    log("installing pinned front-end packages: npm ci --ignore-scripts")
    proc = subprocess.run(
        [npm, "ci", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error"],
        cwd=root, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    if proc.returncode != 0:
        raise BuildError(f"npm ci failed (exit {proc.returncode}): {last_line(proc.stdout)} "
                         "- check network access to the npm registry")


def pyscript_chunks(dist_dir: Path) -> list[str]:
    """core.js, core.css and every chunk core.js loads eagerly (static imports plus its default plugins)."""
    import_re = re.compile(r"""(?:\bfrom\s*|\bimport\s*\(?\s*)["']\./([\w.-]+\.js)["']""")
    wanted: list[str] = []
    pending = ["core.js"]
    while pending:
        name = pending.pop()
        if name in wanted:
            continue
        source = dist_dir / name
        if not source.is_file():
            raise BuildError(f"PyScript chunk {name} missing in {dist_dir}; reinstall with npm ci --ignore-scripts")
        wanted.append(name)
        for dep in import_re.findall(source.read_text(encoding="utf-8")):
            if not PYSCRIPT_LAZY_CHUNK.match(dep):
                pending.append(dep)
    return sorted(wanted) + ["core.css"]


def vendored_files(node_modules: Path) -> dict[str, Path]:
    """The self-contained flavour's runtime copies: dist-relative path under vendor/ -> file in node_modules."""
    files = {f"vendor/pyodide/{name}": node_modules / "pyodide" / name for name in PYODIDE_FILES}
    pyscript_dist = node_modules / "@pyscript" / "core" / "dist"
    files.update({f"vendor/pyscript/{name}": pyscript_dist / name for name in pyscript_chunks(pyscript_dist)})
    files["vendor/transformers/transformers.min.js"] = (
        node_modules / "@huggingface" / "transformers" / "dist" / "transformers.min.js")
    files.update({f"vendor/ort/{name}": node_modules / "onnxruntime-web" / "dist" / name for name in ORT_FILES})
    return files
