"""Stage `train`: the gated cross-encoder (training/gated.py), starting exactly at all-MiniLM-L6-v2, learns from
teacher-scored lists (training/lists.py): listwise distillation of all-mpnet-base-v2 plus the lists' labels
(the answer first). No term ties it to the MiniLM bi-encoder it starts from, so cross-attention is free to open.
`head="plain"` trains a transformers BertForSequenceClassification on the same lists instead (the comparison)."""
from __future__ import annotations

import json
import math
import random
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from training.common import SEED, WORK, base_model_dir, read_jsonl, seed_everything


@dataclass
class TrainConfig:
    """Hyper-parameters of one run (logged next to the metrics)."""

    # warm restarts: each cycle re-warms and decays the rates to zero
    cycles: tuple[int, ...] = (700,)
    debian_queries: int = 3
    wordnet_queries: int = 3
    list_size: int = 8
    debian_max_len: int = 160
    wordnet_max_len: int = 64
    lr: float = 2e-5
    gate_lr: float = 2e-2
    head_lr: float = 1e-3
    gate_init: float = -6.0
    head: str = "gated"  # or "plain": BertForSequenceClassification, full cross-attention, fresh 1-logit head
    warmup: int = 50
    weight_decay: float = 0.01
    label_weight: float = 1.0  # listwise cross-entropy on the label (the answer is first in every list)
    bce_weight: float = 0.2  # anchors the logit so that sigmoid means something
    distil_weight: float = 1.0  # KL to the mpnet teacher's softmax(cos / teacher_temperature) over the list
    teacher_temperature: float = 0.05
    seed: int = SEED
    threads: int = 2
    dev_every: int = 300
    dev_queries: int = 40
    save_every: int = 20  # checkpoint (weights + optimiser + RNG) every N steps: a stopped run resumes there
    keep_every: int = 0  # also keep a copy of the weights every N steps (model_torch/step_N), e.g. to average them

    @property
    def steps(self) -> int:
        """Total optimiser steps over all cycles."""
        return sum(self.cycles)

    def cycle_starts(self) -> list[int]:
        """First step of each cycle."""
        return [sum(self.cycles[:i]) for i in range(len(self.cycles))]

    def fingerprint(self, upto_step: int) -> str:
        """Names the recipe of the steps before `upto_step`, so a resume never mixes recipes."""
        fixed = {k: v for k, v in asdict(self).items() if k not in ("cycles", "threads", "dev_every", "keep_every",
                                                                  "save_every")}
        done = [c for c, s in zip(self.cycles, self.cycle_starts()) if s < upto_step]
        return json.dumps({**fixed, "cycles": done}, sort_keys=True)


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


def load_lists(cfg: TrainConfig) -> tuple[list[dict], list[dict]]:
    """The teacher-scored Debian and WordNet lists, each shuffled once by the seed."""
    rows = read_jsonl(WORK / "train_lists.jsonl")
    debian = [r for r in rows if r["source"] == "debian"]
    wordnet = [r for r in rows if r["source"] == "wordnet"]
    rng = random.Random(cfg.seed)
    rng.shuffle(debian)
    rng.shuffle(wordnet)
    return debian, wordnet


def batch_at(step: int, cfg: TrainConfig, debian: list[dict], wordnet: list[dict]) -> list[tuple[list[dict], int]]:
    """The lists of one step, grouped by source with that source's max length (a pure function of the step)."""
    groups = [(debian, cfg.debian_queries, cfg.debian_max_len), (wordnet, cfg.wordnet_queries, cfg.wordnet_max_len)]
    return [([src[(step * n + i) % len(src)] for i in range(n)], max_len) for src, n, max_len in groups if n and src]


def list_losses(logits, teacher, cfg: TrainConfig) -> dict:  # type: ignore[no-untyped-def]
    """Label cross-entropy, BCE and teacher KL of [lists, passages] logits (the answer is passage 0)."""
    import torch  # noqa: PLC0415
    import torch.nn.functional as F  # noqa: PLC0415

    k = logits.shape[1]
    ce = F.cross_entropy(logits, torch.zeros(len(logits), dtype=torch.long))
    labels = torch.zeros_like(logits)
    labels[:, 0] = 1.0
    bce = F.binary_cross_entropy_with_logits(logits, labels, pos_weight=torch.tensor(k - 1.0))
    target = torch.softmax(teacher / cfg.teacher_temperature, dim=-1)
    kl = F.kl_div(F.log_softmax(logits, dim=-1), target, reduction="batchmean")
    return {"ce": ce, "bce": bce, "kl": kl}


def new_cycle(model, cfg: TrainConfig, length: int):  # type: ignore[no-untyped-def]
    """Fresh AdamW moments, warm-up, then linear decay to zero over the cycle."""
    import torch  # noqa: PLC0415

    body = [p for n, p in model.named_parameters() if n.startswith("bert.") and p.requires_grad]
    if cfg.head == "plain":
        groups = [{"params": list(model.classifier.parameters()), "lr": cfg.head_lr, "weight_decay": 0.0}]
    else:
        groups = [{"params": [model.gates], "lr": cfg.gate_lr, "weight_decay": 0.0},
                  {"params": [model.log_scale, model.bias, *model.cls_head.parameters()], "lr": cfg.head_lr,
                   "weight_decay": 0.0}]
    opt = torch.optim.AdamW([{"params": body, "lr": cfg.lr, "weight_decay": cfg.weight_decay}, *groups])
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1.0, (s + 1) / cfg.warmup) * max(0.0, 1 - s / length))
    return opt, sched


def step_loss(score, groups: list[tuple[list[dict], int]], cfg: TrainConfig, acc: dict):  # type: ignore[no-untyped-def]
    """Weighted loss of one step's lists (each group scored at its own max length); running means go into acc."""
    import torch  # noqa: PLC0415

    loss = 0.0
    for lists, max_len in groups:
        k = len(lists[0]["passages"])
        logits = score([r["query"] for r in lists for _ in r["passages"]],
                       [p for r in lists for p in r["passages"]], max_len).view(len(lists), k)
        parts = list_losses(logits, torch.tensor([r["teacher"] for r in lists]), cfg)
        loss = loss + cfg.label_weight * parts["ce"] + cfg.bce_weight * parts["bce"] + cfg.distil_weight * parts["kl"]
        for key, val in parts.items():
            acc[key] += float(val.detach()) / len(groups)
    return loss


def save_checkpoint(model, opt, sched, cfg: TrainConfig, step: int, out_dir: Path) -> None:  # type: ignore[no-untyped-def]
    """Weights plus optimiser, schedule and RNG state: a stopped run resumes from here exactly."""
    import torch  # noqa: PLC0415

    save_model(model, out_dir)
    torch.save({"opt": opt.state_dict(), "sched": sched.state_dict(), "rng": torch.get_rng_state()},
               out_dir / "train_resume.pt")
    (out_dir / "train_state.json").write_text(
        json.dumps({"step": step, "of": cfg.steps, "recipe": cfg.fingerprint(step)}))


def save_model(model, out_dir: Path) -> None:  # type: ignore[no-untyped-def]
    """Gated: encoder + gated_head.pt; plain: a transformers BertForSequenceClassification folder."""
    from training import gated  # noqa: PLC0415

    if isinstance(model, gated.GatedCrossEncoder):
        gated.save(model, out_dir)
    else:
        model.save_pretrained(str(out_dir))


def build_model(cfg: TrainConfig, out_dir: Path, resume: bool):  # type: ignore[no-untyped-def]
    """The model to train and its scoring call (input_ids, attention_mask, token_type_ids) -> logits [B, 1]."""
    from transformers import BertForSequenceClassification  # noqa: PLC0415

    from training import gated  # noqa: PLC0415
    from training.export import init_cross_encoder  # noqa: PLC0415

    if cfg.head == "plain":
        if not resume:
            # a gated run's head left in the folder would make eval and export load this model as gated
            (out_dir / "gated_head.pt").unlink(missing_ok=True)
            init_cross_encoder(out_dir, cfg.seed)
        model = BertForSequenceClassification.from_pretrained(str(out_dir), num_labels=1)
        return model, lambda ids, mask, types: model(input_ids=ids, attention_mask=mask, token_type_ids=types).logits
    model = gated.load(out_dir) if resume else gated.from_base(base_model_dir(), gate_init=cfg.gate_init)
    return model, model


def run(cfg: TrainConfig | None = None) -> None:
    """Train (or resume) and save the model to training/work/model_torch (encoder + gated_head.pt)."""
    import torch  # noqa: PLC0415

    from transformers import AutoTokenizer  # noqa: PLC0415

    from training.export import write_tokenizer_files  # noqa: PLC0415

    cfg = cfg or TrainConfig()
    seed_everything(cfg.seed)
    torch.set_num_threads(cfg.threads)
    out_dir = WORK / "model_torch"
    write_tokenizer_files(out_dir)
    tok = AutoTokenizer.from_pretrained(str(out_dir))
    start = resume_step(cfg, out_dir)
    if start >= cfg.steps:
        print(f"train: already trained ({start} steps of this recipe in {out_dir})")
        return
    model, forward = build_model(cfg, out_dir, resume=bool(start))
    model.train()
    # embeddings stay frozen: keeps the encoder's vocabulary knowledge for words the lists never use
    for p in model.bert.embeddings.parameters():
        p.requires_grad_(False)
    debian, wordnet = load_lists(cfg)
    dev = random.Random(cfg.seed).sample(read_jsonl(WORK / "debian_dev.jsonl"), cfg.dev_queries)
    def score(queries: list[str], passages: list[str], max_len: int) -> torch.Tensor:
        enc = tok(queries, passages, truncation="only_second", max_length=max_len, padding=True, return_tensors="pt")
        return forward(enc["input_ids"], enc["attention_mask"], enc["token_type_ids"]).squeeze(-1)

    cycle = max(i for i, s in enumerate(cfg.cycle_starts()) if s <= start)
    opt, sched = new_cycle(model, cfg, cfg.cycles[cycle])
    if start:
        state = torch.load(out_dir / "train_resume.pt")
        opt.load_state_dict(state["opt"])
        sched.load_state_dict(state["sched"])
        torch.set_rng_state(state["rng"])
    log = (WORK / "train_log.jsonl").open("a" if start else "w")
    log.write(json.dumps({"config": asdict(cfg), "resumed_at": start, "lists": [len(debian), len(wordnet)]}) + "\n")
    t0, acc = time.time(), {"ce": 0.0, "bce": 0.0, "kl": 0.0, "n": 0}

    def report(step: int) -> None:
        rec = {"step": step, "elapsed_s": round(time.time() - t0, 1),
               **{key: round(acc[key] / max(1, acc["n"]), 4) for key in ("ce", "bce", "kl")},
               **({"gates": [round(g, 2) for g in model.gates.tolist()],
                   "scale": round(model.log_scale.exp().item(), 2)} if cfg.head == "gated" else {})}
        if step % cfg.dev_every == 0 or step == cfg.steps:
            rec["dev_mrr@10"] = round(dev_mrr(model, score, dev, cfg.debian_max_len), 4)
        log.write(json.dumps(rec) + "\n")
        log.flush()
        print(json.dumps(rec), flush=True)

    if not start:
        report(0)
    for step in range(start, cfg.steps):
        if step in cfg.cycle_starts() and step != start:
            torch.manual_seed(cfg.seed + step)  # dropout stream per later cycle
            opt, sched = new_cycle(model, cfg, cfg.cycles[cfg.cycle_starts().index(step)])
        step_loss(score, batch_at(step, cfg, debian, wordnet), cfg, acc).backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        opt.zero_grad()
        acc["n"] += 1
        if (step + 1) % 20 == 0 or (step + 1) % cfg.dev_every == 0:
            report(step + 1)
            acc = {"ce": 0.0, "bce": 0.0, "kl": 0.0, "n": 0}
        if cfg.keep_every and (step + 1) % cfg.keep_every == 0:
            save_model(model, out_dir / f"step_{step + 1}")
        if (step + 1) % cfg.save_every == 0 or step + 1 == cfg.steps:
            save_checkpoint(model, opt, sched, cfg, step + 1, out_dir)
    total = time.time() - t0
    log.write(json.dumps({"done": True, "wall_s": round(total, 1), "wall_min": round(total / 60, 1)}) + "\n")
    log.close()
    print(f"train: steps {start}..{cfg.steps} in {math.ceil(total / 60)} min")


def resume_step(cfg: TrainConfig, out_dir: Path) -> int:
    """Step to resume from: the last checkpoint of this same recipe (any step), else 0 (fresh start)."""
    state_file = out_dir / "train_state.json"
    if not state_file.exists() or not (out_dir / "train_resume.pt").exists():
        return 0
    state = json.loads(state_file.read_text())
    step = state.get("step", 0)
    if 0 < step <= cfg.steps and state.get("recipe") == cfg.fingerprint(step):
        print(f"train: resuming after step {step} of {cfg.steps}", flush=True)
        return step
    return 0
