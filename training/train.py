"""Stage `train`: the gated cross-encoder (training/gated.py) from all-MiniLM-L6-v2 - listwise Debian relevance,
plus distillation of the frozen bi-encoder on WordNet so the general-language skill it starts with is kept."""
from __future__ import annotations

import json
import math
import random
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from training.common import SEED, WORK, base_model_dir, read_jsonl, seed_everything

QUERY_TEMPLATES = ["{}", "{}", "{}", "what is a {}?", "i need {}", "looking for {}", "{} for linux",
                   "which package provides {}?"]


@dataclass
class TrainConfig:
    """Hyper-parameters of one run (logged next to the metrics)."""

    # warm restarts: each cycle re-warms and decays the rates to zero; a finished cycle is a resumable checkpoint
    cycles: tuple[int, ...] = (700,)
    debian_queries: int = 3
    wordnet_queries: int = 3
    list_size: int = 8
    debian_max_len: int = 160
    wordnet_max_len: int = 48
    lr: float = 2e-5
    gate_lr: float = 2e-2
    head_lr: float = 1e-3
    gate_init: float = -6.0
    warmup: int = 50
    weight_decay: float = 0.01
    bce_weight: float = 0.2
    distil_weight: float = 1.0
    teacher_temperature: float = 0.05
    seed: int = SEED
    threads: int = 2
    dev_every: int = 300
    dev_queries: int = 40
    keep_every: int = 0  # also keep a copy of the weights every N steps (model_torch/step_N), e.g. to average them

    @property
    def steps(self) -> int:
        """Total optimiser steps over all cycles."""
        return sum(self.cycles)

    def cycle_starts(self) -> list[int]:
        """First step of each cycle (a finished cycle is a resumable checkpoint)."""
        return [sum(self.cycles[:i]) for i in range(len(self.cycles))]

    def fingerprint(self, upto_step: int) -> str:
        """Names the recipe of the steps before `upto_step`, so a resume never mixes recipes."""
        fixed = {k: v for k, v in asdict(self).items() if k not in ("cycles", "threads", "dev_every", "keep_every")}
        done = [c for c, s in zip(self.cycles, self.cycle_starts()) if s < upto_step]
        return json.dumps({**fixed, "cycles": done}, sort_keys=True)


def debian_list(row: dict, cfg: TrainConfig, rng: random.Random, pool: list[dict]) -> tuple[str, list[str]]:
    """One query (sometimes phrased as a request): positive first, BM25 hard negatives, random ones to fill."""
    short = row["query"]
    query = rng.choice(QUERY_TEMPLATES).format(short[0].lower() + short[1:])
    hard = rng.sample(row["hard"], min(cfg.list_size - 2, len(row["hard"])))
    fill = list(row["random"])
    while len(hard) + len(fill) < cfg.list_size - 1:
        fill.append(rng.choice(pool)["pos"])  # another training query's description
    return query, [row["pos"], *hard, *fill][: cfg.list_size]


def dev_mrr(model, score, dev: list[dict], max_len: int) -> float:  # type: ignore[no-untyped-def]
    """MRR@10 on a few Debian dev queries (never test) with the training loop's own `score`: the progress signal."""
    import torch  # noqa: PLC0415

    from training.evaluate import rank_eval  # noqa: PLC0415

    model.eval()
    with torch.no_grad():
        scores = [score([q["query"]] * len(q["candidates"]), [c["text"] for c in q["candidates"]], max_len).numpy()
                  for q in dev]
    model.train()
    return rank_eval(dev, scores)["mrr@10"]


def run(cfg: TrainConfig | None = None) -> None:
    """Train and save the model to training/work/model_torch (encoder + gated_head.pt)."""
    import torch  # noqa: PLC0415
    import torch.nn.functional as F  # noqa: PLC0415
    from transformers import AutoTokenizer  # noqa: PLC0415

    from training import gated  # noqa: PLC0415
    from training.export import write_tokenizer_files  # noqa: PLC0415

    cfg = cfg or TrainConfig()
    seed_everything(cfg.seed)
    torch.set_num_threads(cfg.threads)
    rng = random.Random(cfg.seed)
    out_dir = WORK / "model_torch"
    write_tokenizer_files(out_dir)
    tok = AutoTokenizer.from_pretrained(str(out_dir))
    start = resume_step(cfg, out_dir)
    model = gated.load(out_dir) if start else gated.from_base(base_model_dir(), gate_init=cfg.gate_init)
    model.train()
    # embeddings stay frozen: keeps the encoder's vocabulary knowledge for words Debian never uses
    for p in model.bert.embeddings.parameters():
        p.requires_grad_(False)
    debian = read_jsonl(WORK / "debian_train.jsonl")
    wordnet = read_jsonl(WORK / "wordnet_train.jsonl")
    dev = random.Random(cfg.seed).sample(read_jsonl(WORK / "debian_dev.jsonl"), cfg.dev_queries)
    rng.shuffle(debian)
    rng.shuffle(wordnet)
    body = [p for n, p in model.named_parameters() if n.startswith("bert.") and p.requires_grad]
    head = [model.log_scale, model.bias, *model.cls_head.parameters()]

    def new_cycle(length: int) -> tuple[torch.optim.Optimizer, torch.optim.lr_scheduler.LambdaLR]:
        """Fresh AdamW moments, warm-up, then linear decay to zero over the cycle."""
        opt = torch.optim.AdamW([{"params": body, "lr": cfg.lr, "weight_decay": cfg.weight_decay},
                                 {"params": [model.gates], "lr": cfg.gate_lr, "weight_decay": 0.0},
                                 {"params": head, "lr": cfg.head_lr, "weight_decay": 0.0}])
        sched = torch.optim.lr_scheduler.LambdaLR(
            opt, lambda s: min(1.0, (s + 1) / cfg.warmup) * max(0.0, 1 - s / length))
        return opt, sched

    log = (WORK / "train_log.jsonl").open("a" if start else "w")
    log.write(json.dumps({"config": asdict(cfg), "resumed_at": start}) + "\n")
    t0, acc = time.time(), {"ce": 0.0, "bce": 0.0, "kl": 0.0, "n": 0}

    def score(queries: list[str], passages: list[str], max_len: int) -> torch.Tensor:
        enc = tok(queries, passages, truncation="only_second", max_length=max_len, padding=True, return_tensors="pt")
        return model(enc["input_ids"], enc["attention_mask"], enc["token_type_ids"]).squeeze(-1)

    def report(step: int) -> None:
        rec = {"step": step, "elapsed_s": round(time.time() - t0, 1),
               **{key: round(acc[key] / max(1, acc["n"]), 4) for key in ("ce", "bce", "kl")},
               "gates": [round(g, 2) for g in model.gates.tolist()], "scale": round(model.log_scale.exp().item(), 2)}
        if step % cfg.dev_every == 0 or step == cfg.steps:
            rec["dev_mrr@10"] = round(dev_mrr(model, score, dev, cfg.debian_max_len), 4)
        log.write(json.dumps(rec) + "\n")
        log.flush()
        print(json.dumps(rec), flush=True)

    def lists_at(step: int) -> list[tuple[str, list[str]]]:
        rows = [debian[(step * cfg.debian_queries + i) % len(debian)] for i in range(cfg.debian_queries)]
        return [debian_list(r, cfg, rng, debian) for r in rows]

    for step in range(start):  # replay the sampler so a resumed run sees the lists an unbroken run would
        lists_at(step)
    if not start:
        report(0)
    for step in range(start, cfg.steps):
        if step in cfg.cycle_starts():
            if step:
                torch.manual_seed(cfg.seed + step)  # dropout stream per later cycle: a resume reproduces it
            opt, sched = new_cycle(cfg.cycles[cfg.cycle_starts().index(step)])
        k = cfg.list_size
        lists = lists_at(step)
        logits = score([q for q, ps in lists for _ in ps], [p for _, ps in lists for p in ps],
                       cfg.debian_max_len).view(len(lists), k)
        ce = F.cross_entropy(logits, torch.zeros(len(lists), dtype=torch.long))
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
        if (step + 1) % 20 == 0 or (step + 1) % cfg.dev_every == 0:  # dev checks on their own cadence
            report(step + 1)
            acc = {"ce": 0.0, "bce": 0.0, "kl": 0.0, "n": 0}
        if cfg.keep_every and (step + 1) % cfg.keep_every == 0:
            gated.save(model, out_dir / f"step_{step + 1}")
        if (step + 1) % 100 == 0 or step + 1 == cfg.steps:
            gated.save(model, out_dir)
            (out_dir / "train_state.json").write_text(
                json.dumps({"step": step + 1, "of": cfg.steps, "recipe": cfg.fingerprint(step + 1)}))
    total = time.time() - t0
    log.write(json.dumps({"done": True, "wall_s": round(total, 1), "wall_min": round(total / 60, 1)}) + "\n")
    log.close()
    print(f"train: steps {start}..{cfg.steps} in {math.ceil(total / 60)} min")


def resume_step(cfg: TrainConfig, out_dir: Path) -> int:
    """Step to resume from: a saved checkpoint at a cycle boundary of this same recipe, else 0 (fresh start)."""
    state_file = out_dir / "train_state.json"
    if not state_file.exists():
        return 0
    state = json.loads(state_file.read_text())
    step = state.get("step", 0)
    if step in cfg.cycle_starts()[1:] and state.get("recipe") == cfg.fingerprint(step):
        print(f"train: resuming after step {step} (a finished cycle of this recipe)", flush=True)
        return step
    return 0
