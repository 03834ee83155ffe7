"""`PairSet` validation, the training universe, and target lookup."""

from __future__ import annotations

import numpy as np
import pytest

from models.pairs import PairLookup, PairSet


def test_pairset_normalizes_dtypes_and_length() -> None:
    p = PairSet(np.array([0, 1], dtype=np.int32), np.array([1, 2]), np.array([1, 0.5]))
    assert len(p) == 2 and p.i.dtype == np.int64 and p.y.dtype == np.float32


@pytest.mark.parametrize(
    ("i", "j", "y", "message"),
    [
        (np.array([0, 1]), np.array([1]), np.array([1.0]), "one length"),
        (np.array([0.5]), np.array([1]), np.array([1.0]), "integer indices"),
        (np.array([-1]), np.array([1]), np.array([1.0]), "negative index -1"),
        (np.array([0]), np.array([1]), np.array([1.5]), r"\[0, 1\]"),
        (np.array([0]), np.array([1]), np.array([np.nan]), "finite"),
    ],
)
def test_bad_pairsets_raise_with_the_bad_value(
    i: np.ndarray, j: np.ndarray, y: np.ndarray, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        PairSet(i, j, y)


def test_universe_is_listed_nodes_in_the_open_world_and_all_rows_in_the_closed() -> None:
    i, j, y = np.array([4, 2]), np.array([2, 7]), np.ones(2)
    assert PairSet(i, j, y).universe(10).tolist() == [2, 4, 7]
    assert PairSet(i, j, y, closed_world=True).universe(10).tolist() == list(range(10))
    closed = PairSet(i, j, y, closed_world=True, nodes=np.array([0, 2]))
    assert closed.universe(10).tolist() == [0, 2, 4, 7]


def test_check_rows_names_the_out_of_range_index() -> None:
    with pytest.raises(ValueError, match="index 7 but the features have 5 rows"):
        PairSet(np.array([0]), np.array([7]), np.array([1.0])).check_rows(5)


def test_lookup_returns_listed_targets_and_zero_elsewhere() -> None:
    lookup = PairLookup(np.array([0, 1, 1]), np.array([1, 2, 2]), np.array([1.0, 0.3, 0.6]), 3)
    got = lookup(np.array([0, 1, 2, 1]), np.array([1, 2, 0, 0]))
    # (1, 2) is listed twice: the last target wins.
    np.testing.assert_allclose(got, [1.0, 0.6, 0.0, 0.0])
    empty = PairLookup(np.zeros(0, int), np.zeros(0, int), np.zeros(0), 3)
    np.testing.assert_array_equal(empty(np.array([0]), np.array([1])), [0.0])


def test_lookup_matches_a_dict_on_many_random_queries() -> None:
    # Enough listed keys and queries that the hashed prefilter has collisions (false
    # "maybe listed" answers), which the binary search must then reject.
    rng = np.random.default_rng(0)
    n = 500
    i, j = rng.integers(0, n, 3_000), rng.integers(0, n, 3_000)
    y = rng.random(3_000).astype(np.float32)
    lookup = PairLookup(i, j, y, n)
    truth = dict(zip(zip(i.tolist(), j.tolist(), strict=True), y.tolist(), strict=True))
    qi, qj = rng.integers(0, n, 50_000), rng.integers(0, n, 50_000)
    qi[:3_000], qj[:3_000] = i, j  # every listed pair is queried too
    expected = [truth.get(k, 0.0) for k in zip(qi.tolist(), qj.tolist(), strict=True)]
    np.testing.assert_array_equal(lookup(qi, qj), np.array(expected, dtype=np.float32))
