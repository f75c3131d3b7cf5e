"""Stage `card`: write models/minilm-l6-debian-ce/README.md from the recorded metrics (no hand-typed numbers)."""
from __future__ import annotations

import json

import torch

from training.common import MAX_LENGTH, MODEL_OUT, WORK, read_jsonl

TEMPLATE = (WORK.parent / "card_template.md")


def status_lines(sets: dict) -> str:
    """One line per target of the model issue, with the numbers and met / NOT met."""
    def line(ok: bool, text: str) -> str:
        return f"- {'met' if ok else '**NOT met**'}: {text}"

    d = {k: v["mrr@10"] for k, v in sets["debian_test"].items() if isinstance(v, dict)}
    out = [line(d["fp32"] - d["bm25"] >= 0.10, f"in-domain fp32 beats BM25 by >= 0.10 MRR@10 "
                f"({d['fp32']:.3f} vs {d['bm25']:.3f}, +{d['fp32'] - d['bm25']:.3f})"),
           line(d["fp32"] >= d["bi-encoder"], f"in-domain fp32 not below the bi-encoder ({d['fp32']:.3f} vs "
                f"{d['bi-encoder']:.3f})"),
           line(abs(d["int8"] - d["fp32"]) <= 0.01, f"shipped int8 within 0.01 MRR@10 of fp32 ({d['int8']:.3f} vs "
                f"{d['fp32']:.3f})")]
    for name, res in sets.items():
        if not name.startswith("ood_"):
            continue
        m = {k: v["mrr@10"] for k, v in res.items() if isinstance(v, dict)}
        out.append(line(m["int8"] > m["bm25"] and m["int8"] >= m["bi-encoder"],
                        f"out of domain ({name[4:]}): shipped int8 beats BM25 and is not below the bi-encoder "
                        f"({m['int8']:.3f} vs BM25 {m['bm25']:.3f}, bi-encoder {m['bi-encoder']:.3f})"))
    return "\n".join(out)


def run() -> None:
    """Fill the card template with eval tables, parity, export and training facts."""
    log = read_jsonl(WORK / "train_log.jsonl")
    cfg = [r for r in log if "config" in r][-1]["config"]  # a resumed run appends its config
    wall_min = round(sum(r["wall_min"] for r in log if r.get("done")), 1) or "?"  # one "done" per (resumed) part
    parity = json.loads((WORK / "parity.json").read_text())
    export = json.loads((WORK / "export_report.json").read_text())
    chosen = export["chosen"]
    head = torch.load(WORK / "model_torch" / "gated_head.pt")
    variants = "\n".join(
        f"| {'**' + name + '** (shipped)' if name == chosen else name} | {v['kind']} | {v['bytes'] / 1e6:.1f} | "
        f"{v['mean_abs_dlogit']:.3f} | {v['max_abs_dlogit']:.3f} | "
        f"{v['max_abs_dlogit_long'] if v['max_abs_dlogit_long'] is None else round(v['max_abs_dlogit_long'], 3)} | "
        f"{v['spearman']:.4f} | {v['batch_variation']:.2g} | {'; '.join(v['rejected_because']) or '-'} |"
        for name, v in export["variants"].items())
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
        wall_min=wall_min, cfg="\n".join(f"| {k} | {v} |" for k, v in cfg.items()),
        non_standard=", ".join(export["non_standard_ops"]) or "none",
        status=status_lines(json.loads((WORK / "eval_results.json").read_text())["sets"]),
        gates=", ".join(f"{g:.2f}" for g in head["gates"].tolist()), scale=f"{head['log_scale'].exp().item():.1f}",
    )
    (MODEL_OUT / "README.md").write_text(text)
    print(f"card: wrote {MODEL_OUT / 'README.md'}")
