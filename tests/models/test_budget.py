"""The trainer chosen by atlas size, and the memory estimate the train job checks."""

from __future__ import annotations

import dataclasses
import tracemalloc

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from models.budget import (
    SAMPLED_PATIENCE,
    STEP_BUDGET,
    estimate_peak_bytes,
    sized_vector_config,
)
from models.pairs import PairSet
from models.sampling import SampledPlan
from models.setbox_map import SAMPLED_POSITIVES
from models.train import TrainConfig, fit


def test_small_atlases_train_full_batch_as_configured() -> None:
    config = TrainConfig(dim=2, epochs=1350)
    assert sized_vector_config(config, n_datasets=100, n_positive=500) is config
    # About 500 datasets is the last full-batch size whatever the positives.
    assert sized_vector_config(config, n_datasets=600, n_positive=10).positives_per_epoch


def test_large_atlases_draw_positives_for_a_step_budget_with_early_stopping() -> None:
    config = TrainConfig(dim=2, epochs=1350)
    sized = sized_vector_config(config, n_datasets=10_000, n_positive=5_000_000)
    assert sized.positives_per_epoch == SAMPLED_POSITIVES
    assert sized.epochs == STEP_BUDGET and sized.patience == SAMPLED_PATIENCE
    assert (sized.dim, sized.loss, sized.hidden) == (config.dim, config.loss, config.hidden)
    # An epoch budget asked for below the step budget (the quick first map) is kept.
    quick = sized_vector_config(TrainConfig(epochs=150), n_datasets=10_000, n_positive=10)
    assert quick.epochs == 150


@given(st.integers(0, 10**6), st.integers(0, 10**8), st.integers(0, 10**6), st.integers(1, 10))
def test_the_estimate_grows_with_every_count(n: int, positives: int, labels: int, k: int) -> None:
    small = estimate_peak_bytes(n, positives, labels)
    assert small.total > 0
    for bigger in (
        estimate_peak_bytes(n * k + 1, positives, labels),
        estimate_peak_bytes(n, positives * k + 1, labels),
        estimate_peak_bytes(n, positives, labels * k + 1),
    ):
        assert bigger.total > small.total
    assert "positive pairs" in small.describe()


def _star_atlas(n: int) -> tuple[np.ndarray, PairSet]:
    """`n` nodes with 2-D features; node k is inside every node of a higher tier."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, 8)).astype(np.float32)
    tier = np.arange(n) % 4
    i, j = np.nonzero(tier[:, None] < tier[None, :])
    keep = rng.random(i.size) < 0.05
    return x, PairSet(i[keep], j[keep], np.ones(int(keep.sum()), np.float32), closed_world=True)


def test_a_sampled_epoch_costs_the_same_at_any_atlas_size() -> None:
    # Pairs per epoch are bounded by the draw, not by the positives, which grow as n².
    seen = []
    for n in (600, 2_400):
        x, pairs = _star_atlas(n)
        config = sized_vector_config(
            TrainConfig(dim=2, epochs=3, hidden=(16,), device="cpu", full_batch_max_pairs=0),
            n_datasets=n,
            n_positive=len(pairs),
        )
        config = dataclasses.replace(config, positives_per_epoch=2_000)
        model = fit(x, pairs, config)
        seen.append({int(h["pairs"]) for h in model.history})
    assert len(pairs) > 10 * 2_000  # the larger atlas has far more positives than the draw
    bound = 2_000 * (1 + config.negatives_per_positive + config.hard_negatives_per_positive)
    assert all(max(s) <= bound for s in seen), seen


def test_a_sampled_epochs_memory_stays_flat_as_the_atlas_grows() -> None:
    # numpy reports its buffers to tracemalloc: the peak while drawing one epoch's pairs.
    peaks = []
    for n in (600, 2_400):
        _, pairs = _star_atlas(n)
        plan = SampledPlan(
            pairs.i, pairs.j, pairs.y, n, closed_world=True, negatives_per_positive=4,
            hard_negatives_per_positive=2, neighbors=8, positives_per_epoch=2_000,
        )  # fmt: skip
        rng = np.random.default_rng(0)
        tracemalloc.start()
        plan.epoch_pairs(rng)
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
    assert peaks[1] < 1.5 * peaks[0], peaks  # 16x the positives, the same epoch
