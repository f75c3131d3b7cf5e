"""Map a model's raw output to a 0-1 score, per model (catalog field `calibration`)."""

import math
from collections.abc import Mapping

CALIBRATIONS = ("sigmoid", "identity")


def sigmoid(x: float) -> float:
    """Numerically stable logistic function."""
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


def calibrate(raw: float, kind: str = "sigmoid") -> float:
    """Raw model output -> 0-1: `sigmoid` for logits, `identity` (clamped) for models that output probabilities."""
    if kind == "sigmoid":
        return sigmoid(raw)
    if kind == "identity":
        return min(1.0, max(0.0, raw))
    raise ValueError(f"Unknown calibration '{kind}'; expected one of {', '.join(CALIBRATIONS)}.")


def calibration_for(model: Mapping | str | None) -> str:
    """Calibration of a catalog entry (dict with optional `calibration`); defaults to `sigmoid`."""
    if model is None or isinstance(model, str):
        return "sigmoid"
    kind = model.get("calibration") or "sigmoid"
    if kind not in CALIBRATIONS:
        raise ValueError(f"Model '{model.get('id', '?')}' has unknown calibration '{kind}'; "
                         f"expected one of {', '.join(CALIBRATIONS)}.")
    return kind
