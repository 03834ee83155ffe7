"""Map fidelity: how far the drawn boxes agree with the counted containment.

A map is trained to predict `y(A⊆B)`, the share of A's classes that B has. Its boxes are
also what a user *reads*: a box inside another looks like containment whether or not the
classes say so. This scores the boxes of every dataset against the exact targets, so the map
can state how far to trust the picture:

- `f1`: F1 of "P(A⊆B) ≥ 0.5" against "y(A⊆B) ≥ 0.5", over ordered pairs;
- `spearman`: rank correlation of P(A⊆B) with y(A⊆B) over the same pairs.

Small atlases use every ordered pair; larger ones use every positive pair plus a uniform
sample of all ordered pairs, so the count stays bounded and negatives stay represented.
"""

from __future__ import annotations

import numpy as np

from models.metrics import spearman
from models.pairs import PairLookup
from models.scoring import containment_pairs
from models.targets import SparseTargets

# Ordered pairs scored at most; above it positives plus a uniform sample are scored.
MAX_FIDELITY_PAIRS = 1_000_000
_THRESHOLD = 0.5
_CHUNK = 131_072


def _f1(truth: np.ndarray, predicted: np.ndarray) -> float:
    tp = float(np.sum(truth & predicted))
    denominator = float(np.sum(truth) + np.sum(predicted))
    return 2.0 * tp / denominator if denominator else 1.0


def fidelity_pairs(targets: SparseTargets, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """The ordered pairs (i, j), i ≠ j, that fidelity is measured on."""
    n = targets.n
    if n * (n - 1) <= MAX_FIDELITY_PAIRS:
        i, j = np.repeat(np.arange(n), n), np.tile(np.arange(n), n)
    else:
        rng = np.random.default_rng(seed)
        count = max(0, MAX_FIDELITY_PAIRS - targets.rows.size)
        i = np.concatenate([targets.rows, rng.integers(0, n, count)])
        j = np.concatenate([targets.cols, rng.integers(0, n, count)])
    keep = i != j
    return i[keep].astype(np.int64), j[keep].astype(np.int64)


def map_fidelity(
    lo: np.ndarray,
    hi: np.ndarray,
    targets: SparseTargets,
    *,
    beta: float,
    gumbel_beta: float | None,
    seed: int = 0,
) -> dict[str, float]:
    """`{"f1", "spearman", "pairs"}` of the boxes (row r for dataset r) against `targets`.

    Raises:
        ValueError: if the boxes are not one per dataset of the targets.
    """
    if lo.shape[0] != targets.n or hi.shape != lo.shape:
        raise ValueError(f"expected ({targets.n}, d) boxes, got {lo.shape} and {hi.shape}")
    i, j = fidelity_pairs(targets, seed)
    if i.size == 0:
        return {"f1": 1.0, "spearman": 0.0, "pairs": 0.0}
    y = PairLookup(targets.rows, targets.cols, targets.values, targets.n)(i, j)
    # Chunked: each pair gathers (d,) corners four times in float64.
    p = np.concatenate(
        [
            containment_pairs(
                lo[i[s : s + _CHUNK]],
                hi[i[s : s + _CHUNK]],
                lo[j[s : s + _CHUNK]],
                hi[j[s : s + _CHUNK]],
                beta=beta,
                gumbel_beta=gumbel_beta,
            )
            for s in range(0, i.size, _CHUNK)
        ]
    )
    return {
        "f1": _f1(y >= _THRESHOLD, p >= _THRESHOLD),
        "spearman": spearman(y, p),
        "pairs": float(i.size),
    }
