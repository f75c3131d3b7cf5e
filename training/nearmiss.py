"""The held-out near-miss set (evaluation only, never trained on): perlfaq questions from `perl-doc`.

Each query is a perlfaq question; its relevant passage is its own answer. The other candidates are answers to
*other* perlfaq questions that mention the query's topic: the union of the top 6 by BM25 and the top 6 by the
all-MiniLM-L6-v2 bi-encoder's cosine (what a keyword search and a vector search would return), keeping only
answers that share at least one content word (not a stop word) with the question. Candidates are stored in BM25
order, so the BM25 row ranks them by keyword score; the answer is always among them, so the ceiling is 1.
"""
from __future__ import annotations

import numpy as np

from training.bm25 import BM25
from training.common import WORK, base_model_dir, read_jsonl, write_jsonl

NAME = "nearmiss_perlfaq"
PER_RETRIEVER = 6


def content_words(bm25: BM25, text: str) -> set[str]:
    """The BM25 analyser's terms of a text (lower-cased, English stop words removed)."""
    return set(bm25.vec.build_analyzer()(text))


def build() -> list[dict]:
    """Write training/work/nearmiss_perlfaq.jsonl and return its queries."""
    from sentence_transformers import SentenceTransformer  # noqa: PLC0415

    rows = read_jsonl(WORK / "perlfaq.jsonl")
    passages = [r["passage"] for r in rows]
    queries = [r["query"] for r in rows]
    bm25 = BM25(passages)
    lexical = bm25.scores(queries)
    model = SentenceTransformer(str(base_model_dir()), device="cpu")
    p_emb = model.encode(passages, batch_size=32, normalize_embeddings=True, show_progress_bar=False)
    q_emb = model.encode(queries, batch_size=32, normalize_embeddings=True, show_progress_bar=False)
    dense = q_emb @ p_emb.T
    out = []
    for i, r in enumerate(rows):
        words = content_words(bm25, r["query"])
        pick: set[int] = set()
        for scores in (lexical[i], dense[i]):
            others = [int(j) for j in np.argsort(-scores, kind="stable") if j != i
                      and words & content_words(bm25, passages[j])]
            pick.update(others[:PER_RETRIEVER])
        if not pick:
            continue
        cands = sorted([i, *pick], key=lambda j: (-lexical[i][j], j))
        out.append({"qid": r["id"], "query": r["query"],
                    "candidates": [{"id": rows[j]["id"], "text": passages[j], "rel": int(j == i)} for j in cands]})
    write_jsonl(WORK / f"{NAME}.jsonl", out)
    sizes = [len(q["candidates"]) for q in out]
    print(f"nearmiss: {NAME}: {len(out)} queries, {min(sizes)}-{max(sizes)} candidates (mean {np.mean(sizes):.1f})")
    return out
