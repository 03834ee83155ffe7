"""`rank` returns exactly what scoring every box and sorting returns."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from models.ranking import BoxIndex, rank, rank_bounded, upper_log_intersection
from models.scoring import containment_to_all


def _brute(
    index: BoxIndex, a: np.ndarray, b: np.ndarray, by: str, k: int, exclude: int | None
) -> tuple[list[int], np.ndarray, np.ndarray]:
    p_in, p_contains = containment_to_all(
        a, b, index.lo, index.hi, beta=index.beta, gumbel_beta=index.gumbel_beta
    )
    score = p_in if by == "p_in" else p_contains
    rows = [r for r in range(len(index)) if r != exclude]
    rows.sort(key=lambda r: (-score[r], r))
    best = rows[:k]
    return best, p_in[best], p_contains[best]


def _boxes(rng: np.random.Generator, n: int, d: int, duplicates: bool) -> tuple[np.ndarray, ...]:
    lo = rng.normal(0, 2, size=(n, d))
    hi = lo + rng.lognormal(-0.5, 0.8, size=(n, d))
    if duplicates:  # near-identical and identical boxes, as Hub copies of MNIST give
        lo[n // 2 :] = lo[0] + rng.normal(0, 1e-3, size=(n - n // 2, d))
        hi[n // 2 :] = hi[0]
        hi[-3:], lo[-3:] = hi[0], lo[0]
    return lo, hi


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    n=st.integers(1, 400),
    d=st.integers(1, 5),
    k=st.integers(0, 120),
    gumbel=st.sampled_from([None, 0.05, 0.5]),
    beta=st.sampled_from([1.0, 10.0]),
    by=st.sampled_from(["p_in", "p_contains"]),
    duplicates=st.booleans(),
    query_in_map=st.booleans(),
)
def test_rank_equals_brute_force(
    seed: int,
    n: int,
    d: int,
    k: int,
    gumbel: float | None,
    beta: float,
    by: str,
    duplicates: bool,
    query_in_map: bool,
) -> None:
    rng = np.random.default_rng(seed)
    lo, hi = _boxes(rng, n, d, duplicates)
    index = BoxIndex.build(lo, hi, beta, gumbel)
    if query_in_map:
        a = int(rng.integers(n))
        qa, qb, exclude = lo[a], hi[a], a
    else:
        qa = rng.normal(0, 2, size=d)
        qb, exclude = qa + rng.lognormal(0, 1, size=d), None
    got = rank(index, qa, qb, by=by, k=k, exclude=exclude)
    rows, p_in, p_contains = _brute(index, qa, qb, by, k, exclude)
    assert got.rows.tolist() == rows
    np.testing.assert_array_equal(got.p_in, p_in)
    np.testing.assert_array_equal(got.p_contains, p_contains)


def test_rank_scores_few_boxes_on_a_large_map() -> None:
    rng = np.random.default_rng(0)
    lo, hi = _boxes(rng, 20_000, 5, duplicates=False)
    index = BoxIndex.build(lo, hi, 10.0, 0.05)
    for a in range(20):
        for by in ("p_in", "p_contains"):
            got = rank(index, lo[a], hi[a], by=by, k=10, exclude=a)
            assert got.scored < 2_000  # the bound pruned the rest
            rows, _, _ = _brute(index, lo[a], hi[a], by, 10, a)
            assert got.rows.tolist() == rows


def test_one_bound_serves_both_directions() -> None:
    rng = np.random.default_rng(1)
    lo, hi = _boxes(rng, 3_000, 5, duplicates=True)
    index = BoxIndex.build(lo, hi, 10.0, 0.05)
    for a in range(10):
        qa = rng.normal(0, 2, size=5)
        qb = qa + rng.lognormal(0, 1, size=5)
        bound = upper_log_intersection(index, qa, qb)
        for by in ("p_in", "p_contains"):
            got = rank_bounded(index, qa, qb, bound.copy(), by=by, k=25, exclude=a)
            want = rank(index, qa, qb, by=by, k=25, exclude=a)
            assert got.rows.tolist() == want.rows.tolist() and got.scored == want.scored
            np.testing.assert_array_equal(got.p_in, want.p_in)
            np.testing.assert_array_equal(got.p_contains, want.p_contains)


def test_rank_rejects_bad_arguments() -> None:
    index = BoxIndex.build(np.zeros((2, 2)), np.ones((2, 2)), 1.0, None)
    with pytest.raises(ValueError, match="by"):
        rank(index, np.zeros(2), np.ones(2), by="score", k=1)
    with pytest.raises(ValueError, match="k"):
        rank(index, np.zeros(2), np.ones(2), by="p_in", k=-1)


def test_index_arrays_are_read_only() -> None:
    index = BoxIndex.build(np.zeros((2, 2)), np.ones((2, 2)), 1.0, None)
    with pytest.raises(ValueError):
        index.lo[0, 0] = 3.0
