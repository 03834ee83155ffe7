"""Losses: selectable by name, finite, and "ours" keeps a gradient for disjoint boxes."""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from models import ops
from models.losses import LOSS_NAMES, LossParams, get_loss, ours_loss, paper_loss


def _two_disjoint_boxes(gap: float) -> tuple[torch.Tensor, torch.Tensor]:
    lo = torch.tensor([[0.0, 0.0], [1.0 + gap, 0.0]], requires_grad=True)
    hi = (lo.detach() + 1.0).requires_grad_(True)
    return lo, hi


def test_get_loss_selects_by_name_and_lists_valid_names_on_error() -> None:
    assert get_loss("ours").fn is ours_loss
    assert get_loss("paper").fn is paper_loss
    assert set(LOSS_NAMES) == {"ours", "paper"}
    with pytest.raises(ValueError, match="valid losses: ours, paper"):
        get_loss("mse")


@settings(deadline=None, max_examples=25)
@given(st.floats(min_value=0.5, max_value=200.0))
def test_ours_pulls_disjoint_positive_boxes_together(gap: float) -> None:
    lo, hi = _two_disjoint_boxes(gap)
    i, j, y = torch.tensor([0]), torch.tensor([1]), torch.tensor([1.0])
    loss = get_loss("ours")(lo, hi, i, j, y, LossParams(beta=10.0, gumbel_beta=0.05))
    loss.backward()
    assert lo.grad is not None and torch.isfinite(lo.grad).all()
    # Box 1 must move left (towards box 0) and box 0 right: non-vanishing, correct sign.
    assert float(lo.grad[1, 0]) > 1e-2
    assert float(lo.grad[0, 0]) < -1e-2


def test_paper_overlap_term_gradient_vanishes_for_disjoint_boxes() -> None:
    # The weakness "ours" fixes: the MSE on P gives (almost) nothing to follow; only the
    # paper's centre-pull term moves disjoint boxes.
    lo, hi = _two_disjoint_boxes(5.0)
    p = ops.containment(lo[:1], hi[:1], lo[1:], hi[1:], beta=10.0)
    (100 * (p - 1.0) ** 2).sum().backward()
    assert lo.grad is not None
    assert float(lo.grad[1, 0].abs()) < 1e-12


def test_ours_pushes_a_negative_child_out_even_when_fully_inside() -> None:
    lo = torch.tensor([[0.4, 0.4], [0.0, 0.0]], requires_grad=True)
    hi = torch.tensor([[0.6, 0.6], [1.0, 1.0]], requires_grad=True)
    loss = get_loss("ours")(
        lo,
        hi,
        torch.tensor([0]),
        torch.tensor([1]),
        torch.tensor([0.0]),
        LossParams(beta=10.0, gumbel_beta=0.1),
    )
    loss.backward()
    assert math.isfinite(loss.item()) and loss.item() < 20
    assert lo.grad is not None and float(lo.grad.abs().sum()) > 1e-4


@pytest.mark.parametrize("name", LOSS_NAMES)
def test_losses_are_finite_scalars_with_finite_gradients(name: str) -> None:
    torch.manual_seed(0)
    lo = torch.randn(6, 3, requires_grad=True)
    hi = (lo.detach() + torch.rand(6, 3) + 0.1).requires_grad_(True)
    i = torch.tensor([0, 1, 2, 3, 4, 5, 0])
    j = torch.tensor([1, 2, 3, 4, 5, 0, 5])
    y = torch.tensor([1.0, 0.0, 0.5, 1.0, 0.0, 0.0, 1.0])
    loss = get_loss(name)(lo, hi, i, j, y, LossParams(volume_weight=0.5))
    assert loss.shape == ()
    loss.backward()
    assert torch.isfinite(loss)
    assert lo.grad is not None and torch.isfinite(lo.grad).all()
    assert hi.grad is not None and torch.isfinite(hi.grad).all()


def test_paper_loss_hand_computed_terms() -> None:
    # One unit box A = [0,1]² inside B = [0,2]x[0,1], target 1: P = 1 (β large), so only the
    # regularizers remain: λ_v·Σ Vol^(-1/2) = 0.7·(1 + 1/√2), centres 0.01·‖(0.5,0.5)-(1,0.5)‖²
    # = 0.0025, squareness |1-1|/4 + |2-1|/4 = 0.25.
    lo = torch.tensor([[0.0, 0.0], [0.0, 0.0]], dtype=torch.float64)
    hi = torch.tensor([[1.0, 1.0], [2.0, 1.0]], dtype=torch.float64)
    loss = paper_loss(
        lo,
        hi,
        torch.tensor([0]),
        torch.tensor([1]),
        torch.tensor([1.0], dtype=torch.float64),
        LossParams(beta=1e4, volume_weight=0.7),
    )
    expected = 0.7 * (1 + 2**-0.5) + 0.0025 + 0.25
    assert float(loss) == pytest.approx(expected, rel=1e-4)


def test_ratio_term_makes_small_soft_targets_count() -> None:
    # A = [0, s] x [0, 1] inside B = [0, 1]²: P(B ⊆ A) = s. Target y = 0.02.
    def loss_at(s: float, ratio_weight: float) -> float:
        lo = torch.zeros(2, 2, dtype=torch.float64)
        hi = torch.tensor([[s, 1.0], [1.0, 1.0]], dtype=torch.float64)
        params = LossParams(beta=1e3, gumbel_beta=1e-4, ratio_weight=ratio_weight)
        y = torch.tensor([0.02], dtype=torch.float64)
        return get_loss("ours")(lo, hi, torch.tensor([1]), torch.tensor([0]), y, params).item()

    bce_gap = loss_at(0.001, 0.0) - loss_at(0.02, 0.0)
    ratio_gap = loss_at(0.001, 1.0) - loss_at(0.02, 1.0)
    assert 0 < bce_gap < 0.1  # BCE barely cares that P is 20x too small ...
    assert ratio_gap > 2.0  # ... the log-ratio term does.
