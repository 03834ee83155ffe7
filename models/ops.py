"""Pure box math in log space (volumes of small boxes underflow otherwise), batched and
broadcasting over leading dims.

A box is a pair of corners `lo < hi`, each `(..., d)`. Volumes are soft: a side `s` counts as
`softplus_β(s) = log(1 + exp(β·s)) / β`, so an empty intersection still has a positive (tiny)
volume and a gradient that pulls the boxes together. Everything is computed as logs; `exp`
is taken only at the very end (`containment`).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

# Below this β·x, softplus(β·x) underflows to exp(β·x) within float precision, so
# log(softplus) = β·x - log(β) to ~1e-9 relative. Chosen well above float32's exp underflow.
LOG_SOFTPLUS_LINEAR_BELOW = -20.0


def _check_positive(name: str, value: float) -> None:
    if not (value > 0 and math.isfinite(value)):
        raise ValueError(f"{name} must be a finite number > 0, got {value}")


def log_softplus(x: torch.Tensor, beta: float = 1.0) -> torch.Tensor:
    """Stable `log(softplus_β(x))`, where `softplus_β(x) = log(1 + exp(β·x)) / β`.

    For very negative `β·x`, `softplus` underflows to 0 and `log` to `-inf`; there the exact
    asymptote `β·x - log β` is used instead (never `log(x + eps)`). Both branches are finite
    wherever they are evaluated, so the gradient is finite everywhere and equals `1` per unit
    of `x` deep in the negative tail: disjoint boxes keep a useful gradient.

    Args:
        x: any shape.
        beta: inverse temperature, > 0.

    Returns:
        Tensor shaped like `x`.
    """
    _check_positive("beta", beta)
    t = beta * x
    # Below the switch point, log softplus(t) = t to ~1e-9, so continue it linearly from
    # there: log softplus(max(t, c)) + min(t - c, 0). No `where`, so no NaN can leak into
    # the gradient, and the tail keeps slope 1.
    c = LOG_SOFTPLUS_LINEAR_BELOW
    return torch.log(F.softplus(t.clamp(min=c))) + (t - c).clamp(max=0.0) - math.log(beta)


def hard_intersection(
    lo_a: torch.Tensor, hi_a: torch.Tensor, lo_b: torch.Tensor, hi_b: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """The exact intersection: `(max(lo_a, lo_b), min(hi_a, hi_b))`.

    Args:
        lo_a, hi_a, lo_b, hi_b: `(..., d)`, broadcastable against each other.

    Returns:
        `(lo, hi)` each of the broadcast shape. `lo > hi` on some axis means the boxes are
        disjoint; `log_volume` turns that into a tiny soft volume.
    """
    return torch.maximum(lo_a, lo_b), torch.minimum(hi_a, hi_b)


def gumbel_intersection(
    lo_a: torch.Tensor,
    hi_a: torch.Tensor,
    lo_b: torch.Tensor,
    hi_b: torch.Tensor,
    *,
    gumbel_beta: float,
) -> tuple[torch.Tensor, torch.Tensor]:
    """The smooth (Gumbel-box) intersection of Dasgupta et al. 2020.

    `lo = γ·logsumexp(lo_a/γ, lo_b/γ)` and `hi = -γ·logsumexp(-hi_a/γ, -hi_b/γ)`, with
    `γ = gumbel_beta`. It is a smooth upper bound of `max` (lower bound of `min`), so the
    result lies inside both boxes, and every corner gets a gradient even when one box is
    strictly inside the other (the hard `max` would give zero: the "local identifiability"
    problem). As `γ → 0` it tends to `hard_intersection`.

    Args:
        lo_a, hi_a, lo_b, hi_b: `(..., d)`, broadcastable against each other.
        gumbel_beta: temperature γ > 0, in the units of the coordinates.

    Returns:
        `(lo, hi)` each of the broadcast shape.
    """
    _check_positive("gumbel_beta", gumbel_beta)
    g = gumbel_beta
    # γ·logsumexp(a/γ, b/γ) = max(a, b) + γ·softplus(-|a - b|/γ): the same value, in fast
    # vectorized kernels (torch's CPU logaddexp is ~10x slower), and exact at ties.
    lo = torch.maximum(lo_a, lo_b) + g * F.softplus(-(lo_a - lo_b).abs() / g)
    hi = torch.minimum(hi_a, hi_b) - g * F.softplus(-(hi_a - hi_b).abs() / g)
    return lo, hi


def intersection(
    lo_a: torch.Tensor,
    hi_a: torch.Tensor,
    lo_b: torch.Tensor,
    hi_b: torch.Tensor,
    *,
    gumbel_beta: float | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """`gumbel_intersection` when `gumbel_beta` is set, else `hard_intersection`."""
    if gumbel_beta is None:
        return hard_intersection(lo_a, hi_a, lo_b, hi_b)
    return gumbel_intersection(lo_a, hi_a, lo_b, hi_b, gumbel_beta=gumbel_beta)


def log_volume(lo: torch.Tensor, hi: torch.Tensor, *, beta: float = 1.0) -> torch.Tensor:
    """Soft log-volume `Σ_k log softplus_β(hi_k - lo_k)`.

    Args:
        lo, hi: `(..., d)`, broadcastable.
        beta: inverse volume temperature, > 0. Larger is closer to the hard volume.

    Returns:
        `(...)`: finite for any finite corners, including empty and huge boxes.
    """
    return log_softplus(hi - lo, beta).sum(dim=-1)


def log_containment(
    lo_a: torch.Tensor,
    hi_a: torch.Tensor,
    lo_b: torch.Tensor,
    hi_b: torch.Tensor,
    *,
    beta: float = 1.0,
    gumbel_beta: float | None = None,
) -> torch.Tensor:
    """`log P(A ⊆ B) = logVol(A ∩ B) - logVol(A)`, clamped to `≤ 0`.

    The intersection lies inside A, so the difference is `≤ 0` up to rounding; the clamp
    only removes rounding noise (and passes the gradient at equality).

    Args:
        lo_a, hi_a: box A, `(..., d)`.
        lo_b, hi_b: box B, `(..., d)`; broadcastable against A, so `(n, 1, d)` against
            `(1, m, d)` gives every pair.
        beta: inverse volume temperature.
        gumbel_beta: Gumbel intersection temperature; `None` uses the hard intersection.

    Returns:
        `(...)`, the broadcast leading shape.
    """
    lo, hi = intersection(lo_a, hi_a, lo_b, hi_b, gumbel_beta=gumbel_beta)
    log_p = log_volume(lo, hi, beta=beta) - log_volume(lo_a, hi_a, beta=beta)
    return log_p.clamp(max=0.0)


def containment(
    lo_a: torch.Tensor,
    hi_a: torch.Tensor,
    lo_b: torch.Tensor,
    hi_b: torch.Tensor,
    *,
    beta: float = 1.0,
    gumbel_beta: float | None = None,
) -> torch.Tensor:
    """`P(A ⊆ B) = Vol(A ∩ B) / Vol(A)` in `[0, 1]`; see `log_containment` for the arguments."""
    return torch.exp(log_containment(lo_a, hi_a, lo_b, hi_b, beta=beta, gumbel_beta=gumbel_beta))


def log1mexp(log_p: torch.Tensor) -> torch.Tensor:
    """Stable `log(1 - exp(log_p))` for `log_p ≤ 0` (Mächler 2012); `-inf` at `log_p = 0`."""
    # Two branches, each accurate on its side of -log 2; clamps keep the unused branch finite
    # so that `where` does not leak NaN gradients.
    near_zero = log_p > -math.log(2.0)
    a = torch.log(-torch.expm1(log_p.clamp(min=-math.log(2.0))))
    b = torch.log1p(-torch.exp(log_p.clamp(max=-math.log(2.0))))
    return torch.where(near_zero, a, b)
