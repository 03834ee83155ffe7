"""The transfer benchmark's Task2Box stops early on the validation pairs' soft targets."""

from __future__ import annotations

import numpy as np

from benchmarks.hierarchy.task2box import Task2BoxScorer
from benchmarks.transfer.zoo import model_specs


def _toy(n: int = 10, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 6)).astype(np.float32)
    s, t = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
    keep = s != t
    pairs = np.stack([s[keep], t[keep]], axis=1)
    # Soft transfer targets in (0, 1): every one below 1, as tanh(50·a) is.
    y = np.tanh(np.abs(x[pairs[:, 0], 0] - x[pairs[:, 1], 1])).astype(np.float32) * 0.9
    return x, pairs, y


def test_task2box_validates_on_soft_targets() -> None:
    x, pairs, y = _toy()
    spec = model_specs([2], quick=True, device="cpu", losses=["ours"])[0]
    model = spec.make(0)
    assert isinstance(model, Task2BoxScorer)
    model.fit(x, pairs[:60], y[:60], val=(pairs[60:], y[60:]))
    assert model._model is not None
    vals = [h["val"] for h in model._model.history if h["val"] is not None]
    # Binarized at y >= 1 every target would be 0, and Spearman ρ 0 at every check.
    assert vals and any(v != 0.0 for v in vals)
    # The kept weights are those of the best check after the warm-up (the later one among
    # equals).
    warm_up = model._model.config.min_epochs
    assert warm_up > 0
    checks = [
        (int(epoch), float(val))
        for h in model._model.history
        if (val := h["val"]) is not None and (epoch := h["epoch"]) is not None
        if epoch >= warm_up
    ]
    best = max(v for _, v in checks)
    assert model._model.best_epoch == max(e for e, v in checks if v == best)
