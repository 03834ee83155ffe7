"""Task2Box behind the baselines' `fit`/`score` interface, so the runner treats all models alike.

`Task2BoxScorer` maps each node's `[mean; variance]` vector to its box; `SetBoxScorer` maps
each node's label set (one point per label embedding) to its bounding box.
"""

from __future__ import annotations

import numpy as np

from models.setbox import LabelSets
from models.setbox_train import SetTrainConfig, TrainedSetBoxModel, fit_set_boxes
from models.train import PairSet, TrainConfig, TrainedBoxModel, fit


class Task2BoxScorer:
    """Fits a box network on the listed pairs (open world) and scores `P(A_i ⊆ B_j)`.

    Args:
        config: the trainer configuration.
        soft_val: validate on the pairs' own targets (transfer: early stopping on Spearman ρ
            of the soft scores) instead of binary containment (hierarchies: `y >= 1`).
    """

    name = "task2box"

    def __init__(self, config: TrainConfig, *, soft_val: bool = False) -> None:
        self.config = config
        self.soft_val = soft_val
        self._model: TrainedBoxModel | None = None

    def fit(
        self,
        x: np.ndarray,
        pairs: np.ndarray,
        y: np.ndarray,
        *,
        val: tuple[np.ndarray, np.ndarray] | None = None,
    ) -> Task2BoxScorer:
        # Open world: only the split's pairs are supervised, so test pairs stay unseen.
        train = PairSet(pairs[:, 0], pairs[:, 1], y, closed_world=False)
        val_set = None
        if val is not None:
            # Early stopping watches what the benchmark scores. Hierarchies: containment (y = 1
            # exactly for ancestor pairs), so binary validation targets make the trainer's
            # "auto" metric average precision instead of a rank correlation with the overlap
            # fractions. Transfer (`soft_val`): the soft scores themselves.
            target = val[1] if self.soft_val else (val[1] >= 1.0)
            val_set = PairSet(val[0][:, 0], val[0][:, 1], np.asarray(target, dtype=np.float32))
        self._model = fit(x, train, self.config, val=val_set)
        return self

    def score(self, x: np.ndarray, i: np.ndarray, j: np.ndarray) -> np.ndarray:
        if self._model is None:
            raise RuntimeError("fit() must be called before score()")
        return np.asarray(self._model.predict_pairs(x, i, j), dtype=np.float64)


class SetBoxScorer:
    """The label-set Task2Box model (`models.setbox`) behind the same interface.

    It reads each node's label set (rows of `emb`), not the `[mean; variance]` vector `x`
    the runner passes; `x` only fixes the node count. A held-out node is placed from its own
    labels' embeddings, like any unseen dataset.

    Args:
        config: the trainer configuration.
        emb: `(M, E)` label embeddings.
        sets: the N nodes' label sets over rows of `emb`.
    """

    name = "task2box-set"

    def __init__(self, config: SetTrainConfig, emb: np.ndarray, sets: LabelSets) -> None:
        self.config, self.emb, self.sets = config, emb, sets
        self._model: TrainedSetBoxModel | None = None

    def _check(self, x: np.ndarray) -> None:
        if x.shape[0] != len(self.sets):
            raise ValueError(f"x has {x.shape[0]} rows for {len(self.sets)} label sets")

    def fit(
        self,
        x: np.ndarray,
        pairs: np.ndarray,
        y: np.ndarray,
        *,
        val: tuple[np.ndarray, np.ndarray] | None = None,
    ) -> SetBoxScorer:
        self._check(x)
        train = PairSet(pairs[:, 0], pairs[:, 1], y)
        val_set = None
        if val is not None:  # binary: early stopping on the AP of what the benchmark scores
            val_set = PairSet(val[0][:, 0], val[0][:, 1], (val[1] >= 1.0).astype(np.float32))
        self._model = fit_set_boxes(self.emb, self.sets, train, self.config, val=val_set)
        return self

    def score(self, x: np.ndarray, i: np.ndarray, j: np.ndarray) -> np.ndarray:
        if self._model is None:
            raise RuntimeError("fit() must be called before score()")
        self._check(x)
        return self._model.predict_pairs(i, j)
