"""Stage `export`: PyTorch -> fp32 ONNX -> ORT basic graph optimisation -> dynamic int8, settings chosen by measurement."""
from __future__ import annotations

import collections
import json
import shutil
from pathlib import Path

import numpy as np

from training.common import MODEL_OUT, WORK, read_jsonl, write_json
from training.export import export_fp32, quantize, write_config, write_tokenizer_files

# int8 variants compared; every one quantises the word-embedding Gather (fp32 embeddings alone are 47 MB)
VARIANTS = {
    "per-channel": {"per_channel": True, "reduce_range": False},
    "per-channel+reduce-range": {"per_channel": True, "reduce_range": True},
    "per-tensor": {"per_channel": False, "reduce_range": False},
}
MAX_BYTES = 25_000_000
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


def ortweb_check(model: Path) -> list[float] | str:
    """Run the file with onnxruntime-web (wasm backend, the page's runtime) in Node; logits or the error text."""
    import subprocess  # noqa: PLC0415

    from training.common import REPO  # noqa: PLC0415

    ort_mjs = REPO / "node_modules" / "onnxruntime-web" / "dist" / "ort.wasm.min.mjs"
    if not ort_mjs.exists():
        return "skipped: node_modules/onnxruntime-web missing"
    res = subprocess.run(["node", str(Path(__file__).parent / "ortweb_check.mjs"), str(ort_mjs), str(model)],
                         capture_output=True, text=True, timeout=300)
    if res.returncode != 0:
        return res.stderr[-500:]
    return [float(x) for x in res.stdout.split("[")[1].split("]")[0].split(",")]


def run(torch_dir: Path = WORK / "model_torch", n_select: int = 40) -> None:
    """Export, optimise, try int8 variants against fp32 on dev pairs, ship the best one that fits 25 MB."""
    from scipy.stats import spearmanr  # noqa: PLC0415

    from training.evaluate import onnx_scorer  # noqa: PLC0415

    raw, opt = WORK / "onnx" / "model_fp32_raw.onnx", WORK / "onnx" / "model_fp32.onnx"
    write_tokenizer_files(MODEL_OUT)
    write_config(torch_dir, MODEL_OUT)
    export_fp32(torch_dir, raw)
    optimise_basic(str(raw), str(opt))
    qs, ps, rels, long = selection_pairs(n_select)
    long_mask = np.array(long)
    ref = onnx_scorer(opt)(qs, ps)
    report: dict = {"fp32_ops": op_census(str(opt)), "n_pairs": len(qs), "n_long_pairs": int(long_mask.sum()),
                    "variants": {}}
    best = None
    for name, kw in VARIANTS.items():
        path = WORK / "onnx" / f"model_int8_{name}.onnx"
        quantize(opt, path, op_types=["MatMul", "Gemm", "Gather"], **kw)
        got = onnx_scorer(path)(qs, ps)
        delta = np.abs(got - ref)
        r = {"bytes": path.stat().st_size, "max_abs_dlogit": float(delta.max()), "mean_abs_dlogit": float(delta.mean()),
             "max_abs_dlogit_long": float(delta[long_mask].max()) if long_mask.any() else None,
             "spearman": float(spearmanr(got, ref).statistic),
             "spearman_long": float(spearmanr(got[long_mask], ref[long_mask]).statistic) if long_mask.sum() > 2 else None,
             "ops": op_census(str(path))}
        report["variants"][name] = r
        print(f"export: {name}: {json.dumps({k: v for k, v in r.items() if k != 'ops'})}", flush=True)
        if r["bytes"] <= MAX_BYTES and (best is None or r["mean_abs_dlogit"] < report["variants"][best]["mean_abs_dlogit"]):
            best = name
    assert best is not None, "no int8 variant fits 25 MB"
    report["chosen"] = best
    report["fp32_bytes"] = opt.stat().st_size
    (MODEL_OUT / "onnx").mkdir(parents=True, exist_ok=True)
    shutil.copy(WORK / "onnx" / f"model_int8_{best}.onnx", MODEL_OUT / "onnx" / "model_quantized.onnx")
    foreign = [op for op in report["variants"][best]["ops"] if not op.startswith("ai.onnx:")]
    report["non_standard_ops"] = foreign
    shipped = MODEL_OUT / "onnx" / "model_quantized.onnx"
    web = ortweb_check(shipped)
    if isinstance(web, list):
        feeds = {"input_ids": np.array([WEB_IDS]), "attention_mask": np.ones((1, len(WEB_IDS)), dtype=np.int64),
                 "token_type_ids": np.array([WEB_TYPES])}
        import onnxruntime as ort  # noqa: PLC0415
        native = float(ort.InferenceSession(str(shipped)).run(["logits"], feeds)[0][0, 0])
        web = {"onnxruntime_web_wasm": web[0], "onnxruntime_python": native, "abs_diff": abs(web[0] - native)}
    report["ortweb_check"] = web
    print(f"export: onnxruntime-web wasm check: {web}")
    write_json(WORK / "export_report.json", report)
    print(f"export: shipped {best} ({report['variants'][best]['bytes'] / 1e6:.1f} MB); non-standard ops: {foreign}")
