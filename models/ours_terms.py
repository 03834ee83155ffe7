"""The "ours" loss from per-pair log containments and per-box log volumes, as one autograd node.

`losses.ours_loss` is ~30 small tensor operations after the geometry (the capped BCE, the
log-ratio Huber term and the volume prior). On a full batch of a few dozen boxes each costs
more in autograd bookkeeping than in arithmetic, so the value is computed without recording
a graph and the gradient is written out (all element-wise):

- BCE: `-(w_p·log P + w_n·log(1 - P̃)) / Σ(w_p + w_n)` with `log P̃ = -softplus_k(-log P)`:
  `∂/∂log P = -(w_p + w_n·ℓ'(log P̃)·σ(-k·log P)) / Σ(w_p + w_n)`, where
  `ℓ(x) = log(1 - eˣ)` has `ℓ'(x) = -1 / expm1(-x)`.
- Ratio: `λ_r · Σ_{y>0} huber(log P - log y) / #{y>0}`: `huber' = clamp(r, -1, 1)`.
- Prior: `λ_v · mean_n exp(min(-L_n/d, 80))`: `∂/∂L_n = -λ_v·e_n / (n·d)` where unclamped.
"""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F

from models import ops


def _terms(
    log_p: torch.Tensor,
    log_vol: torch.Tensor,
    y: torch.Tensor,
    d: int,
    consts: tuple[float, float, float, float, float, float],
) -> tuple[torch.Tensor, tuple[torch.Tensor | None, ...]]:
    """The loss value and what its gradient needs (no graph is recorded by the caller)."""
    pos_weight, neg_weight, ratio_weight, volume_weight, cap_k, max_inv_log = consts
    capped = -F.softplus(-log_p, beta=cap_k)
    w_pos, w_neg = pos_weight * y, neg_weight * (1 - y)
    total = (w_pos + w_neg).sum().clamp(min=1e-12)
    loss = -(w_pos * log_p + w_neg * ops.log1mexp(capped)).sum() / total
    ratio = n_pos = side_log = inv_side = None
    if ratio_weight > 0:
        # The mean over the pairs with y > 0, masked rather than gathered (no host sync).
        pos = y > 0
        n_pos = pos.sum().clamp(min=1)
        ratio = (log_p - torch.log(torch.where(pos, y, 1.0))) * pos
        huber = F.smooth_l1_loss(ratio, torch.zeros_like(ratio), beta=1.0, reduction="sum")
        loss = loss + ratio_weight * huber / n_pos
    if volume_weight != 0:
        side_log = -log_vol / d
        inv_side = torch.exp(side_log.clamp(max=max_inv_log))
        loss = loss + volume_weight * inv_side.mean()
    return loss, (capped, w_pos, w_neg, total, ratio, n_pos, side_log, inv_side)


class _OursTerms(torch.autograd.Function):
    @staticmethod
    def forward(
        ctx: Any,
        log_p: torch.Tensor,
        log_vol: torch.Tensor,
        y: torch.Tensor,
        d: int,
        consts: tuple[float, float, float, float, float, float],
    ) -> torch.Tensor:
        loss, saved = _terms(log_p, log_vol, y, d, consts)
        ctx.save_for_backward(log_p, *saved)
        ctx.d, ctx.consts = d, consts
        return loss

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[torch.Tensor | None, ...]:
        log_p, capped, w_pos, w_neg, total, ratio, n_pos, side_log, inv_side = ctx.saved_tensors
        _, _, ratio_weight, volume_weight, cap_k, max_inv_log = ctx.consts
        d_not_p = -1.0 / torch.expm1(-capped)  # ℓ'(log P̃) < 0; capped < -log(2)/k, finite
        g_p = -(w_pos + w_neg * d_not_p * torch.sigmoid(-cap_k * log_p)) / total
        if ratio is not None:
            g_p = g_p + (ratio_weight / n_pos) * ratio.clamp(-1.0, 1.0)
        g_vol = None
        if inv_side is not None:
            unclamped = side_log <= max_inv_log
            g_vol = (-volume_weight / (inv_side.numel() * ctx.d)) * inv_side * unclamped
            g_vol = (grad * g_vol).to(inv_side.dtype)
        return (grad * g_p).to(log_p.dtype), g_vol, None, None, None


def ours_terms(
    log_p: torch.Tensor,
    log_vol: torch.Tensor,
    y: torch.Tensor,
    *,
    dim: int,
    pos_weight: float,
    neg_weight: float,
    ratio_weight: float,
    volume_weight: float,
    cap_sharpness: float,
    max_inv_volume_log: float,
) -> torch.Tensor:
    """The scalar "ours" loss (see `losses.ours_loss`) with a hand-written gradient.

    Args:
        log_p: `(P,)` log containment of the pairs (≤ 0).
        log_vol: `(n,)` soft log volumes of the boxes.
        y: `(P,)` targets in `[0, 1]`.
        dim: box dimension d.
        pos_weight, neg_weight, ratio_weight, volume_weight: see `losses.LossParams`.
        cap_sharpness: k of the negative term's soft cap.
        max_inv_volume_log: the clamp of `-log Vol / d` in the prior.
    """
    if not math.isfinite(cap_sharpness) or cap_sharpness <= 0:
        raise ValueError(f"cap_sharpness must be a finite number > 0, got {cap_sharpness}")
    consts = (
        pos_weight,
        neg_weight,
        ratio_weight,
        volume_weight,
        cap_sharpness,
        max_inv_volume_log,
    )
    loss: torch.Tensor = _OursTerms.apply(log_p, log_vol, y, dim, consts)  # type: ignore[no-untyped-call]
    return loss


__all__ = ["ours_terms"]
