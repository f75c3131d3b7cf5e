"""Stage `parity`: shipped int8 ONNX vs PyTorch on 100 held-out pairs; writes the reference file the tests use."""
from __future__ import annotations

import json
import random

import numpy as np

from training.common import MAX_LENGTH, MODEL_OUT, REPO, SEED, WORK, read_jsonl, write_json

REFERENCE = REPO / "tests" / "model" / "reference.json"


def pick_pairs(n: int = 100) -> list[tuple[str, str, int]]:
    """100 pairs from the held-out test split: one positive + one BM25 candidate per query, long ones included."""
    rng = random.Random(SEED)
    pairs = []
    for q in rng.sample(read_jsonl(WORK / "debian_test.jsonl"), n // 2):
        pos = [c for c in q["candidates"] if c["rel"]] or q["candidates"][:1]
        other = [c for c in q["candidates"] if not c["rel"]]
        pairs.append((q["query"], pos[0]["text"], pos[0]["rel"]))
        pairs.append((q["query"], max(other, key=lambda c: len(c["text"]))["text"], 0))
    return pairs[:n]


def run() -> None:
    """Compute PyTorch and ONNX logits, report max |dlogit| and Spearman, write tests/model/reference.json."""
    from scipy.stats import spearmanr  # noqa: PLC0415

    from training.evaluate import encode_pairs, onnx_scorer, torch_scorer  # noqa: PLC0415

    pairs = pick_pairs()
    qs, ps, rels = [q for q, _, _ in pairs], [p for _, p, _ in pairs], [r for _, _, r in pairs]
    pt = torch_scorer(WORK / "model_torch")(qs, ps)
    int8 = onnx_scorer(MODEL_OUT / "onnx" / "model_quantized.onnx")(qs, ps)
    fp32 = onnx_scorer(WORK / "onnx" / "model_fp32.onnx")(qs, ps)
    rows = []
    for q, p, rel, logit in zip(qs, ps, rels, pt):
        enc = encode_pairs(MODEL_OUT / "tokenizer.json", [q], [p])
        rows.append({"query": q, "passage": p, "relevant": bool(rel), "input_ids": enc["input_ids"][0].tolist(),
                     "token_type_ids": enc["token_type_ids"][0].tolist(), "torch_logit": round(float(logit), 5)})
    wins = [int8[i] > int8[i + 1] for i in range(0, len(rows) - 1, 2) if rows[i]["relevant"]]
    n_trunc = sum(len(r["input_ids"]) == MAX_LENGTH for r in rows)
    stats = {
        "n_pairs": len(rows), "n_truncated_at_max_length": n_trunc,
        "int8_own_description_above_other_candidate": float(np.mean(wins)), "n_queries_with_positive": len(wins),
        "int8_vs_torch": {"max_abs_dlogit": float(np.abs(int8 - pt).max()),
                          "mean_abs_dlogit": float(np.abs(int8 - pt).mean()),
                          "spearman": float(spearmanr(int8, pt).statistic)},
        "fp32_onnx_vs_torch": {"max_abs_dlogit": float(np.abs(fp32 - pt).max()),
                               "spearman": float(spearmanr(fp32, pt).statistic)},
    }
    REFERENCE.write_text(json.dumps({"about": "Held-out Debian pairs: token ids from models/minilm-l6-debian-ce/tokenizer.json and "
                                    "logits of the PyTorch fp32 model the shipped int8 ONNX was exported from "
                                    "(training/parity.py).", "max_length": MAX_LENGTH, "stats": stats, "pairs": rows},
                                    ensure_ascii=False, separators=(",", ":")) + "\n")
    write_json(WORK / "parity.json", stats)
    print(f"parity: {stats}")
