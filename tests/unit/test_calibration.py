"""Logit -> 0-1 calibration and per-model configuration."""

import math

import pytest

from reranker import calibrate, calibration_for, sigmoid


def test_sigmoid_values_and_extremes():
    assert sigmoid(0.0) == 0.5
    assert sigmoid(2.0) == pytest.approx(1 / (1 + math.exp(-2)))
    assert sigmoid(-1000.0) == 0.0 and sigmoid(1000.0) == 1.0    # no OverflowError


def test_identity_is_clamped():
    assert calibrate(0.3, "identity") == 0.3
    assert calibrate(1.2, "identity") == 1.0 and calibrate(-0.1, "identity") == 0.0


def test_calibration_comes_from_the_catalog_entry():
    assert calibration_for({"id": "a", "calibration": "identity"}) == "identity"
    assert calibration_for({"id": "b"}) == "sigmoid"
    assert calibration_for(None) == "sigmoid"
    with pytest.raises(ValueError, match="Model 'c' has unknown calibration 'tanh'"):
        calibration_for({"id": "c", "calibration": "tanh"})
