"""The fused pair-containment and "ours" loss nodes equal the plain autograd formulas."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from models import ops
from models.dense_pairs import dense_pair_log_containment
from models.losses import LossParams, ours_loss, pair_log_containment_and_volume


def _boxes(seed: int, n: int, d: int) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    lo = torch.randn(n, d, generator=g, dtype=torch.float64) * 2
    hi = lo + torch.rand(n, d, generator=g, dtype=torch.float64) * 3 + 1e-3
    return lo.requires_grad_(), hi.requires_grad_()


def _all_pairs(n: int) -> tuple[torch.Tensor, torch.Tensor]:
    ii, jj = torch.meshgrid(torch.arange(n), torch.arange(n), indexing="ij")
    keep = ii != jj
    return ii[keep], jj[keep]


def _reference(
    lo: torch.Tensor,
    hi: torch.Tensor,
    i: torch.Tensor,
    j: torch.Tensor,
    beta: float,
    g: float | None,
) -> tuple[torch.Tensor, torch.Tensor]:
    log_vol = ops.log_volume(lo, hi, beta=beta)
    ilo, ihi = ops.intersection(lo[:, None], hi[:, None], lo[None], hi[None], gumbel_beta=g)
    log_int = ops.log_volume(ilo, ihi, beta=beta)[i, j]
    return (log_int - log_vol.index_select(0, i)).clamp(max=0.0), log_vol


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    n=st.integers(2, 9),
    d=st.integers(1, 4),
    beta=st.sampled_from([1.0, 3.0, 10.0]),
    gumbel=st.sampled_from([None, 0.05, 0.3]),
)
def test_dense_matches_autograd_values_and_gradients(
    seed: int, n: int, d: int, beta: float, gumbel: float | None
) -> None:
    lo, hi = _boxes(seed, n, d)
    i, j = _all_pairs(n)
    w = torch.randn(i.numel() + n, generator=torch.Generator().manual_seed(seed + 1)).double()
    p_ref, v_ref = _reference(lo, hi, i, j, beta, gumbel)
    g_ref = torch.autograd.grad(p_ref @ w[: i.numel()] + v_ref @ w[i.numel() :], (lo, hi))
    p, v = dense_pair_log_containment(lo, hi, i, j, beta=beta, gumbel_beta=gumbel)
    g = torch.autograd.grad(p @ w[: i.numel()] + v @ w[i.numel() :], (lo, hi))
    # The same formulas; only the memory layout (vectorized kernels) can move the last bit.
    torch.testing.assert_close(p, p_ref, rtol=1e-14, atol=1e-14)
    torch.testing.assert_close(v, v_ref, rtol=1e-14, atol=1e-14)
    for a, b in zip(g, g_ref, strict=True):
        # softplus's linear switch (gradient exactly 1) against σ ≈ 1 - 2e-9: float noise.
        torch.testing.assert_close(a, b, rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("gumbel", [None, 0.3])
def test_dense_passes_gradcheck_with_disjoint_and_nested_boxes(gumbel: float | None) -> None:
    # Far-apart boxes reach the linear tail of log softplus; a nested pair reaches the clamp.
    lo = torch.tensor([[0.0, 0.0], [0.2, 0.1], [30.0, -40.0]], dtype=torch.float64)
    hi = lo + torch.tensor([[2.0, 2.0], [0.5, 0.4], [1.0, 1.0]], dtype=torch.float64)
    i, j = _all_pairs(3)

    def fn(a: torch.Tensor, b: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return dense_pair_log_containment(a, b, i, j, beta=3.0, gumbel_beta=gumbel)

    assert torch.autograd.gradcheck(fn, (lo.requires_grad_(), hi.requires_grad_()))


def _ours_reference(
    lo: torch.Tensor,
    hi: torch.Tensor,
    i: torch.Tensor,
    j: torch.Tensor,
    y: torch.Tensor,
    p: LossParams,
) -> torch.Tensor:
    # The loss as it was written before the fused node (boolean-indexed ratio term).
    log_p, log_vol = _reference(lo, hi, i, j, p.beta, p.gumbel_beta)
    log_not_p = ops.log1mexp(-F.softplus(-log_p, beta=1000.0))
    w_pos, w_neg = p.pos_weight * y, p.neg_weight * (1 - y)
    loss = -(w_pos * log_p + w_neg * log_not_p).sum() / (w_pos + w_neg).sum()
    pos = y > 0
    if p.ratio_weight > 0 and bool(pos.any()):
        ratio = log_p[pos] - torch.log(y[pos])
        loss = loss + p.ratio_weight * F.smooth_l1_loss(ratio, torch.zeros_like(ratio))
    inv_side = torch.exp((-log_vol / lo.shape[1]).clamp(max=80.0))
    return loss + p.volume_weight * inv_side.mean()


@pytest.mark.parametrize(
    "params",
    [
        LossParams(beta=3.0, gumbel_beta=0.3, volume_weight=0.01, ratio_weight=3.0),
        LossParams(pos_weight=2.0, volume_weight=0.7, ratio_weight=1.0),
        LossParams(),
    ],
)
@pytest.mark.parametrize("dense", [True, False])
def test_ours_loss_matches_the_plain_formula(params: LossParams, dense: bool) -> None:
    lo, hi = _boxes(7, 8, 3)
    i, j = _all_pairs(8)
    if not dense:  # few pairs: the gathered path
        i, j = i[:10], j[:10]
    y = torch.rand(i.numel(), generator=torch.Generator().manual_seed(3)).double()
    y[::3] = 0.0
    ref = _ours_reference(lo, hi, i, j, y, params)
    g_ref = torch.autograd.grad(ref, (lo, hi))
    out = ours_loss(lo, hi, i, j, y, params)
    g = torch.autograd.grad(out, (lo, hi))
    torch.testing.assert_close(out, ref, rtol=1e-12, atol=1e-12)
    for a, b in zip(g, g_ref, strict=True):
        # softplus's linear switch (gradient exactly 1) against σ ≈ 1 - 2e-9: float noise.
        torch.testing.assert_close(a, b, rtol=1e-6, atol=1e-9)


def test_shared_volume_is_the_boxes_log_volume() -> None:
    lo, hi = _boxes(1, 5, 2)
    i, j = _all_pairs(5)
    _, log_vol = pair_log_containment_and_volume(lo, hi, i[:3], j[:3], beta=3.0, gumbel_beta=0.3)
    assert torch.equal(log_vol, ops.log_volume(lo, hi, beta=3.0))
