"""Pure NumPy helpers of the train job: hold out datasets, build the supervised pair sets.

Containment maps are trained closed-world: only the pairs with `y(A⊆B) > 0` are listed and
every other ordered pair is a negative (the trainer samples them at scale). Pairs cannot be
held out of a closed world (an unlisted pair *means* y = 0), so validation holds out whole
datasets instead: the network never sees them, and the metric is F1 on every ordered pair
that involves one of them, which is the "novel dataset" question `/api/place` answers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from models.pairs import PairLookup, PairSet
from models.targets import SparseTargets

# Fewer datasets than this leave too few pairs to measure anything: no validation.
MIN_DATASETS_FOR_VALIDATION = 10
# Validation scores every ordered pair with a held-out dataset: ≈ 2·n_val·n pairs.
MAX_VALIDATION_PAIRS = 1_000_000
# A pair counts as "A is contained in B" for F1 when most of A's classes are covered.
POSITIVE_MIN_Y = 0.5


@dataclass(frozen=True, eq=False)
class Split:
    """Training pairs (closed world over the training datasets) and validation pairs."""

    train: PairSet
    val: PairSet | None
    val_nodes: np.ndarray  # (n_val,) int64 rows held out

    @property
    def has_validation(self) -> bool:
        return self.val is not None and len(self.val) > 0


def all_pairs(targets: SparseTargets) -> PairSet:
    """Every dataset in a closed world: the final fit when nothing is held out."""
    return PairSet(targets.rows, targets.cols, targets.values, closed_world=True)


def _pick_validation_nodes(targets: SparseTargets, n_val: int, seed: int) -> np.ndarray:
    """`n_val` datasets, drawn first from those in a positive pair (y > POSITIVE_MIN_Y).

    F1 measures positives; a held-out set drawn from the many datasets that share nothing
    with anyone would leave it undefined. The draw is still random within each group.
    """
    rng = np.random.default_rng(seed)
    positive = targets.values > POSITIVE_MIN_Y
    involved = np.unique(np.concatenate([targets.rows[positive], targets.cols[positive]]))
    others = np.setdiff1d(np.arange(targets.n, dtype=np.int64), involved)
    first = rng.permutation(involved)[:n_val]
    rest = rng.permutation(others)[: n_val - first.size]
    return np.sort(np.concatenate([first, rest])).astype(np.int64)


def split(targets: SparseTargets, val_fraction: float, seed: int = 0) -> Split:
    """Holds out `val_fraction` of the datasets (bounded so validation stays ≤ ~1M pairs).

    Raises:
        ValueError: if `val_fraction` is outside [0, 0.5).
    """
    if not 0.0 <= val_fraction < 0.5:
        raise ValueError(f"val_fraction must be in [0, 0.5), got {val_fraction}")
    n = targets.n
    n_val = round(val_fraction * n) if n >= MIN_DATASETS_FOR_VALIDATION else 0
    n_val = min(n_val, max(1, MAX_VALIDATION_PAIRS // max(1, 2 * n)))
    if n_val == 0:
        return Split(all_pairs(targets), None, np.zeros(0, np.int64))
    val_nodes = _pick_validation_nodes(targets, n_val, seed)
    held = np.zeros(n, dtype=bool)
    held[val_nodes] = True
    keep = ~held[targets.rows] & ~held[targets.cols]
    train = PairSet(
        targets.rows[keep],
        targets.cols[keep],
        targets.values[keep],
        closed_world=True,
        nodes=np.flatnonzero(~held),
    )
    # Every ordered pair (v, j) and (j, v) with v held out and j ≠ v, each counted once.
    v = np.repeat(val_nodes, n)
    j = np.tile(np.arange(n, dtype=np.int64), n_val)
    distinct = v != j
    v, j = v[distinct], j[distinct]
    out_i = np.concatenate([v, j[~held[j]]])
    out_j = np.concatenate([j, v[~held[j]]])
    lookup = PairLookup(targets.rows, targets.cols, targets.values, n)
    val = PairSet(out_i, out_j, lookup(out_i, out_j))
    return Split(train, val, val_nodes)
