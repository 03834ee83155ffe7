"""The Task2Box §5.2 transfer protocol: splits of the measured pairs, and Spearman ρ. Pure numpy.

- existing-80 / existing-50: every task's features are seen; 80% (50%) of the measured pairs
  are supervised, 10% are validation (early stopping, model selection) and the rest test.
  s→t and t→s always share a split: they measure different transfers, but they are strongly
  correlated, and a model could otherwise read one off the other.
- novel: held-out tasks (15% of the tasks for test, 10% for validation; at least one each)
  have no supervised pair at all; training sees only the pairs among the remaining tasks,
  and evaluation covers every measured pair between a held-out task and a training task, in
  both directions (the paper's `evaluate_on_new_datasets`).
- The metric is Spearman ρ between the predicted score and the target `tanh(50·a)`, pooled
  over the test pairs of a case.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from models.metrics import spearman
from models.transfer import pair_groups

SETTINGS = ("existing-80", "existing-50", "novel")
VAL_FRACTION = 0.10
NOVEL_TEST_FRACTION = 0.15
NOVEL_VAL_FRACTION = 0.10


@dataclass(frozen=True, eq=False)
class Split:
    """One case of one setting; pair sets are `(M,)` int64 indices into the measured pairs.

    Attributes:
        setting: one of `SETTINGS`.
        train, val, test: measured pairs supervised, used for validation, and scored.
        held_out: task rows never seen in training (novel; empty otherwise).
    """

    setting: str
    train: np.ndarray
    val: np.ndarray
    test: np.ndarray
    held_out: np.ndarray


def case_rng(seed: int, case: int, setting: str) -> np.random.Generator:
    """An independent, reproducible generator per (seed, case, setting)."""
    return np.random.default_rng([seed, case, SETTINGS.index(setting), 7])


def existing_split(
    source: np.ndarray, target: np.ndarray, train_fraction: float, rng: np.random.Generator
) -> Split:
    """Splits the measured pairs by unordered task pair: `train_fraction`, 10% val, rest test.

    Raises:
        ValueError: if the fractions leave no test pairs or there are fewer than 3 pairs.
    """
    if not 0.0 < train_fraction < 1.0 - VAL_FRACTION:
        raise ValueError(f"train_fraction must be in (0, {1 - VAL_FRACTION}), got {train_fraction}")
    if source.size < 3:
        raise ValueError(f"need at least 3 measured pairs, got {source.size}")
    group_of = pair_groups(source, target)
    n_groups = int(group_of.max()) + 1
    order = rng.permutation(n_groups)
    n_train = round(train_fraction * n_groups)
    n_val = max(1, round(VAL_FRACTION * n_groups))
    rank = np.empty(n_groups, dtype=np.int64)
    rank[order] = np.arange(n_groups)
    pair_rank = rank[group_of]
    return Split(
        setting=f"existing-{round(train_fraction * 100)}",
        train=np.flatnonzero(pair_rank < n_train),
        val=np.flatnonzero((pair_rank >= n_train) & (pair_rank < n_train + n_val)),
        test=np.flatnonzero(pair_rank >= n_train + n_val),
        held_out=np.zeros(0, dtype=np.int64),
    )


def novel_split(
    source: np.ndarray, target: np.ndarray, n_tasks: int, rng: np.random.Generator
) -> Split:
    """Holds out whole tasks: 15% of them for test and 10% for validation (at least 1 each).

    Raises:
        ValueError: with fewer than 4 tasks.
    """
    if n_tasks < 4:
        raise ValueError(f"the novel split needs at least 4 tasks, got {n_tasks}")
    n_test = max(1, round(NOVEL_TEST_FRACTION * n_tasks))
    n_val = max(1, round(NOVEL_VAL_FRACTION * n_tasks))
    drawn = rng.permutation(n_tasks)
    test_tasks, val_tasks = drawn[:n_test], drawn[n_test : n_test + n_val]
    role = np.zeros(n_tasks, dtype=np.int64)  # 0 train, 1 val, 2 test
    role[val_tasks], role[test_tasks] = 1, 2
    rs, rt = role[source], role[target]
    return Split(
        setting="novel",
        train=np.flatnonzero((rs == 0) & (rt == 0)),
        # Pairs between two held-out tasks are left out: a novel task meets known ones.
        val=np.flatnonzero(((rs == 1) & (rt == 0)) | ((rs == 0) & (rt == 1))),
        test=np.flatnonzero(((rs == 2) & (rt == 0)) | ((rs == 0) & (rt == 2))),
        held_out=np.sort(np.concatenate([test_tasks, val_tasks])).astype(np.int64),
    )


def make_split(
    setting: str, source: np.ndarray, target: np.ndarray, n_tasks: int, seed: int, case: int
) -> Split:
    """The split of `setting` in case `case`: the same for every model of a run."""
    if setting not in SETTINGS:
        raise ValueError(f"unknown setting {setting!r}; expected one of {SETTINGS}")
    rng = case_rng(seed, case, setting)
    if setting == "novel":
        return novel_split(source, target, n_tasks, rng)
    return existing_split(source, target, int(setting.split("-")[1]) / 100, rng)


def rho(y_true: np.ndarray, score: np.ndarray) -> float:
    """Spearman ρ (average ranks for ties; 0 when either side is constant)."""
    return spearman(np.asarray(y_true, dtype=np.float64), np.asarray(score, dtype=np.float64))
