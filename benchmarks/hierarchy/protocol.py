"""The Task2Box §5.1 evaluation protocol on a hierarchy: splits, decision rule, F1. Pure numpy.

- existing-80 / existing-50: every node's features are seen; 80% (50%) of the unordered pairs
  are supervised in both directions, 10% are validation and the rest test. (i, j) and (j, i)
  always share a split, so the reverse of a test pair never leaks into training.
- novel: held-out nodes (about 15% for test, 10% for validation) are drawn from nodes with no
  children; training sees only the pairs among the remaining nodes, and evaluation covers every
  pair between a held-out node and a training node, in both directions.
- A model predicts "c under p" when `s(c, p) > s(p, c)` and `s(c, p) > t`, with the threshold
  t chosen to maximize F1 on the validation pairs.
- The metric is positive-class F1 over ordered pairs, a positive being an ancestor pair. The
  informational edge F1 keeps only direct edges as positives and drops indirect ancestor pairs
  from the evaluated pairs, so it asks "are the direct edges found?" without charging a
  transitive model for also finding grandparents.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

SETTINGS = ("existing-80", "existing-50", "novel")
VAL_FRACTION = 0.10
NOVEL_TEST_FRACTION = 0.15
NOVEL_VAL_FRACTION = 0.10

PairScorer = Callable[[np.ndarray, np.ndarray], np.ndarray]
"""Scores ordered pairs: `(i, j) -> s`, higher meaning "more likely i lies under j"."""


@dataclass(frozen=True)
class Split:
    """One case of one setting. Pair arrays are `(M, 2)` int64 of ordered `(i, j)`.

    Attributes:
        setting: one of `SETTINGS`.
        train: supervised ordered pairs (both orders of each unordered pair).
        val: validation pairs (threshold tuning, early stopping).
        test: test pairs.
        held_out: nodes unseen in training (novel setting; empty otherwise).
    """

    setting: str
    train: np.ndarray
    val: np.ndarray
    test: np.ndarray
    held_out: np.ndarray


@dataclass(frozen=True)
class Score:
    """Test metrics of one model on one split."""

    f1: float
    f1_edge: float
    threshold: float


def case_rng(seed: int, case: int, setting: str) -> np.random.Generator:
    """An independent, reproducible generator per (seed, case, setting)."""
    return np.random.default_rng([seed, case, SETTINGS.index(setting)])


def _both_orders(pairs: np.ndarray) -> np.ndarray:
    return np.concatenate([pairs, pairs[:, ::-1]]).astype(np.int64)


def existing_split(n: int, train_fraction: float, rng: np.random.Generator) -> Split:
    """Splits the unordered pairs of `n` nodes: `train_fraction` train, 10% val, rest test.

    Raises:
        ValueError: if the fractions leave no test pairs or `n < 3`.
    """
    if n < 3:
        raise ValueError(f"need at least 3 nodes, got {n}")
    if not 0.0 < train_fraction < 1.0 - VAL_FRACTION:
        raise ValueError(f"train_fraction must be in (0, {1 - VAL_FRACTION}), got {train_fraction}")
    a, b = np.triu_indices(n, k=1)
    unordered = np.stack([a, b], axis=1)[rng.permutation(a.size)]
    n_train = round(train_fraction * len(unordered))
    n_val = max(1, round(VAL_FRACTION * len(unordered)))
    setting = f"existing-{round(train_fraction * 100)}"
    return Split(
        setting=setting,
        train=_both_orders(unordered[:n_train]),
        val=_both_orders(unordered[n_train : n_train + n_val]),
        test=_both_orders(unordered[n_train + n_val :]),
        held_out=np.zeros(0, dtype=np.int64),
    )


def _pairs_with(nodes: np.ndarray, others: np.ndarray) -> np.ndarray:
    grid = np.stack(np.meshgrid(nodes, others, indexing="ij"), axis=-1).reshape(-1, 2)
    return _both_orders(grid)


def novel_split(n: int, childless: np.ndarray, rng: np.random.Generator) -> Split:
    """Holds out childless nodes as unseen tasks (15% of n for test, 10% for validation).

    Raises:
        ValueError: if there are too few childless nodes to hold out one test and one
            validation node while keeping at least two training nodes.
    """
    n_test = max(1, round(NOVEL_TEST_FRACTION * n))
    n_val = max(1, round(NOVEL_VAL_FRACTION * n))
    if len(childless) < 2 or n - 2 < 2:
        raise ValueError(f"novel split needs >= 2 childless nodes and >= 4 nodes, got {n}")
    # Shrink proportionally when a shallow hierarchy has few childless nodes.
    budget = min(len(childless), n - 2)
    if n_test + n_val > budget:
        n_test = max(1, round(budget * n_test / (n_test + n_val)))
        n_val = max(1, budget - n_test)
    drawn = rng.permutation(np.asarray(childless, dtype=np.int64))
    test_nodes, val_nodes = drawn[:n_test], drawn[n_test : n_test + n_val]
    held = np.concatenate([test_nodes, val_nodes])
    train_nodes = np.setdiff1d(np.arange(n), held)
    a, b = np.meshgrid(train_nodes, train_nodes, indexing="ij")
    off_diag = a != b
    train = np.stack([a[off_diag], b[off_diag]], axis=1).astype(np.int64)
    return Split(
        setting="novel",
        train=train,
        val=_pairs_with(val_nodes, train_nodes),
        test=_pairs_with(test_nodes, train_nodes),
        held_out=np.sort(held),
    )


def make_split(setting: str, n: int, childless: np.ndarray, seed: int, case: int) -> Split:
    """The split for `setting` in case `case`: the same for every model in a run."""
    if setting not in SETTINGS:
        raise ValueError(f"unknown setting {setting!r}; expected one of {SETTINGS}")
    rng = case_rng(seed, case, setting)
    if setting == "novel":
        return novel_split(n, childless, rng)
    return existing_split(n, int(setting.split("-")[1]) / 100, rng)


def f1_score(predicted: np.ndarray, truth: np.ndarray) -> float:
    """Positive-class F1; 1.0 when there is nothing to find and nothing is predicted."""
    tp = int(np.sum(predicted & truth))
    wrong = int(np.sum(predicted != truth))
    return 1.0 if tp == 0 and wrong == 0 else 2 * tp / (2 * tp + wrong)


def decide(forward: np.ndarray, backward: np.ndarray, threshold: float) -> np.ndarray:
    """The decision rule: `s(c, p) > s(p, c)` and `s(c, p) > threshold`."""
    return (forward > backward) & (forward > threshold)


def tune_threshold(forward: np.ndarray, backward: np.ndarray, truth: np.ndarray) -> float:
    """The threshold that maximizes validation F1 under `decide`.

    Candidates are the midpoints between consecutive distinct scores of the pairs that pass the
    asymmetry test (plus one above the highest, predicting nothing), so the F1 of every
    reachable prediction set is compared exactly, in O(M log M).
    """
    eligible = forward > backward
    scores = np.sort(np.unique(forward[eligible]))[::-1]
    if scores.size == 0:
        return float(np.max(forward, initial=0.0))
    n_pos = int(truth.sum())
    # The prediction set for a distinct score v is {eligible, s >= v}: a prefix of the
    # eligible pairs sorted by descending score.
    s_sorted = -np.sort(-forward[eligible], kind="stable")
    hits = np.cumsum(truth[eligible][np.argsort(-forward[eligible], kind="stable")])
    last = np.searchsorted(-s_sorted, -scores, side="right") - 1
    tp, counts = hits[last], last + 1
    denom = counts + n_pos
    f1 = np.where(denom > 0, 2 * tp / np.maximum(denom, 1), 0.0)
    best = int(np.argmax(f1))
    if f1[best] == 0.0:
        return float(scores[0] + 1.0)  # nothing useful: predict nothing
    below = scores[best + 1] if best + 1 < scores.size else scores[best] - 1.0
    return float((scores[best] + below) / 2)


def evaluate(
    score: PairScorer,
    split: Split,
    contained: np.ndarray,
    direct: np.ndarray,
) -> Score:
    """Tunes the threshold on `split.val` and scores `split.test`.

    Args:
        score: the model's pair scorer.
        split: the case's split.
        contained: `(N, N)` bool ground truth, `[i, j]` = i under j (transitive).
        direct: `(N, N)` bool, `[i, j]` = j is a direct parent of i.

    Returns:
        Test F1 over all test pairs, edge F1, and the threshold used.
    """

    def both(pairs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        i, j = pairs[:, 0], pairs[:, 1]
        return np.asarray(score(i, j), dtype=np.float64), np.asarray(score(j, i), dtype=np.float64)

    v_fwd, v_bwd = both(split.val)
    t = tune_threshold(v_fwd, v_bwd, contained[split.val[:, 0], split.val[:, 1]])
    fwd, bwd = both(split.test)
    pred = decide(fwd, bwd, t)
    i, j = split.test[:, 0], split.test[:, 1]
    truth = contained[i, j]
    keep = ~truth | direct[i, j]  # drop indirect ancestor pairs for the edge metric
    return Score(
        f1=f1_score(pred, truth),
        f1_edge=f1_score(pred[keep], direct[i, j][keep]),
        threshold=t,
    )
