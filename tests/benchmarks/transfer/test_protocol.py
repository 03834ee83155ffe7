"""The transfer protocol: splits keep task pairs together, novel tasks stay unseen, ρ."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from benchmarks.transfer.protocol import SETTINGS, make_split, rho
from models.transfer import pair_groups

N_TASKS = 20


def _matrix() -> tuple[np.ndarray, np.ndarray]:
    pairs = np.array(list(itertools.permutations(range(N_TASKS), 2)))
    keep = pairs[:, 1] < 16  # four source-only tasks, like Taskonomy's
    return pairs[keep, 0], pairs[keep, 1]


@pytest.mark.parametrize("setting", ["existing-80", "existing-50"])
def test_existing_splits_partition_the_pairs_by_task_pair(setting: str) -> None:
    source, target = _matrix()
    split = make_split(setting, source, target, N_TASKS, seed=0, case=1)
    parts = [split.train, split.val, split.test]
    assert np.array_equal(np.sort(np.concatenate(parts)), np.arange(source.size))
    group = pair_groups(source, target)
    seen = [set(group[p].tolist()) for p in parts]
    assert not (seen[0] & seen[1] or seen[0] & seen[2] or seen[1] & seen[2])
    n_groups = group.max() + 1
    fraction = int(setting.split("-")[1]) / 100
    assert len(seen[0]) == round(fraction * n_groups)
    assert len(seen[1]) == round(0.1 * n_groups)
    assert split.held_out.size == 0


def test_novel_tasks_have_no_training_pair() -> None:
    source, target = _matrix()
    split = make_split("novel", source, target, N_TASKS, seed=0, case=0)
    held = set(split.held_out.tolist())
    assert len(held) == round(0.15 * N_TASKS) + round(0.10 * N_TASKS)
    for index in split.train:
        assert source[index] not in held and target[index] not in held
    for part in (split.val, split.test):
        assert part.size > 0
        for index in part:  # exactly one end is novel
            assert (source[index] in held) != (target[index] in held)
    test_tasks = {int(t) for i in split.test for t in (source[i], target[i]) if t in held}
    val_tasks = {int(t) for i in split.val for t in (source[i], target[i]) if t in held}
    assert not test_tasks & val_tasks


def test_splits_are_reproducible_and_differ_by_case() -> None:
    source, target = _matrix()
    for setting in SETTINGS:
        a = make_split(setting, source, target, N_TASKS, seed=3, case=2)
        b = make_split(setting, source, target, N_TASKS, seed=3, case=2)
        c = make_split(setting, source, target, N_TASKS, seed=3, case=4)
        assert np.array_equal(a.test, b.test) and not np.array_equal(a.test, c.test)
    with pytest.raises(ValueError, match="unknown setting"):
        make_split("existing-70", source, target, N_TASKS, seed=0, case=0)


def test_rho_is_spearman_with_ties() -> None:
    y = np.array([0.1, 0.2, 0.3, 0.4])
    assert rho(y, y**3) == pytest.approx(1.0)
    assert rho(y, -y) == pytest.approx(-1.0)
    assert rho(y, np.ones(4)) == 0.0
