"""Box math: hypothesis properties and hand-computed cases."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from models import ops

# No deadline: the first call of a torch op is slow, and the machine is shared.
PROPERTY = settings(deadline=None, max_examples=50)

DIMS = st.integers(min_value=1, max_value=6)
COORD = st.floats(min_value=-50, max_value=50, allow_nan=False)
SIDE = st.floats(min_value=1e-3, max_value=50, allow_nan=False)


@st.composite
def boxes(draw: st.DrawFn, d: int, n: int = 1) -> tuple[torch.Tensor, torch.Tensor]:
    lo = torch.tensor(draw(st.lists(COORD, min_size=n * d, max_size=n * d)), dtype=torch.float64)
    side = torch.tensor(draw(st.lists(SIDE, min_size=n * d, max_size=n * d)), dtype=torch.float64)
    lo = lo.reshape(n, d)
    return lo, lo + side.reshape(n, d)


@st.composite
def box_pair(draw: st.DrawFn) -> tuple[torch.Tensor, ...]:
    d = draw(DIMS)
    lo_a, hi_a = draw(boxes(d))
    lo_b, hi_b = draw(boxes(d))
    return lo_a, hi_a, lo_b, hi_b


TEMPS = st.sampled_from([0.5, 1.0, 10.0, 100.0])
GUMBEL = st.sampled_from([None, 0.01, 0.1, 1.0])


@PROPERTY
@given(box_pair(), TEMPS, GUMBEL)
def test_containment_is_a_probability(
    pair: tuple[torch.Tensor, ...], beta: float, g: float | None
) -> None:
    p = ops.containment(*pair, beta=beta, gumbel_beta=g)
    assert torch.isfinite(p).all()
    assert ((p >= 0) & (p <= 1)).all()


@PROPERTY
@given(DIMS.flatmap(lambda d: boxes(d, n=3)), TEMPS)
def test_box_contains_itself_with_hard_intersection(
    box: tuple[torch.Tensor, torch.Tensor], beta: float
) -> None:
    lo, hi = box
    p = ops.containment(lo, hi, lo, hi, beta=beta)
    torch.testing.assert_close(p, torch.ones(3, dtype=torch.float64))


@PROPERTY
@given(DIMS.flatmap(lambda d: boxes(d)))
def test_box_contains_itself_nearly_with_small_gumbel(
    box: tuple[torch.Tensor, torch.Tensor],
) -> None:
    lo, hi = box
    hi = hi + 0.05
    # The Gumbel intersection shrinks each side by 2·γ·log 2 at most: negligible at γ = 1e-4
    # against sides >= 0.05.
    p = ops.containment(lo, hi, lo, hi, beta=100.0, gumbel_beta=1e-4)
    assert float(p.min()) > 0.98


@PROPERTY
@given(box_pair(), st.floats(min_value=0.05, max_value=0.45))
def test_box_strictly_inside_gives_p_near_one(pair: tuple[torch.Tensor, ...], frac: float) -> None:
    lo_b, hi_b = pair[2], pair[3]
    side = hi_b - lo_b
    # A: B shrunk by `frac` of its side on each end, so A ⊂ B with a margin.
    lo_a, hi_a = lo_b + frac * side, hi_b - frac * side
    hard = ops.containment(lo_a, hi_a, lo_b, hi_b, beta=1000.0)
    assert float(hard.min()) > 0.999
    margin = float((frac * side).min())
    gumbel = ops.containment(lo_a, hi_a, lo_b, hi_b, beta=1000.0, gumbel_beta=margin / 20)
    assert float(gumbel.min()) > 0.99


@PROPERTY
@given(box_pair(), GUMBEL)
def test_intersection_commutes_and_lies_inside_both(
    pair: tuple[torch.Tensor, ...], g: float | None
) -> None:
    lo_a, hi_a, lo_b, hi_b = pair
    lo_ab, hi_ab = ops.intersection(lo_a, hi_a, lo_b, hi_b, gumbel_beta=g)
    lo_ba, hi_ba = ops.intersection(lo_b, hi_b, lo_a, hi_a, gumbel_beta=g)
    torch.testing.assert_close(lo_ab, lo_ba)
    torch.testing.assert_close(hi_ab, hi_ba)
    assert (lo_ab >= torch.maximum(lo_a, lo_b) - 1e-9).all()
    assert (hi_ab <= torch.minimum(hi_a, hi_b) + 1e-9).all()


@PROPERTY
@given(
    st.floats(min_value=-1e6, max_value=1e6, allow_nan=False),
    st.sampled_from([0.1, 1.0, 10.0, 1000.0]),
)
def test_log_softplus_is_finite_and_accurate(x: float, beta: float) -> None:
    t = torch.tensor([x], dtype=torch.float64, requires_grad=True)
    out = ops.log_softplus(t, beta)
    out.backward()
    assert torch.isfinite(out).all() and torch.isfinite(t.grad).all()  # type: ignore[arg-type]
    sp = (
        math.log1p(math.exp(beta * x)) / beta
        if beta * x < 30
        else x + math.log1p(math.exp(-beta * x)) / beta
    )
    if sp > 0:
        assert float(out.detach()) == pytest.approx(math.log(sp), rel=1e-6, abs=1e-6)
    else:  # softplus underflows in float64 here; the asymptote is exact to ~1e-9.
        assert float(out.detach()) == pytest.approx(beta * x - math.log(beta), rel=1e-9)


@pytest.mark.parametrize("side", [1e-30, 1e-8, 1.0, 1e8, 1e30])
def test_log_volume_finite_for_tiny_and_huge_sides(side: float) -> None:
    lo = torch.zeros(1, 3, dtype=torch.float32)
    hi = torch.full((1, 3), side, dtype=torch.float32)
    v = ops.log_volume(lo, hi, beta=10.0)
    assert torch.isfinite(v).all()


def test_log_volume_of_empty_box_is_finite_and_very_negative() -> None:
    lo = torch.tensor([[0.0, 0.0]])
    hi = torch.tensor([[-1e4, 1.0]])  # a side of -1e4: a very empty box
    v = ops.log_volume(lo, hi, beta=10.0)
    assert torch.isfinite(v).all() and float(v) < -1e4


@PROPERTY
@given(box_pair(), st.sampled_from([0.01, 0.1, 1.0]))
def test_gradient_is_finite_and_nonzero_for_disjoint_boxes(
    pair: tuple[torch.Tensor, ...], g: float
) -> None:
    lo_a, hi_a, lo_b, hi_b = pair
    # Move B far away along axis 0, so A and B are disjoint whatever their size.
    shift = float((hi_a - lo_b)[..., 0].max()) + 10.0
    lo_b = lo_b.clone()
    hi_b = hi_b.clone()
    lo_b[..., 0] += shift
    hi_b[..., 0] += shift
    lo_b.requires_grad_(True)
    log_p = ops.log_containment(lo_a, hi_a, lo_b, hi_b, beta=10.0, gumbel_beta=g)
    log_p.sum().backward()
    grad = lo_b.grad
    assert grad is not None and torch.isfinite(grad).all()
    # Moving B back towards A (decreasing lo_b on axis 0) must raise log P.
    assert float(grad[..., 0].sum()) < -1e-3


def test_broadcasting_all_pairs_hand_computed() -> None:
    # A = [0,1]², B = [0,2]x[0,1], C = [5,6]² (far away); hard intersection, β large.
    lo = torch.tensor([[0.0, 0.0], [0.0, 0.0], [5.0, 5.0]], dtype=torch.float64)
    hi = torch.tensor([[1.0, 1.0], [2.0, 1.0], [6.0, 6.0]], dtype=torch.float64)
    p = ops.containment(lo[:, None], hi[:, None], lo[None], hi[None], beta=1e4)
    assert p.shape == (3, 3)
    expected = torch.tensor(
        [[1.0, 1.0, 0.0], [0.5, 1.0, 0.0], [0.0, 0.0, 1.0]], dtype=torch.float64
    )
    torch.testing.assert_close(p, expected, atol=1e-3, rtol=0)


def test_log_volume_hand_computed() -> None:
    lo = torch.tensor([[0.0, 0.0]], dtype=torch.float64)
    hi = torch.tensor([[2.0, 3.0]], dtype=torch.float64)
    # softplus_β(s) = log(1 + e^{βs})/β at β = 1: sides 2 and 3.
    expected = math.log(math.log1p(math.e**2)) + math.log(math.log1p(math.e**3))
    assert float(ops.log_volume(lo, hi, beta=1.0)) == pytest.approx(expected)


def test_gumbel_intersection_tends_to_hard() -> None:
    rng = np.random.default_rng(0)
    lo_a, lo_b = (torch.tensor(rng.normal(size=(5, 3))) for _ in range(2))
    hi_a, hi_b = lo_a + 1.0, lo_b + 2.0
    hard = ops.hard_intersection(lo_a, hi_a, lo_b, hi_b)
    soft = ops.gumbel_intersection(lo_a, hi_a, lo_b, hi_b, gumbel_beta=1e-5)
    torch.testing.assert_close(soft[0], hard[0], atol=1e-4, rtol=0)
    torch.testing.assert_close(soft[1], hard[1], atol=1e-4, rtol=0)


@pytest.mark.parametrize("bad", [0.0, -1.0, float("nan"), float("inf")])
def test_temperatures_must_be_positive(bad: float) -> None:
    x = torch.zeros(1, 2)
    with pytest.raises(ValueError, match="beta must be"):
        ops.log_volume(x, x + 1, beta=bad)
    with pytest.raises(ValueError, match="gumbel_beta must be"):
        ops.gumbel_intersection(x, x + 1, x, x + 1, gumbel_beta=bad)


def test_log1mexp_matches_naive_where_naive_is_accurate() -> None:
    x = torch.tensor([-50.0, -5.0, -1.0, -0.7, -0.5, -1e-3, -1e-8], dtype=torch.float64)
    naive = torch.log(1 - torch.exp(x))
    torch.testing.assert_close(ops.log1mexp(x)[:-1], naive[:-1])
    # Near 0 the naive form loses all digits; the stable one still gives log(1e-8).
    assert float(ops.log1mexp(x)[-1]) == pytest.approx(math.log(1e-8), rel=1e-6)
