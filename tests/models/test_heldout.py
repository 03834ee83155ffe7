"""Held-out datasets and pair sets of the train job."""

from __future__ import annotations

import numpy as np
import pytest

from models.heldout import MIN_DATASETS_FOR_VALIDATION, all_pairs, split
from models.targets import SparseTargets, containment_targets


def _targets(n: int, seed: int = 0) -> SparseTargets:
    rng = np.random.default_rng(seed)
    words = [f"w{i}" for i in range(12)]
    sets = [list(rng.choice(words, size=rng.integers(1, 6), replace=False)) for _ in range(n)]
    return containment_targets(sets)


def test_small_sets_are_not_validated() -> None:
    targets = _targets(MIN_DATASETS_FOR_VALIDATION - 1)
    result = split(targets, 0.2)
    assert result.val is None and not result.has_validation and result.val_nodes.size == 0
    assert result.train.closed_world and len(result.train) == targets.values.size


def test_held_out_datasets_never_reach_training() -> None:
    targets = _targets(60)
    result = split(targets, 0.2, seed=3)
    held = set(result.val_nodes.tolist())
    assert len(held) == 12
    assert held.isdisjoint(result.train.i.tolist()) and held.isdisjoint(result.train.j.tolist())
    assert result.train.nodes is not None
    assert sorted(set(result.train.nodes.tolist()) | held) == list(range(60))
    assert result.train.closed_world


def test_validation_scores_every_pair_with_a_held_out_dataset_once() -> None:
    targets = _targets(40, seed=1)
    result = split(targets, 0.25, seed=1)
    assert result.val is not None and not result.val.closed_world
    held = set(result.val_nodes.tolist())
    pairs = list(zip(result.val.i.tolist(), result.val.j.tolist(), strict=True))
    expected = {(a, b) for a in range(40) for b in range(40) if a != b and (a in held or b in held)}
    assert len(pairs) == len(set(pairs)) and set(pairs) == expected
    dense = targets.to_dense()
    np.testing.assert_allclose(result.val.y, dense[result.val.i, result.val.j])


def test_held_out_datasets_are_drawn_from_positive_pairs_first() -> None:
    targets = _targets(80, seed=2)
    result = split(targets, 0.1, seed=0)
    positive = targets.values > 0.5
    involved = set(targets.rows[positive].tolist()) | set(targets.cols[positive].tolist())
    assert len(involved) >= 8 and set(result.val_nodes.tolist()) <= involved


def test_split_is_reproducible_and_validated() -> None:
    targets = _targets(50)
    first, second = split(targets, 0.2, seed=5), split(targets, 0.2, seed=5)
    np.testing.assert_array_equal(first.val_nodes, second.val_nodes)
    with pytest.raises(ValueError, match="val_fraction"):
        split(targets, 0.5)


def test_all_pairs_is_the_closed_world_of_every_dataset() -> None:
    targets = _targets(20)
    pairs = all_pairs(targets)
    assert pairs.closed_world and pairs.nodes is None
    np.testing.assert_array_equal(pairs.y, targets.values)
