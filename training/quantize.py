"""Stage `export`: PyTorch -> fp32 ONNX -> ORT basic graph optimisation -> int8, variant chosen by measurement.

A variant ships only if it fits 25 MB, gives every pair the same logit whatever batch it is in, and runs in
onnxruntime-web's wasm build with the logits of native onnxruntime; among those, the closest to fp32 wins."""
from __future__ import annotations

import collections
import json
import shutil
from pathlib import Path

import numpy as np

from training.common import MODEL_OUT, WORK, read_jsonl, write_json
from training.export import export_fp32, quantize, quantize_weight_only, write_config, write_tokenizer_files

# int8 variants compared; every one quantises the word-embedding Gather (fp32 embeddings alone are 47 MB).
# "dynamic" = quantize_dynamic: int8 weights AND activations quantised at run time with one scale per tensor, so a
# pair's logit depends on the other pairs (and padding) of its batch, and ORT Web rounds differently from native.
# "weight-only" = int8 weights, float32 activations (int8 MatMul weight blocks folded to float32 at load + int8 embedding rows): batch-invariant.
VARIANTS: dict[str, dict] = {
    "per-channel": {"kind": "dynamic", "per_channel": True, "reduce_range": False},
    "per-channel+reduce-range": {"kind": "dynamic", "per_channel": True, "reduce_range": True},
    "per-tensor": {"kind": "dynamic", "per_channel": False, "reduce_range": False},
    "weight-only-b32": {"kind": "weight-only", "block_size": 32},
    "weight-only-b128": {"kind": "weight-only", "block_size": 128},
}
MAX_BYTES = 25_000_000
BATCH_TOLERANCE = 1e-4  # |logit alone - logit inside a batch of long passages|, native and ORT Web
WEB_TOLERANCE = 1e-3  # |ORT Web wasm - native onnxruntime| on the fixed pair (the issue's parity bound)
WEB_IDS = [101, 2129, 2079, 22487, 2147, 102, 1996, 22487, 2024, 3303, 102]  # "how do tides work" / "the tides are caused"
WEB_TYPES = [0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1]


def optimise_basic(src: str, dst: str) -> None:
    """ORT offline optimisation at BASIC level: constant folding and redundant-node elimination only.

    BASIC keeps standard ai.onnx ops (no com.microsoft fused kernels), so ORT Web's wasm backend runs the result."""
    import onnxruntime as ort  # noqa: PLC0415

    opts = ort.SessionOptions()
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_BASIC
    opts.optimized_model_filepath = dst
    ort.InferenceSession(src, opts, providers=["CPUExecutionProvider"])


def op_census(path: str) -> dict[str, int]:
    """Count ops per domain:type, to check nothing outside the standard domain slipped in."""
    import onnx  # noqa: PLC0415

    model = onnx.load(path)
    return dict(collections.Counter(f"{n.domain or 'ai.onnx'}:{n.op_type}" for n in model.graph.node))


def selection_pairs(n_queries: int = 50) -> tuple[list[str], list[str], list[int], list[bool]]:
    """Dev-split pairs (never test) for choosing quantisation: queries, passages, rel, long-passage flag."""
    from tokenizers import Tokenizer  # noqa: PLC0415

    tok = Tokenizer.from_file(str(MODEL_OUT / "tokenizer.json"))
    tok.no_truncation()
    qs, ps, rels, long = [], [], [], []
    for q in read_jsonl(WORK / "debian_dev.jsonl")[:n_queries]:
        for c in q["candidates"]:
            qs.append(q["query"])
            ps.append(c["text"])
            rels.append(c["rel"])
            long.append(len(tok.encode(q["query"], c["text"]).ids) > 256)
    return qs, ps, rels, long


def ortweb_check(model: Path) -> dict[str, list[float]] | str:
    """Run the file with onnxruntime-web (wasm backend, the page's runtime) in Node.

    Returns {"alone": [logit of WEB_IDS], "batch": [same pair padded, a long pair]} or the error text."""
    import subprocess  # noqa: PLC0415

    from training.common import REPO  # noqa: PLC0415

    ort_mjs = REPO / "node_modules" / "onnxruntime-web" / "dist" / "ort.wasm.min.mjs"
    if not ort_mjs.exists():
        return "skipped: node_modules/onnxruntime-web missing"
    res = subprocess.run(["node", str(Path(__file__).parent / "ortweb_check.mjs"), str(ort_mjs), str(model)],
                         capture_output=True, text=True, timeout=300)
    if res.returncode != 0:
        return res.stderr[-500:]
    return json.loads(res.stdout.strip().splitlines()[-1])


def make_variant(opt: Path, path: Path, spec: dict) -> None:
    """Write one int8 variant of the optimised fp32 file."""
    kw = {k: v for k, v in spec.items() if k != "kind"}
    if spec["kind"] == "weight-only":
        quantize_weight_only(opt, path, **kw)
    else:
        quantize(opt, path, op_types=["MatMul", "Gemm", "Gather"], **kw)


def native_logit(path: Path) -> float:
    """Native onnxruntime logit of the fixed WEB_IDS pair, alone."""
    import onnxruntime as ort  # noqa: PLC0415

    feeds = {"input_ids": np.array([WEB_IDS]), "attention_mask": np.ones((1, len(WEB_IDS)), dtype=np.int64),
             "token_type_ids": np.array([WEB_TYPES])}
    return float(ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(["logits"], feeds)[0][0, 0])


def batch_variation(path: Path, qs: list[str], ps: list[str], long: list[bool], n_short: int = 8) -> float:
    """Max |logit alone - logit in one padded batch with long passages| over n_short short pairs (native ORT)."""
    import onnxruntime as ort  # noqa: PLC0415

    from training.evaluate import encode_pairs  # noqa: PLC0415

    tok = MODEL_OUT / "tokenizer.json"
    short = [i for i, is_long in enumerate(long) if not is_long][:n_short]
    longs = [i for i, is_long in enumerate(long) if is_long][:4]
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    alone = [sess.run(["logits"], encode_pairs(tok, [qs[i]], [ps[i]]))[0][0, 0] for i in short]
    mixed = sess.run(["logits"], encode_pairs(tok, [qs[i] for i in short + longs], [ps[i] for i in short + longs]))[0]
    return float(np.abs(np.array(alone) - mixed[:len(short), 0]).max())


def web_report(path: Path) -> dict:
    """ORT Web wasm vs native on the fixed pair, and ORT Web alone vs in a batch; "error" if it does not run."""
    web = ortweb_check(path)
    if isinstance(web, str):
        return {"error": web}
    native = native_logit(path)
    return {"onnxruntime_web_wasm": web["alone"][0], "onnxruntime_python": native,
            "abs_diff": abs(web["alone"][0] - native), "web_batch_variation": abs(web["batch"][0] - web["alone"][0])}


def rejections(r: dict) -> list[str]:
    """Why a measured variant may not ship (empty list: eligible)."""
    why = []
    if r["bytes"] > MAX_BYTES:
        why.append(f"{r['bytes']} bytes > {MAX_BYTES}")
    if r["batch_variation"] > BATCH_TOLERANCE:
        why.append(f"logit depends on the batch (native, up to {r['batch_variation']:.3g})")
    web = r["ortweb_check"]
    if "error" in web:
        if not web["error"].startswith("skipped"):
            why.append("does not run in onnxruntime-web wasm")
    elif web["abs_diff"] > WEB_TOLERANCE or web["web_batch_variation"] > BATCH_TOLERANCE:
        why.append(f"ORT Web differs from native by {web['abs_diff']:.3g} (batch variation {web['web_batch_variation']:.3g})")
    return why


def run(torch_dir: Path = WORK / "model_torch", n_select: int = 40) -> None:
    """Export, optimise, try int8 variants against fp32 on dev pairs, ship the best eligible one."""
    raw, opt = WORK / "onnx" / "model_fp32_raw.onnx", WORK / "onnx" / "model_fp32.onnx"
    write_tokenizer_files(MODEL_OUT)
    write_config(torch_dir, MODEL_OUT)
    export_fp32(torch_dir, raw)
    optimise_basic(str(raw), str(opt))
    select_and_ship(opt, WORK / "onnx", WORK / "export_report.json", n_select)


def select_and_ship(opt: Path, variants_dir: Path, report_path: Path, n_select: int = 40) -> None:
    """Quantise the optimised fp32 file every way in VARIANTS, measure, copy the winner to the shipped path."""
    from scipy.stats import spearmanr  # noqa: PLC0415

    from training.evaluate import onnx_scorer  # noqa: PLC0415

    qs, ps, rels, long = selection_pairs(n_select)
    long_mask = np.array(long)
    ref = onnx_scorer(opt)(qs, ps)
    report: dict = {"fp32_ops": op_census(str(opt)), "n_pairs": len(qs), "n_long_pairs": int(long_mask.sum()),
                    "variants": {}}
    best = None
    for name, spec in VARIANTS.items():
        path = variants_dir / f"model_int8_{name}.onnx"
        make_variant(opt, path, spec)
        got = onnx_scorer(path)(qs, ps)
        delta = np.abs(got - ref)
        r = {"kind": spec["kind"], "bytes": path.stat().st_size, "max_abs_dlogit": float(delta.max()),
             "mean_abs_dlogit": float(delta.mean()),
             "max_abs_dlogit_long": float(delta[long_mask].max()) if long_mask.any() else None,
             "spearman": float(spearmanr(got, ref).statistic),
             "spearman_long": float(spearmanr(got[long_mask], ref[long_mask]).statistic) if long_mask.sum() > 2 else None,
             "batch_variation": batch_variation(path, qs, ps, long), "ortweb_check": web_report(path),
             "ops": op_census(str(path))}
        r["rejected_because"] = rejections(r)
        report["variants"][name] = r
        print(f"export: {name}: {json.dumps({k: v for k, v in r.items() if k != 'ops'})}", flush=True)
        if not r["rejected_because"] and (best is None or r["mean_abs_dlogit"] < report["variants"][best]["mean_abs_dlogit"]):
            best = name
    assert best is not None, "no int8 variant fits 25 MB, is batch-invariant and runs in ORT Web like native ORT"
    report["chosen"] = best
    report["fp32_bytes"] = opt.stat().st_size
    (MODEL_OUT / "onnx").mkdir(parents=True, exist_ok=True)
    shutil.copy(variants_dir / f"model_int8_{best}.onnx", MODEL_OUT / "onnx" / "model_quantized.onnx")
    foreign = [op for op in report["variants"][best]["ops"] if not op.startswith("ai.onnx:")]
    report["non_standard_ops"] = foreign
    report["ortweb_check"] = report["variants"][best]["ortweb_check"]
    print(f"export: onnxruntime-web wasm check: {report['ortweb_check']}")
    write_json(report_path, report)
    print(f"export: shipped {best} ({report['variants'][best]['bytes'] / 1e6:.1f} MB); non-standard ops: {foreign} "
          "(ORT Web wasm parity checked above)")


if __name__ == "__main__":
    # Re-run only the selection on an existing fp32 file: python3 -m training.quantize [fp32.onnx] [variants dir]
    import sys

    fp32 = Path(sys.argv[1]) if len(sys.argv) > 1 else WORK / "onnx" / "model_fp32.onnx"
    out = Path(sys.argv[2]) if len(sys.argv) > 2 else WORK / "onnx"
    out.mkdir(parents=True, exist_ok=True)
    select_and_ship(fp32, out, out / "export_report.json" if len(sys.argv) > 2 else WORK / "export_report.json")
