"""End-to-end page benchmark: cold/warm start, streaming, scale, incremental re-scoring, memory.

Usage:  python3 bench/bench_page.py [--repeats 3] [--memory-runs 20] [--no-fail] [--skip big,memory]
Builds the self-contained site (bench/out/page-dist) if needed, serves it with build.py's handler and headers,
drives headless Chromium and prints ONE table: each figure, its reference measured in the same run, the
ratio, the target and PASS/MISS. Exits 1 when a target is missed (unless --no-fail). See bench/PAGE.md.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

# The common and page_sections names are re-exported: other bench scripts import their inputs from here.
from common import (HELLO_PATH, add_hello, PROBE_JS, ROOT, RUN_JS, USABLE_JS, build_site, case_variant,  # noqa: E402,F401
                    fill_inputs, finish, launch_profile, load_average, serve, write_json)
from page_sections import (IDLE_AFTER_RUN_JS, LOAF_JS, MEMORY_BY_SCRIPT_JS, SETTLE_INPUT_JS,  # noqa: E402,F401
                           TIMEOUT_MS, bench, fps_median, measure_big, measure_cold, measure_hello,
                           measure_incremental, measure_scale, measure_start, measure_stream, measure_warm, median,
                           memory_bytes, mixed_passages, open_profile, open_ready, preset_texts,
                           reference_query_and_10, run, settle, wait_ready, worker_counts)

SECTIONS = ("start", "stream", "incremental", "scale", "memory", "big")
Row = tuple[str, str, str, str, str, bool]


# ------------------------------------------------------------------------------------------------ measuring


def measure_in_browser(pw: Any, url: str, log: Any, tmp: Path, args: argparse.Namespace, skip: set[str],
                       raw: dict[str, Any]) -> int:
    """Every section not in `skip`, in one browser page, into `raw`; returns the scoring worker's thread count."""
    query10, passages10 = reference_query_and_10()
    if "start" in skip:
        context, page = open_ready(pw, url, tmp)
    else:
        context, page, start = measure_start(pw, url, log, tmp, args.repeats)
        raw.update(start)
    threads = bench(page, "worker.ready.threads") or 1
    cdp = context.new_cdp_session(page)
    cdp.send("Performance.enable")
    if "stream" not in skip:
        raw.update(measure_stream(page, query10, passages10, threads, args.repeats))
    if "incremental" not in skip:
        raw["incremental"] = measure_incremental(page, query10, passages10)
    if "scale" not in skip:
        raw.update(measure_scale(page, cdp, query10, args.memory_runs, "memory" not in skip))
    if "big" not in skip:
        raw["big"] = measure_big(page, query10, args.big)
        raw["big"].pop("frames", None)
    context.close()
    return threads


def measure(args: argparse.Namespace, skip: set[str], raw: dict[str, Any]) -> int:
    """Build (or take --dist), serve and drive headless Chromium; `raw` is written to --json even if a section fails."""
    from playwright.sync_api import sync_playwright

    dist = add_hello(args.dist) if args.dist else build_site()
    server, url, log = serve(dist)
    try:
        with sync_playwright() as pw, tempfile.TemporaryDirectory(prefix="bench-page-") as tmp_name:
            return measure_in_browser(pw, url, log, Path(tmp_name), args, skip, raw)
    finally:
        server.shutdown()
        server.server_close()
        write_json(args.json, raw)


# ------------------------------------------------------------------------------------------------ figures


def start_rows(raw: dict[str, Any]) -> list[Row]:
    """Cold start vs the hello page, warm vs cold, what a warm visit downloads."""
    cold, warms = raw.get("cold"), raw.get("warm")
    if not cold:
        return []
    warm_ready = median([w["ready"] for w in warms])
    model_bytes = max(w["model_bytes"] for w in warms)
    model_requests = max(w["model_requests"] for w in warms)
    usable = median([c["usable"] for c in cold])
    ready = median([c["ready"] for c in cold])
    hello_ms = median(raw["hello"])
    return [
        row("cold: inputs usable (preset fills query)", usable, "ms", "-", None, "<= 1000 ms", usable <= 1000),
        row("cold: phase=ready", ready, "ms", f"hello page ran Python {hello_ms:.0f} ms", ready / hello_ms,
            "<= 1.5x", ready / hello_ms <= 1.5),
        row("warm: phase=ready", warm_ready, "ms", f"cold ready {ready:.0f} ms", warm_ready / ready, "<= 0.6x",
            warm_ready / ready <= 0.6),
        row("warm: model bytes downloaded", f"{model_bytes} B / {model_requests} req", "",
            f"cold visit {median([c['bytes'] for c in cold]) / 1e6:.1f} MB total", None, "0 B", model_bytes == 0),
    ]


def stream_rows(raw: dict[str, Any], threads: int) -> list[Row]:
    """First score in the DOM, and the 10-pair set against native onnxruntime."""
    if "stream" not in raw:
        return []
    s = raw["stream"]
    first = median([r["firstMs"] for r in s])
    ms10 = median([r["scoredMs"] or r["ms"] for r in s])
    worker10 = median([r["workerMs"] for r in s])
    native_best = median([n["best"] for n in raw["native"]])
    ratio10 = median([(r["scoredMs"] or r["ms"]) / n["best"] for r, n in zip(s, raw["native"])])
    return [
        row("stream: Rerank -> first score in DOM", first, "ms", "-", None, "<= 150 ms", first <= 150),
        row("stream: 10-pair set Rerank -> all scored", ms10, "ms",
            f"native ORT {native_best:.0f} ms, {threads} thr (worker {worker10:.0f} ms)", ratio10, "<= 3x",
            ratio10 <= 3),
    ]


def scale_rows(raw: dict[str, Any]) -> list[Row]:
    """200 passages: longest task, frame rate, and pairs/s against the 10-pair rate."""
    if "scale" not in raw:
        return []
    sc = raw["scale"]
    longest = max((max(r["longtasks"], default=0) for r in sc), default=0)
    fps = median([r["fps"] for r in sc])
    rate200 = median([r["results"] / (r["scoredMs"] or r["ms"]) * 1000 for r in sc])
    rows = [row(f"scale 200: longest long task ({len(sc)} runs)", longest, "ms", "-", None, "<= 100 ms",
                longest <= 100),
            row("scale 200: animation frame rate (median)", fps, "fps", "-", None, ">= 50 fps", fps >= 50)]
    if "stream" in raw:
        rate10 = median([r["results"] / (r["scoredMs"] or r["ms"]) * 1000 for r in raw["stream"]])
        rows.append(row(f"scale 200: pairs/s ({sc[0]['results']} pairs)", rate200, "/s",
                        f"10-pair rate {rate10:.1f}/s", rate200 / rate10, ">= 0.8x", rate200 / rate10 >= 0.8))
    return rows


def incremental_rows(raw: dict[str, Any]) -> list[Row]:
    """New inferences after an edit, an identical re-run and a settings change."""
    if "incremental" not in raw:
        return []
    inc = raw["incremental"]
    return [
        row("incremental: one passage edited", str(inc["edit"]), "", f"first run {inc['first']}", None,
            "exactly 1", inc["edit"] == 1),
        row("incremental: identical re-run", str(inc["same"]), "", "-", None, "0", inc["same"] == 0),
        row("incremental: threshold + k changed", str(inc["settings"]), "", "-", None, "0", inc["settings"] == 0),
    ]


def memory_rows(raw: dict[str, Any]) -> list[Row]:
    """Memory after the last 200-passage run against after the first."""
    if not (raw.get("memory") and len(raw["memory"]) >= 2):
        return []
    m1, m2 = raw["memory"][0], raw["memory"][-1]
    growth = m2["bytes"] / m1["bytes"] - 1
    return [row(f"memory: after run {len(raw['scale'])} vs run 1", f"{m2['bytes'] / 1e6:.1f} MB", "",
                f"run 1 {m1['bytes'] / 1e6:.1f} MB ({m1['how']})", 1 + growth, "< 1.10x", growth < 0.10)]


def big_rows(raw: dict[str, Any], n: int) -> list[Row]:
    """The `n`-passage run completes and clicks during it stay answered."""
    if "big" not in raw:
        return []
    b = raw["big"]
    return [row(f"big {n}: completes, click input delay", b["max_click_delay"], "ms",
                f"{b['results']} pairs in {b['ms'] / 1000:.1f} s, {b['clicks']} clicks", None, "<= 200 ms",
                b["max_click_delay"] <= 200)]


def figure_rows(raw: dict[str, Any], big: int, threads: int) -> list[Row]:
    """Every figure measured, in table order."""
    return (start_rows(raw) + stream_rows(raw, threads) + scale_rows(raw) + incremental_rows(raw) + memory_rows(raw)
            + big_rows(raw, big))


# ------------------------------------------------------------------------------------------------ table


def describe_loaf(frames: list[dict[str, Any]], top: int = 3) -> str:
    """The longest frames of a run and the scripts in them (function@file via invoker, ms, forced layout ms)."""
    out = []
    for f in sorted(frames, key=lambda f: -f["duration"])[:top]:
        scripts = ", ".join(f"{s['fn'] or '?'}@{s['src']} via {s['invoker']} {s['ms']} ms (forced {s['forced']})"
                            for s in sorted(f["scripts"], key=lambda s: -s["ms"])[:3])
        out.append(f"{f['duration']:.0f} ms [style+layout {f['styleLayout']:.0f}; {scripts}]")
    return "; ".join(out) or "none"



def row(figure: str, value: float | str, unit: str, reference: str, ratio: float | None, target: str,
        ok: bool) -> Row:
    shown = value if isinstance(value, str) else (f"{value:.0f} {unit}" if abs(value) >= 10 or value == 0
                                                   else f"{value:.2f} {unit}")
    return figure, shown.strip(), reference, "-" if ratio is None else f"{ratio:.2f}x", target, ok


def print_table(rows: list[Row], header: str) -> None:
    print(f"\n{header}")
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    names = ("figure", "measured", "reference (same run)", "ratio", "target")
    widths = [max(w, len(n)) for w, n in zip(widths, names)]
    line = "  ".join(n.ljust(w) for n, w in zip(names, widths)) + "  result"
    print(line)
    print("-" * len(line))
    for r in rows:
        print("  ".join(str(c).ljust(w) for c, w in zip(r[:5], widths)) + ("  PASS" if r[5] else "  MISS"))


def print_details(raw: dict[str, Any]) -> None:
    """Where the time goes: Python vs model readiness, worker vs page, main-thread Python per glue call."""
    print("\ndetails (ms since navigation / per run):")
    for c in raw.get("cold", []):
        w = c.get("worker") or {}
        print(f"  cold: python(glue) {c.get('glue') or 0:.0f}, model ready {c.get('workerReady') or 0:.0f} "
              f"(worker loadMs {w.get('loadMs')}), phase=ready {c['ready']:.0f}, {c['bytes'] / 1e6:.1f} MB")
    for w in raw.get("warm", []):
        again = ", ".join(f"{p} {n / 1e6:.1f} MB" for p, _, n in w["downloaded_again"] if n > 100_000) or "nothing big"
        print(f"  warm: python(glue) {w['glue'] or 0:.0f}, model ready {w['workerReady'] or 0:.0f} (worker loadMs "
              f"{(w['worker'] or {}).get('loadMs')}, fromCache {(w['worker'] or {}).get('fromCache')}), "
              f"phase=ready {w['ready']:.0f}, re-downloaded: {again}")
    for name in ("stream", "scale"):
        runs = raw.get(name) or []
        for r in runs[:3]:
            py = ", ".join(f"{k} {v['n']}x max {v['max']:.0f} sum {v['sum']:.0f}" for k, v in r.get("py", {}).items())
            top = sorted(r["longtasks"], reverse=True)[:5]
            print(f"  {name}: {r['ms']:.0f} total, worker {r['workerMs']}, first {r['firstMs']}, "
                  f"worker first {r['workerFirstMs']}, batches {r['batches']}; longest tasks {top}; py: {py}; "
                  f"page stats {r.get('stats')}")
            print(f"    long frames: {describe_loaf(r.get('loaf') or [])}")
    mem = raw.get("memory") or []
    if mem:
        print("  memory per run (MB): " + ", ".join(f"{m['bytes'] / 1e6:.0f}" for m in mem))
        kinds = sorted({k for m in mem for k in m["byType"]})
        for k in kinds:
            print(f"    {k}: " + ", ".join(f"{m['byType'].get(k, 0) / 1e6:.0f}" for m in mem))
    b = raw.get("big")
    if b:
        top = sorted(b["longtasks"], reverse=True)[:5]
        py = ", ".join(f"{k} {v['n']}x max {v['max']:.0f} sum {v['sum']:.0f}" for k, v in b.get("py", {}).items())
        print(f"  big: {b['ms']:.0f} total, longest tasks {top}; py: {py}; click round trip max "
              f"{b['max_click_round_trip']:.0f} ms")
        print(f"    long frames: {describe_loaf(b.get('loaf') or [])}")


# ------------------------------------------------------------------------------------------------ main


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=3, help="cold starts (and streaming runs) per figure")
    parser.add_argument("--memory-runs", type=int, default=20, help="consecutive 200-passage runs")
    parser.add_argument("--big", type=int, default=1000, help="passages of the responsiveness run")
    parser.add_argument("--skip", default="", help=f"comma-separated sections to skip: {','.join(SECTIONS)}")
    parser.add_argument("--no-fail", action="store_true", help="exit 0 even when a target is missed")
    parser.add_argument("--json", type=Path, help="also write the raw measurements to this file")
    parser.add_argument("--dist", type=Path, help="bench this already built site instead of building (experiments "
                        "on a patched copy); the hello page is added to it")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    skip = {s for s in args.skip.split(",") if s}
    load_before = load_average()
    raw: dict[str, Any] = {"load_before": load_before}
    threads = measure(args, skip, raw)
    rows = figure_rows(raw, args.big, threads)
    raw["load_after"] = load_average()
    print_table(rows, f"Page benchmark (self-contained build, headless Chromium; medians of {args.repeats}; "
                      f"load average {load_before} -> {raw['load_after']})")
    print_details(raw)
    return finish(raw, [r[0] for r in rows if not r[5]], args.json, args.no_fail)


if __name__ == "__main__":
    sys.exit(main())
