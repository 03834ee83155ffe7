"""NumPy containment scores for serving: no torch, so a web worker can rank 10k boxes cheaply.

The formulas mirror `models.ops` exactly (same stable log-softplus, same intersections); the
tests check that both agree. Computation is float64 internally and chunked, so memory stays
bounded whatever N is.
"""

from __future__ import annotations

import math

import numpy as np

# Same switch point as `models.ops` (see there for why).
_LOG_SOFTPLUS_LINEAR_BELOW = -20.0
# Pairs per chunk of `containment_matrix`: bounds the float64 temporaries to ~ tens of MB.
_MATRIX_CHUNK_ELEMENTS = 2_000_000


def _check_positive(name: str, value: float) -> None:
    if not (value > 0 and math.isfinite(value)):
        raise ValueError(f"{name} must be a finite number > 0, got {value}")


def log_softplus(x: np.ndarray, beta: float = 1.0) -> np.ndarray:
    """Stable `log(softplus_β(x))`; the NumPy twin of `models.ops.log_softplus`."""
    _check_positive("beta", beta)
    t = beta * np.asarray(x, dtype=np.float64)
    c = _LOG_SOFTPLUS_LINEAR_BELOW
    out: np.ndarray = (
        np.log(np.logaddexp(0.0, np.maximum(t, c))) + np.minimum(t - c, 0.0) - math.log(beta)
    )
    return out


def _intersection(
    lo_a: np.ndarray,
    hi_a: np.ndarray,
    lo_b: np.ndarray,
    hi_b: np.ndarray,
    gumbel_beta: float | None,
) -> tuple[np.ndarray, np.ndarray]:
    if gumbel_beta is None:
        return np.maximum(lo_a, lo_b), np.minimum(hi_a, hi_b)
    _check_positive("gumbel_beta", gumbel_beta)
    g = gumbel_beta
    lo = g * np.logaddexp(lo_a / g, lo_b / g)
    hi = -g * np.logaddexp(-hi_a / g, -hi_b / g)
    return lo, hi


def _log_volume(lo: np.ndarray, hi: np.ndarray, beta: float) -> np.ndarray:
    out: np.ndarray = log_softplus(hi - lo, beta).sum(axis=-1)
    return out


def _as_boxes(lo: np.ndarray, hi: np.ndarray, name: str) -> tuple[np.ndarray, np.ndarray]:
    lo = np.asarray(lo, dtype=np.float64)
    hi = np.asarray(hi, dtype=np.float64)
    if lo.ndim != 2 or lo.shape != hi.shape or lo.shape[1] == 0:
        raise ValueError(
            f"{name}: expected lo and hi of the same shape (N, d), d >= 1; "
            f"got {lo.shape} and {hi.shape}"
        )
    return lo, hi


def _as_pairs(
    lo_a: np.ndarray, hi_a: np.ndarray, lo_b: np.ndarray, hi_b: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    lo_a, hi_a = _as_boxes(lo_a, hi_a, "boxes A")
    lo_b, hi_b = _as_boxes(lo_b, hi_b, "boxes B")
    if lo_a.shape != lo_b.shape:
        raise ValueError(f"paired boxes must have one shape, got {lo_a.shape} and {lo_b.shape}")
    return lo_a, hi_a, lo_b, hi_b


def containment_pairs(
    lo_a: np.ndarray,
    hi_a: np.ndarray,
    lo_b: np.ndarray,
    hi_b: np.ndarray,
    *,
    beta: float = 1.0,
    gumbel_beta: float | None = None,
) -> np.ndarray:
    """Element-wise `P(A_p ⊆ B_p)` for `(P, d)` arrays of paired boxes; returns `(P,)`."""
    lo_a, hi_a, lo_b, hi_b = _as_pairs(lo_a, hi_a, lo_b, hi_b)
    ilo, ihi = _intersection(lo_a, hi_a, lo_b, hi_b, gumbel_beta)
    log_p = _log_volume(ilo, ihi, beta) - _log_volume(lo_a, hi_a, beta)
    out: np.ndarray = np.exp(np.minimum(log_p, 0.0))
    return out


def containment_both_pairs(
    lo_a: np.ndarray,
    hi_a: np.ndarray,
    lo_b: np.ndarray,
    hi_b: np.ndarray,
    *,
    beta: float = 1.0,
    gumbel_beta: float | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """`(P(A_p ⊆ B_p), P(B_p ⊆ A_p))` for `(P, d)` paired boxes, the intersection computed
    once; the same formulas as `containment_pairs` (equal up to float rounding)."""
    lo_a, hi_a, lo_b, hi_b = _as_pairs(lo_a, hi_a, lo_b, hi_b)
    ilo, ihi = _intersection(lo_a, hi_a, lo_b, hi_b, gumbel_beta)
    log_int = _log_volume(ilo, ihi, beta)
    p_in = np.exp(np.minimum(log_int - _log_volume(lo_a, hi_a, beta), 0.0))
    p_contains = np.exp(np.minimum(log_int - _log_volume(lo_b, hi_b, beta), 0.0))
    return p_in, p_contains


def containment_to_all(
    lo_a: np.ndarray,
    hi_a: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    *,
    beta: float = 1.0,
    gumbel_beta: float | None = None,
    log_vol: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Containment of one box A against every box B_n, in both directions.

    Args:
        lo_a, hi_a: box A, `(d,)`.
        lo, hi: boxes B, `(N, d)`.
        beta: inverse volume temperature (use the model's).
        gumbel_beta: Gumbel intersection temperature, `None` for hard (use the model's).
        log_vol: the boxes B's soft log-volumes at `beta`, `(N,)`, when already known (a
            served map computes them once); the same numbers this function would compute.

    Returns:
        `(p_in, p_contains)`, each `(N,)` float64: `p_in[n] = P(A ⊆ B_n)` and
        `p_contains[n] = P(B_n ⊆ A)`.

    Raises:
        ValueError: on mismatched shapes or a non-positive temperature.
    """
    lo, hi = _as_boxes(lo, hi, "boxes")
    lo_a = np.asarray(lo_a, dtype=np.float64)
    hi_a = np.asarray(hi_a, dtype=np.float64)
    if lo_a.shape != (lo.shape[1],) or hi_a.shape != lo_a.shape:
        raise ValueError(
            f"box A: expected lo_a and hi_a of shape ({lo.shape[1]},); "
            f"got {lo_a.shape} and {hi_a.shape}"
        )
    ilo, ihi = _intersection(lo_a[None, :], hi_a[None, :], lo, hi, gumbel_beta)
    log_int = _log_volume(ilo, ihi, beta)
    log_a = _log_volume(lo_a, hi_a, beta)
    log_b = _log_volume(lo, hi, beta) if log_vol is None else log_vol
    p_in = np.exp(np.minimum(log_int - log_a, 0.0))
    p_contains = np.exp(np.minimum(log_int - log_b, 0.0))
    return p_in, p_contains


def containment_matrix(
    lo: np.ndarray,
    hi: np.ndarray,
    *,
    beta: float = 1.0,
    gumbel_beta: float | None = None,
) -> np.ndarray:
    """Every ordered pair: `out[i, j] = P(box_i ⊆ box_j)`.

    Args:
        lo, hi: `(N, d)`.
        beta: inverse volume temperature.
        gumbel_beta: Gumbel intersection temperature, `None` for hard.

    Returns:
        `(N, N)` float32 (4·N² bytes: 400 MB at N = 10k; rank with `containment_to_all`
        instead when one row is enough). The diagonal is 1 for the hard intersection.
    """
    lo, hi = _as_boxes(lo, hi, "boxes")
    n, d = lo.shape
    out = np.empty((n, n), dtype=np.float32)
    log_vol = _log_volume(lo, hi, beta)
    rows = max(1, _MATRIX_CHUNK_ELEMENTS // max(1, n * d))
    for start in range(0, n, rows):
        stop = min(n, start + rows)
        ilo, ihi = _intersection(
            lo[start:stop, None, :], hi[start:stop, None, :], lo[None], hi[None], gumbel_beta
        )
        log_p = _log_volume(ilo, ihi, beta) - log_vol[start:stop, None]
        out[start:stop] = np.exp(np.minimum(log_p, 0.0))
    return out
