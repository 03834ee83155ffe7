"""Transfer relations as boxes: measured source→target scores → training targets and pairs.

Box semantics: the transfer of a source s to a target t is read as
`P(s ⊆ t) = Vol(s ∩ t) / Vol(s)`, the share of the source's box that lies inside the
target's. This is how the paper's code reads a source-by-target matrix (entry [i, j] is
fitted by `Vol(i ∩ j) / Vol(i)`, and Taskonomy's matrices have sources as rows), and it is
the reading that places novel tasks better on the benchmark's validation pairs (2-D, 5
cases: ρ 0.575 against 0.526 for the reverse reading `P(t ⊆ s)`; with an earlier trainer
0.54 against 0.38), which is what the app's transfer map is for: every dataset without
measured scores is a novel task. On existing tasks the two readings are close (0.855 against
0.882 for the reverse; see benchmarks/RESULTS.md, "Transfer"). Geometrically, a target whose
box is broad (one that many tasks' features serve) takes in many sources, and a source box
lying inside several targets transfers to all of them.
A supervised pair is therefore `(i = source, j = target, y = f(score))` for `fit`, and the two
ranking directions of a dataset A are:

- `to` (targets A transfers to): `P(A ⊆ B)`, the `p_in` column of a scoring query;
- `from` (sources that transfer to A): `P(B ⊆ A)`, the `p_contains` column.

Targets: the paper's `y = tanh(50·a)`, with `a` first renormalized per target. Measured
transfer scores are only comparable down one target's column (Taskonomy's AHP affinities are
one eigenvector per target; accuracies differ per target in difficulty), so each target's
scores are divided by their mean and brought back to the scale that k = 50 was chosen for:
the mean first-order Taskonomy AHP affinity, ~0.005 (`REFERENCE_MEAN`). A source at the
target's mean score then gets `tanh(0.25) ≈ 0.24`, one at 4x the mean `tanh(1) ≈ 0.76`. The
rule is scale-free, so AHP affinities, win rates and accuracies all train alike.
"""

from __future__ import annotations

import numpy as np

from models.pairs import PairSet
from models.train_config import TrainConfig

TANH_K = 50.0
# Mean off-diagonal first-order affinity of Taskonomy's AHP 16k matrix over its 26 real
# source tasks (0.0052): the scale the paper's k = 50 fits.
REFERENCE_MEAN = 0.005
# The paper's λ_v for transfer (hierarchies use 0.7).
TRANSFER_VOLUME_WEIGHT = 0.01
TRANSFER_EPOCHS = 3000


def transfer_train_config(
    dim: int, *, epochs: int = TRANSFER_EPOCHS, device: str = "auto", seed: int = 0
) -> TrainConfig:
    """The trainer settings of transfer maps and of the transfer benchmark (one definition).

    The paper's transfer settings (λ_v = 0.01, up to 3000 epochs) with early stopping on
    validation Spearman ρ when a validation set is given. The rest was chosen on the
    Taskonomy benchmark's validation pairs only (benchmarks/RESULTS.md, "Transfer"):

    - `ratio_weight` 3: a Huber term on `log P - log y` makes the soft targets come out at
      their value; BCE alone barely separates P = 0.02 from P = 0.1;
    - softer boxes (`beta` 3, Gumbel 0.3): partial overlaps everywhere, not near-hard ones;
    - a small trunk (one 128-unit layer, dropout 0.2) on the top 32 principal directions of
      the training tasks' features: a few dozen tasks cannot train a 1024-wide network, and
      novel tasks were placed better by the smaller, regularized one;
    - early stopping counts only from a third of the budget (`min_epochs`): with three
      validation tasks (novel setting) single validation checks are noise, and stopping at
      their first peak stopped half the cases within 200 epochs while the validation ρ
      averaged over cases was flat or still rising at 3000.
    """
    return TrainConfig(
        dim=dim,
        loss="ours",
        epochs=epochs,
        device=device,
        seed=seed,
        volume_weight=TRANSFER_VOLUME_WEIGHT,
        hidden=(128,),
        dropout=0.2,
        beta=3.0,
        gumbel_beta=0.3,
        ratio_weight=3.0,
        feature_rank=32,
        val_metric="spearman",
        eval_every=10,
        patience=max(50, epochs // 5),
        min_epochs=epochs // 3,
    )


def normalize_per_target(
    target: np.ndarray, score: np.ndarray, reference_mean: float = REFERENCE_MEAN
) -> np.ndarray:
    """Scores divided by their target's mean score, times `reference_mean`.

    Args:
        target: `(P,)` integer target id of each score.
        score: `(P,)` finite, non-negative scores (higher = better transfer).
        reference_mean: the mean every target's scores are brought to.

    Returns:
        `(P,)` float64. A target whose scores are all zero keeps zeros.

    Raises:
        ValueError: on mismatched shapes, negative or non-finite scores, or a non-positive
            `reference_mean`.
    """
    target = np.asarray(target)
    score = np.asarray(score, dtype=np.float64)
    if target.shape != score.shape or score.ndim != 1:
        raise ValueError(
            f"target and score must be 1-D of one length: {target.shape}, {score.shape}"
        )
    if score.size and (not np.isfinite(score).all() or score.min() < 0):
        raise ValueError("transfer scores must be finite and >= 0")
    if not (reference_mean > 0 and np.isfinite(reference_mean)):
        raise ValueError(f"reference_mean must be a finite number > 0, got {reference_mean}")
    if score.size == 0:
        return score
    _, inverse = np.unique(target, return_inverse=True)
    means = np.bincount(inverse, weights=score) / np.bincount(inverse)
    mean = means[inverse]
    out: np.ndarray = np.where(mean > 0, score / np.where(mean > 0, mean, 1.0), 0.0)
    return out * reference_mean


def transfer_targets(
    target: np.ndarray,
    score: np.ndarray,
    *,
    k: float = TANH_K,
    reference_mean: float = REFERENCE_MEAN,
) -> np.ndarray:
    """`tanh(k·a)` of the per-target-normalized scores `a`: training targets in `[0, 1)`.

    Args:
        target: `(P,)` integer target id of each score.
        score: `(P,)` finite, non-negative measured scores.
        k: the tanh slope (paper: 50).
        reference_mean: see `normalize_per_target`.

    Returns:
        `(P,)` float64 in `[0, 1]`.

    Raises:
        ValueError: see `normalize_per_target`; also for `k <= 0`.
    """
    if not (k > 0 and np.isfinite(k)):
        raise ValueError(f"k must be a finite number > 0, got {k}")
    out: np.ndarray = np.tanh(k * normalize_per_target(target, score, reference_mean))
    return out


def transfer_pairs(source: np.ndarray, target: np.ndarray, y: np.ndarray) -> PairSet:
    """The open-world `PairSet` of measured transfers: `y(s→t) ≈ P(box_s ⊆ box_t)`.

    Args:
        source: `(P,)` feature rows of the sources.
        target: `(P,)` feature rows of the targets.
        y: `(P,)` targets in `[0, 1]` (see `transfer_targets`).

    Raises:
        ValueError: on a self pair, or anything `PairSet` refuses.
    """
    source = np.asarray(source, dtype=np.int64)
    target = np.asarray(target, dtype=np.int64)
    if source.shape == target.shape and np.any(source == target):
        row = int(source[np.argmax(source == target)])
        raise ValueError(f"a transfer pair needs two tasks, got row {row} as source and target")
    # Missing entries are skipped, never read as zero: only measured pairs are supervised.
    return PairSet(source, target, y, closed_world=False)


def pair_groups(source: np.ndarray, target: np.ndarray) -> np.ndarray:
    """`(P,)` int64 group id per pair: s→t and t→s share one (the unordered task pair).

    Splits keep a group together: the two directions are distinct measurements but strongly
    correlated, so one must not be trained on while the other is scored.
    """
    source = np.asarray(source, dtype=np.int64)
    target = np.asarray(target, dtype=np.int64)
    if source.size == 0:
        return np.zeros(0, dtype=np.int64)
    lo, hi = np.minimum(source, target), np.maximum(source, target)
    _, group = np.unique(np.stack([lo, hi], axis=1), axis=0, return_inverse=True)
    out: np.ndarray = group.reshape(-1).astype(np.int64)
    return out


def holdout_pairs(
    source: np.ndarray, target: np.ndarray, fraction: float, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Indices `(train, held_out)` of the pairs, holding out `fraction` of the pair groups.

    Raises:
        ValueError: if `fraction` is outside `[0, 1)`.
    """
    if not 0.0 <= fraction < 1.0:
        raise ValueError(f"fraction must be in [0, 1), got {fraction}")
    group = pair_groups(source, target)
    n_groups = int(group.max()) + 1 if group.size else 0
    n_held = round(fraction * n_groups)
    held = np.zeros(n_groups, dtype=bool)
    held[np.random.default_rng(seed).permutation(n_groups)[:n_held]] = True
    return np.flatnonzero(~held[group]), np.flatnonzero(held[group])


__all__ = [
    "REFERENCE_MEAN",
    "TANH_K",
    "TRANSFER_EPOCHS",
    "TRANSFER_VOLUME_WEIGHT",
    "holdout_pairs",
    "normalize_per_target",
    "pair_groups",
    "transfer_pairs",
    "transfer_targets",
    "transfer_train_config",
]
