"""Validation metrics for early stopping (NumPy, higher is better)."""

from __future__ import annotations

import numpy as np

METRIC_NAMES = ("auto", "ap", "f1", "spearman", "neg_mse")


def average_precision(y_true: np.ndarray, score: np.ndarray) -> float:
    """Area under the precision-recall curve (step-wise, as scikit-learn's AP).

    `y_true` is binary; ties in `score` are ranked together.
    """
    pos = y_true > 0.5
    n_pos = int(pos.sum())
    if n_pos == 0:
        return 0.0
    order = np.argsort(-score, kind="stable")
    s, p = score[order], pos[order]
    tp = np.cumsum(p)
    # Evaluate precision only at the last index of each run of tied scores.
    last = np.r_[s[1:] != s[:-1], True]
    tp_at, k_at = tp[last], np.flatnonzero(last) + 1
    recall_gain = np.diff(np.r_[0, tp_at]) / n_pos
    return float(np.sum(recall_gain * tp_at / k_at))


def best_f1(y_true: np.ndarray, score: np.ndarray) -> float:
    """The highest positive-class F1 over all thresholds on `score`."""
    pos = y_true > 0.5
    n_pos = int(pos.sum())
    if n_pos == 0:
        return 0.0
    order = np.argsort(-score, kind="stable")
    s, p = score[order], pos[order]
    tp = np.cumsum(p)
    last = np.r_[s[1:] != s[:-1], True]
    tp_at, k_at = tp[last], np.flatnonzero(last) + 1
    return float(np.max(2 * tp_at / (k_at + n_pos)))


def _average_ranks(v: np.ndarray) -> np.ndarray:
    order = np.argsort(v, kind="stable")
    sorted_v = v[order]
    ranks = np.empty(v.size, dtype=np.float64)
    starts = np.flatnonzero(np.r_[True, sorted_v[1:] != sorted_v[:-1]])
    ends = np.r_[starts[1:], v.size]
    for a, b in zip(starts, ends, strict=True):
        ranks[order[a:b]] = (a + b - 1) / 2.0
    return ranks


def spearman(y_true: np.ndarray, score: np.ndarray) -> float:
    """Spearman rank correlation with average ranks for ties; 0 if either side is constant."""
    a, b = _average_ranks(y_true), _average_ranks(score)
    a, b = a - a.mean(), b - b.mean()
    denom = float(np.sqrt((a * a).sum() * (b * b).sum()))
    return float((a * b).sum() / denom) if denom > 0 else 0.0


def validation_metric(name: str, y_true: np.ndarray, score: np.ndarray) -> float:
    """Evaluate metric `name` (see `METRIC_NAMES`); "auto" is AP for binary targets with
    both classes present, else Spearman.

    Raises:
        ValueError: for an unknown metric name.
    """
    if name not in METRIC_NAMES:
        raise ValueError(f"unknown validation metric {name!r}; valid: {', '.join(METRIC_NAMES)}")
    if name == "auto":
        binary = bool(np.isin(y_true, (0.0, 1.0)).all())
        both = binary and 0 < int((y_true > 0.5).sum()) < y_true.size
        name = "ap" if both else "spearman"
    if name == "ap":
        return average_precision(y_true, score)
    if name == "f1":
        return best_f1(y_true, score)
    if name == "spearman":
        return spearman(y_true, score)
    return -float(np.mean((y_true - score) ** 2))
