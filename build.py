#!/usr/bin/env python3
"""One entry point for the in-browser reranker: build, serve and test the static site.

    python3 build.py build [--cdn] [--out DIR] [--hub-host URL] [--cdn-origin URL]
    python3 build.py serve [--port N] [--cdn] [--no-build] [--out DIR]
    python3 build.py test  [pytest args...]

Standard library only. This file is the command line; the work is done by the `buildsite` package next to it
(one module per job, listed in buildsite/__init__.py). The layout of dist/ and the runtime URL contract live in
docs/ARCHITECTURE.md.
"""

from __future__ import annotations

import argparse
import errno
import functools
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Callable, Sequence

from buildsite.core import BuildError
from buildsite.server import start_server
from buildsite.dist import build
from buildsite.testdeps import ensure_test_dependencies
from buildsite.urls import CDN_ORIGIN, DEFAULT_HUB_HOST

# Not resolve(): a symlinked build.py in a scratch directory builds that directory.
ROOT = Path(__file__).absolute().parent


def cmd_build(args: argparse.Namespace) -> int:
    result = build(Path(args.out) if args.out else None, cdn=args.cdn, hub_host=args.hub_host,
                   cdn_origin=args.cdn_origin, root=ROOT)
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
    env = {**os.environ, **ensure_test_dependencies(ROOT)}
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
