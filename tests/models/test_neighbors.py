"""A neighbour table answers exactly what `rank` answers, or declines; never anything else."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from models.neighbors import DIRECTIONS, NeighborTable, neighbor_rows
from models.ranking import BoxIndex, rank


def _boxes(rng: np.random.Generator, n: int, d: int, duplicates: bool) -> BoxIndex:
    # float32 corners, as stored; copies of one box give exact ties, as Hub copies of MNIST do.
    lo = rng.normal(0, 2, size=(n, d)).astype(np.float32)
    hi = lo + rng.lognormal(-0.5, 0.8, size=(n, d)).astype(np.float32)
    if duplicates:
        lo[n // 2 :], hi[n // 2 :] = lo[0], hi[0]
    return BoxIndex.build(lo, hi, beta=10.0, gumbel_beta=0.05)


def _shuffled(index: BoxIndex, order: np.ndarray) -> BoxIndex:
    return BoxIndex.build(index.lo[order], index.hi[order], index.beta, index.gumbel_beta)


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    n=st.integers(1, 300),
    d=st.integers(1, 5),
    width=st.integers(1, 40),
    duplicates=st.booleans(),
)
def test_table_ranks_equal_rank_in_any_row_order(
    seed: int, n: int, d: int, width: int, duplicates: bool
) -> None:
    rng = np.random.default_rng(seed)
    trained = _boxes(rng, n, d, duplicates)
    ids = [f"o/d{i}" for i in range(n)]
    rows = neighbor_rows(trained, k=width)
    # The server loads rows in another order (by downloads, which change after training).
    order = rng.permutation(n)
    loaded = _shuffled(trained, order)
    index = {ids[int(t)]: i for i, t in enumerate(order)}
    table = NeighborTable.remap(ids, rows, index)
    assert table is not None
    answered = 0
    for a in range(n):
        for by in DIRECTIONS:
            for k in {1, width // 2 + 1, width, width + 5}:
                got = table.rank(loaded, a, by=by, k=k)
                want = rank(loaded, loaded.lo[a], loaded.hi[a], by=by, k=k, exclude=a)
                if got is None:  # declining is always allowed: `rank` answers instead
                    continue
                answered += 1
                assert got.rows.tolist() == want.rows.tolist()
                assert np.array_equal(got.p_in, want.p_in)
                assert np.array_equal(got.p_contains, want.p_contains)
    if n > 2 and width >= 2 and not duplicates:  # one listed row beyond the k-th proves k = 1
        assert answered > 0


def test_table_lists_each_rows_best_first_and_never_itself() -> None:
    index = _boxes(np.random.default_rng(1), 500, 3, duplicates=False)
    rows = neighbor_rows(index, k=20)
    for by in DIRECTIONS:
        assert rows[by].shape == (500, 20) and rows[by].dtype == np.int32
        for a in (0, 7, 499):
            want = rank(index, index.lo[a], index.hi[a], by=by, k=20, exclude=a)
            assert rows[by][a].tolist() == want.rows.tolist()
        assert not (rows[by] == np.arange(500)[:, None]).any()


def test_most_requests_are_answered_from_the_table() -> None:
    # Ties aside, the table must answer: otherwise it is dead weight.
    index = _boxes(np.random.default_rng(2), 2000, 5, duplicates=False)
    table = NeighborTable(neighbor_rows(index))
    some = range(0, 2000, 7)
    answered = [table.rank(index, a, by="p_in", k=10) is not None for a in some]
    answered += [table.rank(index, a, by="p_contains", k=100) is not None for a in some]
    assert np.mean(answered) > 0.95


def test_a_small_map_lists_everything() -> None:
    index = _boxes(np.random.default_rng(3), 5, 2, duplicates=True)
    rows = neighbor_rows(index)  # width is n - 1 = 4
    assert rows["p_in"].shape == (5, 4)
    table = NeighborTable(rows)
    for a in range(5):
        got = table.rank(index, a, by="p_contains", k=100)
        assert got is not None  # every other row is listed: nothing to prove
        want = rank(index, index.lo[a], index.hi[a], by="p_contains", k=100, exclude=a)
        assert got.rows.tolist() == want.rows.tolist()


def test_k_up_to_the_width_is_declined() -> None:
    index = _boxes(np.random.default_rng(4), 50, 2, duplicates=False)
    table = NeighborTable(neighbor_rows(index, k=10))
    assert table.rank(index, 0, by="p_in", k=11) is None
    # The tenth row's score proves nothing about unlisted rows: one listed row must follow.
    assert table.rank(index, 0, by="p_in", k=10) is None
    assert table.rank(index, 0, by="p_in", k=9) is not None


@pytest.mark.parametrize(
    "stored",
    [["o/a", "o/b"], ["o/a", "o/b", "o/x"], ["o/a", "o/b", "o/c", "o/d"]],
    ids=["a dataset gone", "a dataset replaced", "a dataset added"],
)
def test_a_stale_table_is_ignored(stored: list[str]) -> None:
    index = {"o/a": 0, "o/b": 1, "o/c": 2}
    n = len(stored)
    rows = {by: np.roll(np.arange(n), 1)[:, None].astype(np.int32) for by in DIRECTIONS}
    assert NeighborTable.remap(stored, rows, index) is None


def test_a_single_box_has_no_neighbours() -> None:
    index = _boxes(np.random.default_rng(5), 1, 2, duplicates=False)
    rows = neighbor_rows(index)
    assert rows["p_in"].shape == (1, 0)
    got = NeighborTable(rows).rank(index, 0, by="p_in", k=10)
    assert got is not None and got.rows.size == 0
