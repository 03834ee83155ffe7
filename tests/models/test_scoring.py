"""NumPy serving scores agree with the torch box math."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from models import ops, scoring

PROPERTY = settings(deadline=None, max_examples=30)


def _random_boxes(seed: int, n: int, d: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    lo = rng.normal(scale=2.0, size=(n, d))
    return lo, lo + rng.uniform(0.01, 3.0, size=(n, d))


@PROPERTY
@given(
    st.integers(0, 10_000),
    st.integers(1, 6),
    st.sampled_from([1.0, 10.0]),
    st.sampled_from([None, 0.05]),
)
def test_containment_matrix_matches_torch(seed: int, d: int, beta: float, g: float | None) -> None:
    lo, hi = _random_boxes(seed, 7, d)
    got = scoring.containment_matrix(lo, hi, beta=beta, gumbel_beta=g)
    t_lo, t_hi = torch.from_numpy(lo), torch.from_numpy(hi)
    want = ops.containment(
        t_lo[:, None], t_hi[:, None], t_lo[None], t_hi[None], beta=beta, gumbel_beta=g
    ).numpy()
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("g", [None, 0.1])
def test_containment_to_all_is_a_row_and_a_column_of_the_matrix(g: float | None) -> None:
    lo, hi = _random_boxes(3, 20, 3)
    matrix = scoring.containment_matrix(lo, hi, beta=10.0, gumbel_beta=g)
    p_in, p_contains = scoring.containment_to_all(lo[4], hi[4], lo, hi, beta=10.0, gumbel_beta=g)
    assert p_in.shape == p_contains.shape == (20,)
    np.testing.assert_allclose(p_in, matrix[4], rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(p_contains, matrix[:, 4], rtol=1e-5, atol=1e-7)


def test_containment_pairs_matches_matrix_entries() -> None:
    lo, hi = _random_boxes(5, 9, 2)
    i = np.array([0, 3, 8, 8])
    j = np.array([1, 3, 0, 2])
    p = scoring.containment_pairs(lo[i], hi[i], lo[j], hi[j], beta=10.0)
    np.testing.assert_allclose(p, scoring.containment_matrix(lo, hi, beta=10.0)[i, j], rtol=1e-6)


def test_containment_matrix_chunks_rows_consistently(monkeypatch: pytest.MonkeyPatch) -> None:
    lo, hi = _random_boxes(1, 50, 2)
    whole = scoring.containment_matrix(lo, hi, beta=10.0)
    monkeypatch.setattr(scoring, "_MATRIX_CHUNK_ELEMENTS", 7)  # one row per chunk
    np.testing.assert_array_equal(scoring.containment_matrix(lo, hi, beta=10.0), whole)


def test_nested_boxes_hand_computed() -> None:
    lo = np.array([[0.0, 0.0], [0.0, 0.0]])
    hi = np.array([[1.0, 1.0], [2.0, 2.0]])
    p_in, p_contains = scoring.containment_to_all(lo[0], hi[0], lo, hi, beta=1e4)
    np.testing.assert_allclose(p_in, [1.0, 1.0], atol=1e-3)
    np.testing.assert_allclose(p_contains, [1.0, 0.25], atol=1e-3)


def test_shape_errors_name_the_shapes() -> None:
    lo, hi = _random_boxes(0, 4, 2)
    with pytest.raises(ValueError, match=r"\(4, 2\) and \(4, 3\)"):
        scoring.containment_matrix(lo, np.zeros((4, 3)))
    with pytest.raises(ValueError, match=r"\(3,\)"):
        scoring.containment_to_all(np.zeros(3), np.ones(3), lo, hi)


@settings(max_examples=50, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    p=st.integers(1, 50),
    d=st.integers(1, 5),
    gumbel=st.sampled_from([None, 0.05, 0.5]),
)
def test_containment_both_pairs_is_both_directions_of_containment_pairs(
    seed: int, p: int, d: int, gumbel: float | None
) -> None:
    rng = np.random.default_rng(seed)
    lo_a, lo_b = rng.normal(0, 2, (p, d)), rng.normal(0, 2, (p, d))
    hi_a, hi_b = lo_a + rng.lognormal(0, 1, (p, d)), lo_b + rng.lognormal(0, 1, (p, d))
    kw = {"beta": 10.0, "gumbel_beta": gumbel}
    p_in, p_contains = scoring.containment_both_pairs(lo_a, hi_a, lo_b, hi_b, **kw)
    np.testing.assert_allclose(p_in, scoring.containment_pairs(lo_a, hi_a, lo_b, hi_b, **kw))
    np.testing.assert_allclose(
        p_contains, scoring.containment_pairs(lo_b, hi_b, lo_a, hi_a, **kw), rtol=1e-12
    )
    with pytest.raises(ValueError, match="one shape"):
        scoring.containment_both_pairs(lo_a, hi_a, lo_b[:0], hi_b[:0])


def test_containment_to_all_with_known_log_volumes_gives_the_same_numbers() -> None:
    rng = np.random.default_rng(0)
    lo = rng.normal(0, 2, (200, 4))
    hi = lo + rng.lognormal(0, 1, (200, 4))
    kw = {"beta": 10.0, "gumbel_beta": 0.05}
    log_vol = scoring.log_softplus(hi - lo, 10.0).sum(axis=1)
    plain = scoring.containment_to_all(lo[3], hi[3], lo, hi, **kw)
    known = scoring.containment_to_all(lo[3], hi[3], lo, hi, log_vol=log_vol, **kw)
    for a, b in zip(plain, known, strict=True):
        np.testing.assert_array_equal(a, b)
    # A wrong volume changes p_contains: the argument is used, not ignored.
    wrong = scoring.containment_to_all(lo[3], hi[3], lo, hi, log_vol=log_vol - 1.0, **kw)
    assert not np.array_equal(wrong[1], plain[1])
