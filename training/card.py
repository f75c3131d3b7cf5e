"""Stage `card`: write models/minilm-l6-debian-ce/README.md from the recorded metrics (no hand-typed numbers)."""
from __future__ import annotations

import json

from training.common import MAX_LENGTH, MODEL_OUT, WORK, read_jsonl

TEMPLATE = (WORK.parent / "card_template.md")


def run() -> None:
    """Fill the card template with eval tables, parity, export and training facts."""
    log = read_jsonl(WORK / "train_log.jsonl")
    cfg = log[0]["config"]
    done = next((r for r in log if r.get("done")), {})
    parity = json.loads((WORK / "parity.json").read_text())
    export = json.loads((WORK / "export_report.json").read_text())
    chosen = export["chosen"]
    variants = "\n".join(
        f"| {name} | {v['bytes'] / 1e6:.1f} | {v['mean_abs_dlogit']:.3f} | {v['max_abs_dlogit']:.3f} | "
        f"{v['max_abs_dlogit_long'] if v['max_abs_dlogit_long'] is None else round(v['max_abs_dlogit_long'], 3)} | "
        f"{v['spearman']:.4f} |" for name, v in export["variants"].items())
    size = (MODEL_OUT / "onnx" / "model_quantized.onnx").stat().st_size
    text = TEMPLATE.read_text().format(
        eval_tables=(WORK / "eval.md").read_text().strip(), max_length=MAX_LENGTH,
        size_mb=f"{size / 1e6:.1f}", size_bytes=size, chosen=chosen, variants=variants,
        n_select=export["n_pairs"], n_select_long=export["n_long_pairs"],
        fp32_mb=f"{export['fp32_bytes'] / 1e6:.1f}",
        parity_n=parity["n_pairs"], parity_trunc=parity["n_truncated_at_max_length"],
        parity_max=f"{parity['int8_vs_torch']['max_abs_dlogit']:.3f}",
        parity_mean=f"{parity['int8_vs_torch']['mean_abs_dlogit']:.3f}",
        parity_rho=f"{parity['int8_vs_torch']['spearman']:.4f}",
        fp32_max=f"{parity['fp32_onnx_vs_torch']['max_abs_dlogit']:.2e}",
        fp32_rho=f"{parity['fp32_onnx_vs_torch']['spearman']:.4f}",
        wall_min=done.get("wall_min", "?"), cfg="\n".join(f"| {k} | {v} |" for k, v in cfg.items()),
        non_standard=", ".join(export["non_standard_ops"]) or "none",
    )
    (MODEL_OUT / "README.md").write_text(text)
    print(f"card: wrote {MODEL_OUT / 'README.md'}")
