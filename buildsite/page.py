"""index.html for a flavour: the shell as is, or (--cdn) with PyScript pinned to the CDN and hashed for SRI."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Mapping

from .core import BuildError, sri_hash
from .urls import PAGE_PYODIDE, PAGE_PYSCRIPT_CSS, PAGE_PYSCRIPT_JS, cdn_urls
from .vendor import pyscript_chunks


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


def module_preloads(versions: Mapping[str, str], cdn_origin: str, node_modules: Path, base: str) -> str:
    """<link rel="modulepreload"> tags with integrity for PyScript's eager chunks, pyodide.mjs and pyodide.asm.mjs."""
    pyscript_dist = node_modules / "@pyscript" / "core" / "dist"
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
    return preloads


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
    preloads = module_preloads(versions, cdn_origin, node_modules, base)
    core_tag = re.search(r'<script\b[^>]*\bsrc="' + re.escape(base) + r'/core\.js"', html)
    if core_tag is None:
        raise BuildError("index.html lost its PyScript <script> tag while pinning it to the CDN")
    return html[:core_tag.start()] + preloads + html[core_tag.start():]
