"""Transfer targets and pairs: per-target normalization, tanh targets, box orientation."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from models.transfer import (
    REFERENCE_MEAN,
    TANH_K,
    holdout_pairs,
    normalize_per_target,
    pair_groups,
    transfer_pairs,
    transfer_targets,
    transfer_train_config,
)


def test_normalize_divides_each_target_by_its_mean() -> None:
    target = np.array([0, 0, 1, 1, 1])
    score = np.array([1.0, 3.0, 0.01, 0.02, 0.03])
    out = normalize_per_target(target, score, reference_mean=1.0)
    np.testing.assert_allclose(out, [0.5, 1.5, 0.5, 1.0, 1.5])


def test_normalize_keeps_an_all_zero_target_at_zero() -> None:
    out = normalize_per_target(np.array([3, 3, 4]), np.array([0.0, 0.0, 2.0]))
    np.testing.assert_allclose(out, [0.0, 0.0, REFERENCE_MEAN])


@given(
    scale=st.floats(1e-6, 1e6),
    scores=st.lists(st.floats(0.0, 100.0), min_size=2, max_size=12),
)
def test_normalize_is_invariant_to_a_target_s_scale(scale: float, scores: list[float]) -> None:
    score = np.array(scores)
    target = np.arange(score.size) % 2
    scaled = np.where(target == 1, score * scale, score)
    np.testing.assert_allclose(
        normalize_per_target(target, score),
        normalize_per_target(target, scaled),
        rtol=1e-9,
        atol=1e-300,  # subnormal scores keep fewer significant digits than rtol asks for
    )


def test_targets_are_tanh_of_the_normalized_scores() -> None:
    target = np.array([0, 0, 0])
    score = np.array([1.0, 2.0, 3.0])  # mean 2
    y = transfer_targets(target, score)
    expected = [math.tanh(TANH_K * REFERENCE_MEAN * r) for r in (0.5, 1.0, 1.5)]
    np.testing.assert_allclose(y, expected)
    assert np.all((y >= 0) & (y < 1)) and np.all(np.diff(y) > 0)


@pytest.mark.parametrize(
    ("target", "score", "match"),
    [
        ([0, 1], [1.0], "one length"),
        ([0, 1], [1.0, -0.5], ">= 0"),
        ([0, 1], [1.0, float("nan")], "finite"),
    ],
)
def test_bad_scores_are_refused(target: list[int], score: list[float], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        transfer_targets(np.array(target), np.array(score))


def test_pairs_read_a_transfer_as_the_source_inside_the_target() -> None:
    pairs = transfer_pairs(np.array([4, 1]), np.array([2, 3]), np.array([0.5, 0.25]))
    # y(s→t) ≈ P(box_s ⊆ box_t): i is the source, j the target; unlisted pairs unsupervised.
    assert pairs.i.tolist() == [4, 1] and pairs.j.tolist() == [2, 3]
    assert pairs.closed_world is False
    with pytest.raises(ValueError, match="two tasks"):
        transfer_pairs(np.array([1, 2]), np.array([3, 2]), np.array([0.1, 0.2]))


def test_groups_join_the_two_directions_of_a_task_pair() -> None:
    source = np.array([0, 1, 0, 2, 3])
    target = np.array([1, 0, 2, 0, 1])
    group = pair_groups(source, target)
    assert group[0] == group[1] and group[2] == group[3]
    assert len(set(group.tolist())) == 3


def test_holdout_keeps_groups_whole_and_is_reproducible() -> None:
    rng = np.random.default_rng(0)
    source, target = rng.integers(0, 12, 300), rng.integers(0, 12, 300)
    keep = source != target
    source, target = source[keep], target[keep]
    train, held = holdout_pairs(source, target, 0.25, seed=3)
    assert np.array_equal(np.sort(np.concatenate([train, held])), np.arange(source.size))
    group = pair_groups(source, target)
    assert not set(group[train].tolist()) & set(group[held].tolist())
    n_groups = group.max() + 1
    assert len(set(group[held].tolist())) == round(0.25 * n_groups)
    again = holdout_pairs(source, target, 0.25, seed=3)
    assert np.array_equal(again[1], held)
    assert holdout_pairs(source, target, 0.0)[1].size == 0


def test_train_config_uses_the_paper_transfer_settings() -> None:
    config = transfer_train_config(3, epochs=100, device="cpu")
    assert config.dim == 3 and config.epochs == 100
    assert config.loss_params().volume_weight == 0.01
    assert config.val_metric == "spearman" and config.patience is not None
    assert 0 < config.min_epochs < config.epochs  # a warm-up before early stopping counts
