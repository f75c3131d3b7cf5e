"""Stage `train`: listwise Debian relevance + bi-encoder distillation on WordNet, from all-MiniLM-L6-v2."""
from __future__ import annotations

import json
import math
import random
import time
from dataclasses import asdict, dataclass

from training.common import SEED, WORK, read_jsonl, seed_everything

QUERY_TEMPLATES = ["{}", "{}", "{}", "what is a {}?", "i need {}", "looking for {}", "{} for linux",
                   "which package provides {}?"]


@dataclass
class TrainConfig:
    """Hyper-parameters of one run (logged next to the metrics)."""

    steps: int = 650
    debian_queries: int = 3
    wordnet_queries: int = 3
    list_size: int = 8
    debian_max_len: int = 128
    wordnet_max_len: int = 48
    lr: float = 4e-5
    head_lr: float = 5e-4
    warmup: int = 50
    freeze_embeddings: bool = True
    weight_decay: float = 0.01
    bce_weight: float = 0.5
    distil_weight: float = 1.0
    teacher_temperature: float = 0.05
    seed: int = SEED
    threads: int = 2


def debian_list(row: dict, cfg: TrainConfig, rng: random.Random, pool: list[dict]) -> tuple[str, list[str]]:
    """One query (sometimes phrased as a request): positive first, BM25 hard negatives, random ones to fill."""
    short = row["query"]
    query = rng.choice(QUERY_TEMPLATES).format(short[0].lower() + short[1:])
    hard = rng.sample(row["hard"], min(cfg.list_size - 2, len(row["hard"])))
    fill = list(row["random"])
    while len(hard) + len(fill) < cfg.list_size - 1:
        fill.append(rng.choice(pool)["pos"])  # another training query's description
    return query, [row["pos"], *hard, *fill][: cfg.list_size]


def run(cfg: TrainConfig | None = None) -> None:
    """Train and save the PyTorch model to training/work/model_torch."""
    import torch  # noqa: PLC0415
    import torch.nn.functional as F  # noqa: PLC0415
    from transformers import AutoTokenizer, BertForSequenceClassification  # noqa: PLC0415

    from training.export import init_cross_encoder  # noqa: PLC0415

    cfg = cfg or TrainConfig()
    seed_everything(cfg.seed)
    torch.set_num_threads(cfg.threads)
    rng = random.Random(cfg.seed)
    init_dir, out_dir = WORK / "model_init", WORK / "model_torch"
    init_cross_encoder(init_dir, cfg.seed)
    tok = AutoTokenizer.from_pretrained(str(init_dir))
    model = BertForSequenceClassification.from_pretrained(str(init_dir))
    model.train()
    if cfg.freeze_embeddings:
        # keeps the encoder's vocabulary knowledge for words Debian never uses, and saves a dense AdamW update
        # of the 11.7M-parameter embedding table every step
        for p in model.bert.embeddings.parameters():
            p.requires_grad_(False)
    debian = read_jsonl(WORK / "debian_train.jsonl")
    wordnet = read_jsonl(WORK / "wordnet_train.jsonl")
    rng.shuffle(debian)
    rng.shuffle(wordnet)
    trainable = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    head = [p for n, p in trainable if n.startswith(("classifier", "bert.pooler"))]
    body = [p for n, p in trainable if not n.startswith(("classifier", "bert.pooler"))]
    opt = torch.optim.AdamW([{"params": body, "lr": cfg.lr}, {"params": head, "lr": cfg.head_lr}],
                            weight_decay=cfg.weight_decay)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, (s + 1) / cfg.warmup) * max(0.0, 1 - s / cfg.steps))
    log = (WORK / "train_log.jsonl").open("w")
    log.write(json.dumps({"config": asdict(cfg)}) + "\n")
    t0, acc = time.time(), {"ce": 0.0, "bce": 0.0, "kl": 0.0, "n": 0}

    def score(queries: list[str], passages: list[str], max_len: int) -> torch.Tensor:
        enc = tok(queries, passages, truncation="only_second", max_length=max_len, padding=True, return_tensors="pt")
        return model(**enc).logits.squeeze(-1)

    for step in range(cfg.steps):
        k = cfg.list_size
        rows = [debian[(step * cfg.debian_queries + i) % len(debian)] for i in range(cfg.debian_queries)]
        lists = [debian_list(r, cfg, rng, debian) for r in rows]
        qs = [q for q, ps in lists for _ in ps]
        ps = [p for _, ps in lists for p in ps]
        logits = score(qs, ps, cfg.debian_max_len).view(len(lists), k)
        target = torch.zeros(len(lists), dtype=torch.long)
        ce = F.cross_entropy(logits, target)
        labels = torch.zeros_like(logits)
        labels[:, 0] = 1.0
        bce = F.binary_cross_entropy_with_logits(logits, labels, pos_weight=torch.tensor(k - 1.0))
        wrows = [wordnet[(step * cfg.wordnet_queries + i) % len(wordnet)] for i in range(cfg.wordnet_queries)]
        wl = score([r["query"] for r in wrows for _ in r["passages"]], [p for r in wrows for p in r["passages"]],
                   cfg.wordnet_max_len).view(len(wrows), -1)
        teacher = torch.softmax(torch.tensor([r["teacher"] for r in wrows]) / cfg.teacher_temperature, dim=-1)
        kl = F.kl_div(F.log_softmax(wl, dim=-1), teacher, reduction="batchmean")
        loss = ce + cfg.bce_weight * bce + cfg.distil_weight * kl
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        opt.zero_grad()
        for key, val in [("ce", ce), ("bce", bce), ("kl", kl)]:
            acc[key] += float(val.detach())
        acc["n"] += 1
        if (step + 1) % 10 == 0 or step == 0:
            rec = {"step": step + 1, "elapsed_s": round(time.time() - t0, 1),
                   **{key: round(acc[key] / acc["n"], 4) for key in ("ce", "bce", "kl")}}
            log.write(json.dumps(rec) + "\n")
            log.flush()
            print(json.dumps(rec), flush=True)
            acc = {"ce": 0.0, "bce": 0.0, "kl": 0.0, "n": 0}
        if (step + 1) % 100 == 0 or step + 1 == cfg.steps:
            model.save_pretrained(str(out_dir))
            tok.save_pretrained(str(out_dir))
            (out_dir / "train_state.json").write_text(json.dumps({"step": step + 1, "of": cfg.steps}))
    total = time.time() - t0
    log.write(json.dumps({"done": True, "wall_s": round(total, 1), "wall_min": round(total / 60, 1)}) + "\n")
    log.close()
    print(f"train: {cfg.steps} steps in {math.ceil(total / 60)} min")
