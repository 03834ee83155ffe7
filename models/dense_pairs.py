"""`log P(box_i ⊆ box_j)` over every pair of a small batch as one autograd node.

Full-batch training of a few dozen boxes (the transfer benchmark: 26 tasks, ~450 pairs) is
all per-operation overhead: the intersection, the soft volumes and the gather are ~40 tiny
tensor operations, and autograd records and replays each of them every epoch. Here the
forward pass runs the same `ops` formulas without recording a graph (same values up to the
last bit of a vectorized kernel), and the backward pass is written out by hand in ~25
operations (derivation below).

Derivation (per axis; `a` the row box, `b` the column box, `w = ihi - ilo`):

- `ls(x) = log softplus_β(x)` (`ops.log_softplus`): `ls'(x) = β·σ(βx)/softplus(βx)` above the
  linear switch point `βx = c`, and `β` below it (the linear continuation).
- Gumbel intersection, `ilo = γ·logaddexp(lo_a/γ, lo_b/γ)`: `∂ilo/∂lo_a = σ((lo_a - lo_b)/γ)`,
  `∂ilo/∂lo_b = 1 - ∂ilo/∂lo_a`; `ihi = -γ·logaddexp(-hi_a/γ, -hi_b/γ)`:
  `∂ihi/∂hi_a = σ((hi_b - hi_a)/γ)`. The hard intersection (`max`/`min`) uses the indicator,
  split in half at ties as torch's `maximum`/`minimum` do.
- `log P = min(L_int[i, j] - L_vol[i], 0)`, the clamp passing gradient where `log P ≤ 0`.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from models import ops

# The switch point of `ops.log_softplus` (in units of β·x).
_LINEAR_BELOW = ops.LOG_SOFTPLUS_LINEAR_BELOW


def _log_softplus_grad(x: torch.Tensor, beta: float) -> torch.Tensor:
    """`d/dx ops.log_softplus(x, beta)`, with the clamps' inclusive gradient masks."""
    t = beta * x
    c = _LINEAR_BELOW
    tc = t.clamp(min=c)
    upper = torch.sigmoid(tc) / F.softplus(tc)
    return beta * (upper * (t >= c) + (t <= c))


def _corners(lo: torch.Tensor, hi: torch.Tensor) -> torch.Tensor:
    """`(n, 2d)` `[lo, -hi]`: both intersection corners are then one smooth max."""
    return torch.cat([lo, -hi], dim=1)


def _smooth_max(a: torch.Tensor, b: torch.Tensor, gumbel_beta: float | None) -> torch.Tensor:
    # `ops.gumbel_intersection`'s formula (bit for bit: `-hi` is negated exactly), applied
    # to the stacked corners: ilo = smax(lo_a, lo_b), -ihi = smax(-hi_a, -hi_b).
    if gumbel_beta is None:
        return torch.maximum(a, b)
    g = gumbel_beta
    return torch.maximum(a, b) + g * F.softplus(-(a - b).abs() / g)


def _share(a: torch.Tensor, b: torch.Tensor, gumbel_beta: float | None) -> torch.Tensor:
    """`∂ smoothmax(a, b) / ∂a` for broadcast `a`, `b` (the hard max at `gumbel_beta=None`)."""
    if gumbel_beta is None:
        return (torch.sign(a - b) + 1.0) * 0.5
    return torch.sigmoid((a - b) / gumbel_beta)


class _DensePairLogContainment(torch.autograd.Function):
    @staticmethod
    def forward(
        ctx: Any,
        lo: torch.Tensor,
        hi: torch.Tensor,
        i: torch.Tensor,
        j: torch.Tensor,
        beta: float,
        gumbel_beta: float | None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        n, d = lo.shape
        c = _corners(lo, hi)
        m = _smooth_max(c[:, None], c[None], gumbel_beta)  # (n, n, 2d): [ilo, -ihi]
        # Every side whose soft log length is needed, in one pass: the n² intersections'
        # (ihi - ilo = -(ilo + (-ihi))), then the n boxes' own.
        sides = torch.cat([-(m[..., :d] + m[..., d:]).view(n * n, d), hi - lo])
        log_len = ops.log_softplus(sides, beta).sum(dim=-1)
        log_vol = log_len[n * n :]
        flat = i * n + j
        raw = log_len.index_select(0, flat) - log_vol.index_select(0, i)
        ctx.save_for_backward(c, sides, i, flat, raw <= 0)
        ctx.beta, ctx.gumbel_beta = beta, gumbel_beta
        return raw.clamp(max=0.0), log_vol

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(
        ctx: Any, grad_p: torch.Tensor | None, grad_vol: torch.Tensor | None
    ) -> tuple[torch.Tensor | None, ...]:
        c, sides, i, flat, passes = ctx.saved_tensors
        n, d = c.shape[0], c.shape[1] // 2
        # d(loss)/d(log length) of every side row: n² intersections, then the n boxes.
        g_len = torch.zeros(n * n + n, dtype=c.dtype, device=c.device)
        if grad_vol is not None:
            g_len[n * n :] += grad_vol
        if grad_p is not None:
            go = grad_p * passes
            g_len.index_add_(0, flat, go)
            g_len.index_add_(0, i + n * n, go, alpha=-1.0)
        g_side = g_len[:, None] * _log_softplus_grad(sides, ctx.beta)
        # Intersection side = -(m_lo + m_hi'), so both stacked corners get -g_side.
        g_m = -g_side[: n * n].view(n, n, d).repeat(1, 1, 2)
        share = _share(c[:, None], c[None], ctx.gumbel_beta)  # ∂m/∂(row corner)
        g_c = (g_m * share).sum(1) + (g_m * (1.0 - share)).sum(0)
        g_box = g_side[n * n :]  # the boxes' own side = hi - lo
        return g_c[:, :d] - g_box, -g_c[:, d:] + g_box, None, None, None, None


def dense_pair_log_containment(
    lo: torch.Tensor,
    hi: torch.Tensor,
    i: torch.Tensor,
    j: torch.Tensor,
    *,
    beta: float,
    gumbel_beta: float | None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """`(log P(box_i ⊆ box_j), log Vol)` by forming all `n²` intersections at once.

    The values equal `losses.pair_log_containment`'s and `ops.log_volume`'s; the gradient is
    the analytic one (see the module docstring), as a single autograd node.

    Args:
        lo, hi: `(n, d)` boxes.
        i, j: `(P,)` int64 indices into them.
        beta: inverse volume temperature.
        gumbel_beta: Gumbel intersection temperature (`None`: hard intersection).

    Returns:
        `(P,)` log containment (≤ 0) and `(n,)` log volumes.
    """
    log_p, log_vol = _DensePairLogContainment.apply(  # type: ignore[no-untyped-call]
        lo, hi, i, j, beta, gumbel_beta
    )
    return log_p, log_vol


__all__ = ["dense_pair_log_containment"]
