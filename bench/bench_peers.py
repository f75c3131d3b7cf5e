"""Peer benchmark: the page against the way the best-known public in-browser reranker demo scores.

Usage:  python3 bench/bench_peers.py [--repeats 3] [--sizes 10,30,100,ref10] [--no-fail] [--skip-threads] [--json FILE]
The peer (bench/peer/, served at bench-peer/ in the built site) tokenizes every pair in one padded, truncated
batch with transformers.js on the main thread, runs the model once, applies a sigmoid and shows the list when
all are done. Both use the same vendored transformers.js and ONNX Runtime build, the same bundled model file,
the same Chromium and thread count, in the same run (interleaved). Prints ONE table with ratios, targets and
PASS/MISS, then the page at 1 vs 2 worker threads. Exits 1 when a target is missed (unless --no-fail).
See bench/PEERS.md.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_page import (IDLE_AFTER_RUN_JS, LOAF_JS, MEMORY_BY_SCRIPT_JS, TIMEOUT_MS, describe_loaf,  # noqa: E402
                        median, mixed_passages, reference_query_and_10, run, wait_ready)
from common import (PROBE_JS, ROOT, add_folder, build_site, case_variant, fill_inputs, launch_options,  # noqa: E402
                    finish, load_average, serve, write_json)

PEER_SRC = ROOT / "bench" / "peer"
PEER_PATH = "bench-peer/"
SIZES = ("10", "30", "100")
REFERENCE = "ref10"  # bench_scoring's 10-pair reference set (short passages, one query): no padding penalty
TARGET_FIRST_VS_PEER = 0.25  # our first visible score <= 0.25x the peer's all-scored time (at 30 passages)
TARGET_ALL_VS_PEER = 1.0  # our all-scored time <= 1.0x the peer's
TARGET_LONGTASK_MS = 100.0

# The page's scoring worker gets a thread count in its load options (the page itself never sends one): the bench
# rewrites the load message on its way to the worker. Installed after PROBE_JS, which tags the scorer worker.
THREADS_JS = """
((threads) => {
  const W = window.Worker;
  window.Worker = class extends W {
    postMessage(msg, ...rest) {
      if (this.__scorer && msg && msg.type === "load") msg = {...msg, options: {...(msg.options || {}), threads}};
      return super.postMessage(msg, ...rest);
    }
  };
})(%d);
"""

# One peer run: fill nothing (done before), click Score, wait for the list; long tasks that overlap the run.
PEER_RUN_JS = """
async ({timeoutMs}) => {
  const B = window.__bench;
  const done = new Promise((resolve, reject) => {
    document.addEventListener("peer:done", (e) => resolve([performance.now(), e.detail]), {once: true});
    setTimeout(() => reject(new Error("peer run did not finish")), timeoutMs);
  });
  await new Promise((r) => requestAnimationFrame(() => r()));
  const t0 = performance.now();
  document.querySelector("#score").click();
  const [end, detail] = await done;
  // long-task entries arrive after their task: let them land
  await new Promise((r) => requestAnimationFrame(() => setTimeout(r, 100)));
  const longtasks = B.longtasks.filter(([s, d]) => s + d >= t0 && s <= end).map(([s, d]) => d);
  const loaf = (B.loaf || []).filter((e) => e.start + e.duration >= t0 && e.start <= end);
  return {firstMs: end - t0, scoredMs: end - t0, results: detail.pairs, longtasks, loaf, detail,
          shown: document.querySelectorAll("#results li").length};
}
"""

# Settle the pasted input before clicking (as bench_page.SETTLE_INPUT_JS does for the page).
SETTLE_JS = "() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(() => setTimeout(r, 200))))"


# ------------------------------------------------------------------------------------------------ browser


class Side:
    """One browser with one page: ours (the reranker page) or the peer page, with its renderer's peak memory."""

    def __init__(self, pw: Any, url: str, name: str, threads: int | None) -> None:
        options = launch_options()
        options.pop("headless", None)
        args = [*options.pop("args"), "--enable-blink-features=ForceEagerMeasureMemory"]
        self.name = name
        self.browser = pw.chromium.launch(headless=True, args=args, **options)
        context = self.browser.new_context(viewport={"width": 1280, "height": 900})
        context.add_init_script(PROBE_JS)
        context.add_init_script(LOAF_JS)
        if name != "peer" and threads:
            context.add_init_script(THREADS_JS % threads)
        self.page = context.new_page()
        self.cdp = self.browser.new_browser_cdp_session()
        if name == "peer":
            self.page.goto(f"{url}{PEER_PATH}?threads={threads or 1}", wait_until="commit")
            self.page.wait_for_function("() => ['ready', 'error'].includes(document.documentElement.dataset.peer)",
                                        timeout=TIMEOUT_MS, polling=50)
            if self.page.evaluate("() => document.documentElement.dataset.peer") != "ready":
                raise RuntimeError(f"peer page did not load: {self.page.inner_text('#status')!r}")
            self.threads = int(self.page.evaluate("() => document.documentElement.dataset.peerThreads"))
        else:
            self.page.goto(url, wait_until="commit")
            wait_ready(self.page)
            self.threads = int(self.page.evaluate("() => window.__bench.worker.ready.threads") or 1)
        self.cores = int(self.page.evaluate("() => navigator.hardwareConcurrency"))

    def renderer(self) -> int:
        """Pid of this browser's largest renderer process (the page's: it holds the model)."""
        info = self.cdp.send("SystemInfo.getProcessInfo")["processInfo"]
        pids = [p["id"] for p in info if p["type"] == "renderer"]
        return max(pids, key=lambda pid: proc_kb(pid, "VmRSS"))

    def reset_peak(self) -> None:
        """Reset the renderer's peak RSS (Linux: write 5 to /proc/PID/clear_refs)."""
        Path(f"/proc/{self.renderer()}/clear_refs").write_text("5")

    def peak_bytes(self) -> int:
        return proc_kb(self.renderer(), "VmHWM") * 1024

    def ua_memory(self) -> int | None:
        """performance.measureUserAgentSpecificMemory(): JS + wasm memory of the page and its workers."""
        m = self.page.evaluate(MEMORY_BY_SCRIPT_JS)
        return m["bytes"] if m else None

    def score(self, query: str, passages: list[str]) -> dict[str, Any]:
        if self.name == "peer":
            self.page.evaluate("([q, p]) => { document.querySelector('#query').value = q;"
                               " document.querySelector('#passages').value = JSON.stringify(p); }", [query, passages])
            self.page.evaluate(SETTLE_JS)
            return self.page.evaluate(PEER_RUN_JS, {"timeoutMs": TIMEOUT_MS * 5})
        fill_inputs(self.page, query, passages)
        result = run(self.page, TIMEOUT_MS * 5)
        result.pop("frames", None)
        # the run's trailing vector-search column must not share the CPU with the next run (of either side)
        self.page.wait_for_function(IDLE_AFTER_RUN_JS, timeout=TIMEOUT_MS, polling=100)
        return result

    def close(self) -> None:
        self.browser.close()


def proc_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


# ------------------------------------------------------------------------------------------------ measuring


def measure(sides: dict[str, Side], sizes: tuple[str, ...], repeats: int) -> dict[str, Any]:
    """Per size: one warm-up run per side (discarded), then `repeats` interleaved runs; peak RSS over them."""
    query, reference = reference_query_and_10()
    raw: dict[str, Any] = {}
    variant = 1
    for n in sizes:
        passages = reference if n == REFERENCE else mixed_passages(int(n))
        for side in sides.values():
            side.score(case_variant(query, variant), passages)  # warm-up: shapes allocate on first use
            variant += 1
            side.reset_peak()
        runs: dict[str, list[dict[str, Any]]] = {k: [] for k in sides}
        for r in range(repeats):
            for key, side in sides.items():
                runs[key].append(side.score(case_variant(query, variant), passages))  # new cache key, same ids
                variant += 1
                print(f"  {n} passages, {key} run {r + 1}/{repeats}: all {runs[key][-1]['scoredMs']:.0f} ms, "
                      f"first {runs[key][-1]['firstMs']:.0f} ms", file=sys.stderr, flush=True)
        raw[n] = {key: {"runs": runs[key], "peak": side.peak_bytes(), "ua": side.ua_memory()}
                       for key, side in sides.items()}
    return raw


def summary(entry: dict[str, Any]) -> dict[str, float]:
    runs = entry["runs"]
    return {"first": median([r["firstMs"] for r in runs]), "all": median([r["scoredMs"] or r["ms"] for r in runs]),
            "longest": max((max(r["longtasks"], default=0) for r in runs), default=0),
            "results": median([r["results"] for r in runs]), "peak": entry["peak"] / 1e6}


# ------------------------------------------------------------------------------------------------ table


Row = tuple[str, str, str, str, str, str]


def fmt_ms(ms: float) -> str:
    return f"{ms:.0f} ms"


def rows_for(n: str, ours: dict[str, float], peer: dict[str, float]) -> list[Row]:
    """The four figures of one size: first visible, all scored, longest main-thread task, peak memory."""
    first_ratio = ours["first"] / peer["all"]
    all_ratio = ours["all"] / peer["all"]
    first_target = f"<= {TARGET_FIRST_VS_PEER}x peer all" if n == "30" else "-"
    all_target = "-" if n == REFERENCE else f"<= {TARGET_ALL_VS_PEER}x"
    all_result = "-" if n == REFERENCE else "PASS" if all_ratio <= TARGET_ALL_VS_PEER else "MISS"
    return [
        (f"{n}: first score visible", fmt_ms(ours["first"]), f"{fmt_ms(peer['first'])} (= its all scored)",
         f"{first_ratio:.2f}x", first_target,
         ("PASS" if first_ratio <= TARGET_FIRST_VS_PEER else "MISS") if n == "30" else "-"),
        (f"{n}: all scored", fmt_ms(ours["all"]), f"{fmt_ms(peer['all'])}", f"{all_ratio:.2f}x", all_target,
         all_result),
        (f"{n}: longest main-thread task", fmt_ms(ours["longest"]), fmt_ms(peer["longest"]), "-",
         f"<= {TARGET_LONGTASK_MS:.0f} ms", "PASS" if ours["longest"] <= TARGET_LONGTASK_MS else "MISS"),
        (f"{n}: peak memory (renderer RSS)", f"{ours['peak']:.0f} MB", f"{peer['peak']:.0f} MB",
         f"{ours['peak'] / peer['peak']:.2f}x", "-", "-"),
    ]


def print_table(rows: list[Row], header: str, names: tuple[str, ...]) -> None:
    print(f"\n{header}")
    widths = [max(len(str(r[i])) for r in [names, *rows]) for i in range(len(names))]
    line = "  ".join(n.ljust(w) for n, w in zip(names, widths))
    print(line)
    print("-" * len(line))
    for r in rows:
        print("  ".join(str(c).ljust(w) for c, w in zip(r, widths)))


def print_details(raw: dict[str, Any]) -> None:
    print("\ndetails (per size and side: all-scored ms per run, inferences, longest tasks, UA memory after the runs):")
    for n, sides in raw["sizes"].items():
        for key, entry in sides.items():
            runs = entry["runs"]
            alls = ", ".join(f"{r['scoredMs'] or r['ms']:.0f}" for r in runs)
            firsts = ", ".join(f"{r['firstMs']:.0f}" for r in runs)
            tasks = [sorted(r["longtasks"], reverse=True)[:3] for r in runs]
            extra = ""
            if key == "peer":
                d = runs[0]["detail"]
                extra = f"; padded to {d['paddedLength']} tokens, tokenize {d['tokenizeMs']:.0f} ms"
            else:
                extra = f"; batches {runs[0].get('batches')}"
            ua = f"{entry['ua'] / 1e6:.0f} MB" if entry.get("ua") else "n/a"
            print(f"  {n} {key}: all [{alls}] first [{firsts}], {runs[0]['results']} inferences{extra}; "
                  f"longest tasks {[[round(t) for t in ts] for ts in tasks]}; UA memory {ua}")
            worst = max(runs, key=lambda r: max(r["longtasks"], default=0))
            print(f"    long frames of its worst run: {describe_loaf(worst.get('loaf') or [])}")


# ------------------------------------------------------------------------------------------------ main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=3, help="measured runs per size and side (after a warm-up)")
    parser.add_argument("--sizes", default=",".join(SIZES),
                        help=f"passage counts of mixed length, comma-separated; '{REFERENCE}': the short 10-pair set")
    parser.add_argument("--threads", type=int, default=0,
                        help="thread count for both sides (default: what the page's worker picks here)")
    parser.add_argument("--skip-threads", action="store_true", help="skip the page at the other thread count")
    parser.add_argument("--no-fail", action="store_true", help="exit 0 even when a target is missed")
    parser.add_argument("--json", type=Path, help="also write the raw measurements to this file")
    args = parser.parse_args(argv)
    sizes = tuple(s for s in args.sizes.split(",") if s)

    from playwright.sync_api import sync_playwright

    load_before = load_average()
    dist = add_folder(build_site(), PEER_SRC, PEER_PATH)
    server, url, _ = serve(dist)
    raw: dict[str, Any] = {"load_before": load_before}
    sides: dict[str, Side] = {}
    try:
        with sync_playwright() as pw:
            sides["ours"] = Side(pw, url, "ours", args.threads or None)
            threads = sides["ours"].threads
            sides["peer"] = Side(pw, url, "peer", threads)
            other = 2 if threads == 1 else 1
            if not args.skip_threads and (os.cpu_count() or 1) >= 2:
                sides[f"ours-{other}thr"] = Side(pw, url, "ours", other)
                raw["other_threads"] = sides[f"ours-{other}thr"].threads
            raw["threads"] = threads
            raw["cores"] = sides["ours"].cores
            raw["sizes"] = measure(sides, sizes, args.repeats)
            for side in sides.values():
                side.close()
    finally:
        server.shutdown()
        server.server_close()
        write_json(args.json, raw)
    raw["load_after"] = load_average()

    rows: list[Row] = []
    for n in sizes:
        entry = raw["sizes"][n]
        rows += rows_for(n, summary(entry["ours"]), summary(entry["peer"]))
    print_table(rows, f"Page vs peer (main-thread padded batch), same build/browser/model, {threads} thread(s) each; "
                      f"medians of {args.repeats} after a warm-up; load average {load_before} -> {raw['load_after']}; "
                      f"memory = peak RSS (VmHWM) of the page's renderer process over the measured runs",
                ("figure", "ours", "peer (same run)", "ratio", "target", "result"))
    if "other_threads" in raw:
        key = f"ours-{other}thr"
        trows = []
        for n in sizes:
            one, two = summary(raw["sizes"][n]["ours"]), summary(raw["sizes"][n][key])
            trows.append((f"{n}: all scored", fmt_ms(one["all"]), fmt_ms(two["all"]),
                          f"{two['all'] / one['all']:.2f}x"))
            trows.append((f"{n}: first score visible", fmt_ms(one["first"]), fmt_ms(two["first"]),
                          f"{two['first'] / one['first']:.2f}x"))
            trows.append((f"{n}: longest main-thread task", fmt_ms(one["longest"]), fmt_ms(two["longest"]), "-"))
        print_table(trows, f"Page worker threads (navigator.hardwareConcurrency {raw['cores']}): default {threads} "
                           f"vs {raw['other_threads']}, same run", ("figure", f"{threads} thread(s)",
                                                                      f"{raw['other_threads']} threads", "ratio"))
    print_details(raw)
    return finish(raw, [r[0] for r in rows if r[5] == "MISS"], args.json, args.no_fail)


if __name__ == "__main__":
    sys.exit(main())
