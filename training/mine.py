"""Stage `mine`: group Debian siblings, split held-out groups, mine BM25 hard negatives, build eval sets."""
from __future__ import annotations

import hashlib
import random
import re

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer

from training import nearmiss
from training.bm25 import BM25
from training.common import SEED, WORK, read_jsonl, write_jsonl

PREFIXES = r"^(lib|python3-|python-|pypy-|ruby-|node-|golang-github-|golang-|r-cran-|r-bioc-|r-other-|php-|fonts-|" \
           r"texlive-|libghc-|elpa-|gir1\.2-|librust-|rust-|haskell-|ocaml-|lua-|perl-|xfonts-|" \
           r"gnome-shell-extension-|vim-|emacs-|tcl-|octave-|erlang-|jruby-|coq-|sbcl-|cl-)+"
SUFFIXES = r"(-dev|-doc|-docs|-common|-data|-bin|-utils|-tools|-dbg|-perl|-java|-ocaml|-examples|-tests?|" \
           r"-plugins?|-modules?|-runtime|-core|-extra|-all|-l10n|-i18n|-locales?|-static|-headers|-cil|-gtk|" \
           r"-qt\d?|-gui|-cli|-server|-client|-daemon|-backend|-base|t64|[-.\d]+|-dev-bin)+$"
SKIP_SHORT = re.compile(r"transitional|dummy|debug symbols|metapackage|meta-package|virtual package|obsolete", re.I)
TEST_PERCENT, DEV_PERCENT = 6, 2
N_TEST, N_DEV, N_TRAIN_DEBIAN = 500, 150, 16000
N_NEG = 12


def name_stem(pkg: str) -> str:
    """Package name without the usual binary-package prefixes/suffixes (lib*, python3-*, *-dev, *-doc ...)."""
    stem = re.sub(PREFIXES, "", pkg.lower())
    stem = re.sub(SUFFIXES, "", stem)
    return stem if len(stem) >= 4 else pkg


class UnionFind:
    """Disjoint sets over 0..n-1."""

    def __init__(self, n: int) -> None:
        self.parent = list(range(n))

    def find(self, i: int) -> int:
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def group_packages(rows: list[dict]) -> list[int]:
    """Group id per package: same source package, same name stem, or identical short/long description."""
    uf = UnionFind(len(rows))
    first: dict[tuple[str, str], int] = {}
    for i, r in enumerate(rows):
        for key in [("src", r["source"]), ("stem", name_stem(r["pkg"])), ("short", r["short"].lower()),
                    ("long", r["long"].lower())]:
            if key in first:
                uf.union(first[key], i)
            else:
                first[key] = i
    return [uf.find(i) for i in range(len(rows))]


def near_duplicates(texts: list[str], threshold: float = 0.6) -> list[set[int]]:
    """For each text, the other texts with TF-IDF cosine >= threshold (rare-word TF-IDF, chunked sparse matmul).

    Not merged into groups (chains would make one giant group); used to drop candidates/queries instead."""
    tfidf = TfidfVectorizer(token_pattern=r"(?u)\b\w\w+\b", stop_words="english", min_df=2, max_df=0.02,
                            dtype=np.float32)
    x = tfidf.fit_transform(texts).tocsr()
    xt = x.T.tocsr()
    out: list[set[int]] = [set() for _ in texts]
    for start in range(0, x.shape[0], 4000):
        sims = (x[start:start + 4000] @ xt).tocoo()
        keep = (sims.data >= threshold) & (sims.row + start != sims.col)
        for a, b in zip(sims.row[keep] + start, sims.col[keep]):
            out[int(a)].add(int(b))
    return out


def split_of(group_key: str) -> str:
    """Deterministic split of a group: 'test', 'dev' or 'train' by a seeded hash of its key."""
    h = int(hashlib.sha256(f"{SEED}:{group_key}".encode()).hexdigest(), 16) % 100
    return "test" if h < TEST_PERCENT else "dev" if h < TEST_PERCENT + DEV_PERCENT else "train"


def usable_query(r: dict) -> bool:
    """Skip transitional/dummy/debug packages and descriptions too short to be a passage."""
    return not SKIP_SHORT.search(r["short"]) and len(r["long"].split()) >= 12 and len(r["short"].split()) >= 2


def mine_debian(rng: random.Random) -> None:
    """Write debian_train.jsonl (query, pos, BM25 negatives) and debian_{dev,test}.jsonl (BM25 top-20)."""
    rows = read_jsonl(WORK / "debian.jsonl")
    groups = group_packages(rows)
    dups = near_duplicates([r["long"] for r in rows])
    keys = {g: rows[g]["pkg"] for g in set(groups)}  # group root's package name as its key
    split = [split_of(keys[g]) for g in groups]
    sizes = np.bincount(groups)
    print(f"mine: {len(rows)} packages, {len(set(groups))} groups, largest group {sizes.max()}; "
          f"test packages {split.count('test')}, dev {split.count('dev')}")
    bm25 = BM25([r["long"] for r in rows])
    train_ok = np.array([s == "train" for s in split])
    for part, n in [("test", N_TEST), ("dev", N_DEV)]:
        by_group: dict[int, list[int]] = {}
        for i, r in enumerate(rows):
            leaks = any(split[j] != part for j in dups[i])
            if split[i] == part and usable_query(r) and not leaks:
                by_group.setdefault(groups[i], []).append(i)
        chosen = sorted(rng.choice(v) for v in by_group.values())
        chosen = sorted(rng.sample(chosen, min(n, len(chosen))))
        top = bm25.top_k([rows[i]["short"] for i in chosen], 80)
        out = []
        for qi, cands in zip(chosen, top):
            # siblings (same group) are neither relevant nor negatives: drop them, keep the package itself
            # near-duplicate descriptions likewise
            ranked = [int(c) for c in cands if c == qi or (groups[c] != groups[qi] and c not in dups[qi])][:20]
            out.append({"qid": rows[qi]["pkg"], "query": rows[qi]["short"],
                        "candidates": [{"id": rows[c]["pkg"], "text": rows[c]["long"], "rel": int(c == qi)}
                                       for c in ranked]})
        write_jsonl(WORK / f"debian_{part}.jsonl", out)
        print(f"mine: debian_{part}: {len(out)} queries, positive in BM25 top-20: "
              f"{np.mean([any(c['rel'] for c in q['candidates']) for q in out]):.3f}")
    train_idx = [i for i, r in enumerate(rows) if split[i] == "train" and usable_query(r)]
    train_idx = sorted(rng.sample(train_idx, min(N_TRAIN_DEBIAN, len(train_idx))))
    top = bm25.top_k([rows[i]["short"] for i in train_idx], 60)
    train_pool = np.flatnonzero(train_ok)
    out = []
    for qi, cands in zip(train_idx, top):
        negs = [int(c) for c in cands if train_ok[c] and groups[c] != groups[qi] and c not in dups[qi]][:N_NEG]
        rand = [int(c) for c in rng.sample(list(train_pool), 8) if groups[c] != groups[qi] and c not in dups[qi]][:2]
        out.append({"query": rows[qi]["short"], "pos": rows[qi]["long"],
                    "hard": [rows[c]["long"] for c in negs], "random": [rows[c]["long"] for c in rand]})
    write_jsonl(WORK / "debian_train.jsonl", out)
    print(f"mine: debian_train: {len(out)} queries")


def mine_ood(name: str) -> None:
    """Out-of-domain eval set (never trained on): each query's own passage among BM25 top-20 of that corpus."""
    rows = read_jsonl(WORK / f"{name}.jsonl")
    bm25 = BM25([r["passage"] for r in rows])
    top = bm25.top_k([r["query"] for r in rows], 20)
    out = [{"qid": r["id"], "query": r["query"],
            "candidates": [{"id": rows[c]["id"], "text": rows[c]["passage"], "rel": int(c == i)} for c in top[i]]}
           for i, r in enumerate(rows)]
    write_jsonl(WORK / f"ood_{name}.jsonl", out)
    print(f"mine: ood_{name}: {len(out)} queries, positive in top-20: "
          f"{np.mean([any(c['rel'] for c in q['candidates']) for q in out]):.3f}")


def run() -> None:
    """Run every mining step with a fixed seed."""
    mine_debian(random.Random(SEED))
    mine_ood("pyfaq")
    mine_ood("manpages")
    nearmiss.build()
