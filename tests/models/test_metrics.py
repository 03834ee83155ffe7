"""Validation metrics, checked against hand-computed values."""

from __future__ import annotations

import numpy as np
import pytest

from models.metrics import average_precision, best_f1, spearman, validation_metric


def test_average_precision_hand_computed() -> None:
    y = np.array([1, 0, 1, 0])
    s = np.array([0.9, 0.8, 0.7, 0.1])
    # Precision at the two hits: 1/1 and 2/3; AP = (1 + 2/3) / 2.
    assert average_precision(y, s) == pytest.approx((1 + 2 / 3) / 2)
    assert average_precision(y, np.array([0.9, 0.1, 0.8, 0.2])) == pytest.approx(1.0)


def test_average_precision_ranks_ties_together() -> None:
    y = np.array([1, 0])
    assert average_precision(y, np.array([0.5, 0.5])) == pytest.approx(0.5)


def test_best_f1_hand_computed() -> None:
    y = np.array([1, 1, 0, 0, 1])
    s = np.array([0.9, 0.8, 0.7, 0.2, 0.1])
    # Top 2: P=1, R=2/3 -> F1 0.8; top 5: P=3/5, R=1 -> 0.75.
    assert best_f1(y, s) == pytest.approx(0.8)


def test_spearman_handles_ties_and_constants() -> None:
    assert spearman(np.array([1.0, 2.0, 3.0]), np.array([10.0, 20.0, 30.0])) == pytest.approx(1)
    assert spearman(np.array([1.0, 2.0, 3.0]), np.array([3.0, 2.0, 1.0])) == pytest.approx(-1)
    assert spearman(np.array([1.0, 1.0, 1.0]), np.array([1.0, 2.0, 3.0])) == 0.0
    # Average ranks: x ranks [0.5, 0.5, 2], y ranks [0, 1, 2].
    assert spearman(np.array([1.0, 1.0, 2.0]), np.array([1.0, 2.0, 3.0])) == pytest.approx(
        np.sqrt(3) / 2
    )


def test_auto_metric_picks_ap_for_binary_and_spearman_otherwise() -> None:
    y_bin, y_soft = np.array([1.0, 0.0, 1.0]), np.array([0.2, 0.5, 0.9])
    s = np.array([0.9, 0.2, 0.4])
    assert validation_metric("auto", y_bin, s) == average_precision(y_bin, s)
    assert validation_metric("auto", y_soft, s) == spearman(y_soft, s)
    assert validation_metric("neg_mse", y_soft, s) == pytest.approx(-np.mean((y_soft - s) ** 2))
    with pytest.raises(ValueError, match="valid: auto, ap"):
        validation_metric("acc", y_bin, s)
