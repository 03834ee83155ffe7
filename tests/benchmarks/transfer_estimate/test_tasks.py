"""The digit tasks: enough of them, of every kind, on disjoint image pools."""

from __future__ import annotations

import numpy as np

from benchmarks.transfer_estimate.runner import label_overlap, label_text_cosine
from benchmarks.transfer_estimate.tasks import (
    default_tasks,
    load_digits_pools,
    source_data,
    target_split,
)


def test_there_are_at_least_twenty_distinct_tasks_of_every_kind() -> None:
    tasks = default_tasks()
    assert len(tasks) >= 20
    assert len({t.name for t in tasks}) == len(tasks)
    assert len({t.label_of for t in tasks}) >= 19  # "-small" ones differ in size only
    coarse = [t for t in tasks if len(t.classes) < len(t.members)]
    subsets = [t for t in tasks if len(t.members) < 10]
    smaller = [t for t in tasks if t.source_per_class is not None]
    assert len(coarse) >= 5 and len(subsets) >= 5 and len(smaller) >= 2
    for t in tasks:
        assert sorted({t.label_of[d] for d in t.members}) == list(range(len(t.classes)))


def test_pools_are_disjoint_halves_of_the_bundled_digits() -> None:
    pools = load_digits_pools()
    assert len(pools.source_x) + len(pools.target_x) == 1797
    assert pools.source_x.shape[1] == 64 and 0 <= pools.source_x.min() <= pools.source_x.max() <= 1
    source_rows = {row.tobytes() for row in pools.source_x}
    shared = sum(row.tobytes() in source_rows for row in pools.target_x)
    assert shared < 5  # only images that happen to be pixel-identical
    assert set(np.unique(pools.target_fine)) == set(range(10))


def test_a_target_sample_has_its_shots_and_tests_on_the_rest() -> None:
    pools = load_digits_pools()
    task = next(t for t in default_tasks() if t.name == "odd-even")
    train_x, train_y, test_x, test_y = target_split(task, pools, shots=4, seed=3)
    assert np.bincount(train_y).tolist() == [4, 4] and set(test_y.tolist()) == {0, 1}
    assert len(train_x) + len(test_x) == len(pools.target_x)
    again = target_split(task, pools, shots=4, seed=3)
    np.testing.assert_array_equal(again[0], train_x)
    small = next(t for t in default_tasks() if t.name == "low-small")
    x, y = source_data(small, pools)
    assert np.bincount(y).tolist() == [15] * 5 and len(x) == 75


def test_label_overlap_is_the_share_of_the_target_s_digits_the_source_saw() -> None:
    tasks = {t.name: t for t in default_tasks()}
    picked = [tasks["digits"], tasks["low"], tasks["three-eight"]]
    overlap = label_overlap(picked)
    assert overlap[1, 0] == 0.5 and overlap[0, 1] == 1.0
    assert overlap[1, 2] == 0.5 and overlap[2, 1] == 0.2


def test_label_text_cosine_compares_the_tasks_mean_class_embeddings() -> None:
    tasks = {t.name: t for t in default_tasks()}
    picked = [tasks["odd-even"], tasks["odd-even-small"], tasks["loops"]]
    vectors = {"even": [1.0, 0.0], "odd": [1.0, 0.0], "no loop": [0.0, 1.0], "loop": [0.0, 2.0]}

    def embed(labels: list[str]) -> np.ndarray:
        return np.array([vectors[label] for label in labels])

    cosine = label_text_cosine(picked, embed)
    np.testing.assert_allclose(cosine, [[1, 1, 0], [1, 1, 0], [0, 0, 1]], atol=1e-12)
