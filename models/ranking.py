"""Exact top-k containment ranking without scoring every box.

Scoring one box against all N boxes costs several transcendental functions per box and
dimension (Gumbel intersection, log-softplus volumes): ~10 ms at N = 10k, d = 5 on a busy
core, too slow to serve under load. Instead, a cheap upper bound of every score is computed
with minima and products only, the exact scores are computed for the few boxes whose bound
is highest, and the answer is accepted only when no other box's bound can reach the k-th
exact score (otherwise the candidate set grows, up to scoring everything). The result is the
same as scoring all boxes and sorting; `tests/backend/serving/test_ranking.py` checks it.

The bound. With `w_k = min(hi_a, hi_b)_k − max(lo_a, lo_b)_k` the hard intersection's side:
the Gumbel intersection lies inside the hard one, so its side is ≤ w_k; `log softplus_β` is
increasing; and `log softplus_β(w) ≤ β·w − log β` (from `log(1 + x) ≤ x`). So
`log Vol(A∩B) ≤ Σ_k min(β·w_k − log β, ls(A)_k, ls(B)_k)` with `ls(X)_k` the log-softplus of
X's own side, precomputed per map.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from models.scoring import containment_to_all, log_softplus

# Scores are compared with this relative slack, so float rounding can never certify a
# candidate set that a bound merely touches.
_SLACK = 1e-9
_MIN_CANDIDATES = 64


@dataclass(frozen=True, eq=False)
class BoxIndex:
    """A map's boxes with what the bound needs, precomputed once per map.

    The bound is computed one dimension at a time over contiguous rows (`lo_t`, `hi_t`,
    `side_log_t` are the transposes): a reduction along a short last axis is several times
    slower in NumPy than adding d contiguous vectors.
    """

    lo: np.ndarray  # (n, d) float64
    hi: np.ndarray  # (n, d) float64
    lo_t: np.ndarray  # (d, n)
    hi_t: np.ndarray  # (d, n)
    side_log_t: np.ndarray  # (d, n) log softplus_β(hi − lo)
    log_vol: np.ndarray  # (n,) Σ_k side_log
    beta: float
    gumbel_beta: float | None

    @classmethod
    def build(
        cls, lo: np.ndarray, hi: np.ndarray, beta: float, gumbel_beta: float | None
    ) -> BoxIndex:
        lo = np.ascontiguousarray(lo, dtype=np.float64)
        hi = np.ascontiguousarray(hi, dtype=np.float64)
        side_log = log_softplus(hi - lo, beta)
        arrays = (
            lo,
            hi,
            np.ascontiguousarray(lo.T),
            np.ascontiguousarray(hi.T),
            np.ascontiguousarray(side_log.T),
            side_log.sum(axis=1),
        )
        for array in arrays:
            array.setflags(write=False)
        return cls(*arrays, beta=beta, gumbel_beta=gumbel_beta)

    def __len__(self) -> int:
        return int(self.lo.shape[0])


@dataclass(frozen=True)
class Ranked:
    """The top rows, best first, with both probabilities of each."""

    rows: np.ndarray  # (k,) int64
    p_in: np.ndarray  # (k,) P(A ⊆ B_row)
    p_contains: np.ndarray  # (k,) P(B_row ⊆ A)
    scored: int  # how many boxes were scored exactly (for tests and profiling)


def _upper_log_intersection(
    index: BoxIndex, lo_a: np.ndarray, hi_a: np.ndarray, side_log_a: np.ndarray
) -> np.ndarray:
    n = len(index)
    total = np.zeros(n)
    side = np.empty(n)
    log_beta = math.log(index.beta)
    for k in range(lo_a.shape[0]):
        np.minimum(index.hi_t[k], hi_a[k], out=side)
        side -= np.maximum(index.lo_t[k], lo_a[k])
        side *= index.beta
        side -= log_beta
        np.minimum(side, index.side_log_t[k], out=side)
        np.minimum(side, side_log_a[k], out=side)
        total += side
    return total


def exact_scores(
    index: BoxIndex, lo_a: np.ndarray, hi_a: np.ndarray, rows: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    return containment_to_all(
        lo_a,
        hi_a,
        index.lo[rows],
        index.hi[rows],
        beta=index.beta,
        gumbel_beta=index.gumbel_beta,
        log_vol=index.log_vol[rows],
    )


def _check(by: str, k: int) -> None:
    if by not in ("p_in", "p_contains"):
        raise ValueError(f"by must be 'p_in' or 'p_contains', got {by!r}")
    if k < 0:
        raise ValueError(f"k must be >= 0, got {k}")


def order_best(score: np.ndarray, rows: np.ndarray, k: int) -> np.ndarray:
    """Positions of the k best (score desc, row asc) among `rows`."""
    order = np.lexsort((rows, -score))
    return order[:k]


def rank(
    index: BoxIndex,
    lo_a: np.ndarray,
    hi_a: np.ndarray,
    *,
    by: str,
    k: int,
    exclude: int | None = None,
) -> Ranked:
    """The k boxes with the highest `by` score ("p_in" or "p_contains") against box A.

    Ties are broken by row. Exactly the rows and values a full scoring would give.

    Raises:
        ValueError: on an unknown `by` or k < 0.
    """
    _check(by, k)
    lo_a = np.asarray(lo_a, dtype=np.float64)
    hi_a = np.asarray(hi_a, dtype=np.float64)
    side_log_a = log_softplus(hi_a - lo_a, index.beta)
    upper = _upper_log_intersection(index, lo_a, hi_a, side_log_a)
    return _select(index, lo_a, hi_a, side_log_a, upper, by=by, k=k, exclude=exclude)


def upper_log_intersection(index: BoxIndex, lo_a: np.ndarray, hi_a: np.ndarray) -> np.ndarray:
    """`(n,)` the upper bounds of log Vol(A∩B) that `rank` computes for box A (float64
    corners) against every box B: the same for both directions, so a caller ranking A both
    ways computes it once and hands `rank_bounded` a copy per direction."""
    return _upper_log_intersection(index, lo_a, hi_a, log_softplus(hi_a - lo_a, index.beta))


def upper_log_intersections(index: BoxIndex, rows: np.ndarray) -> np.ndarray:
    """`(len(rows), n)` upper bounds of log Vol(A∩B) for the boxes A = `rows` against every
    box B: the bound `rank` computes for one box, for a block of boxes at once."""
    lo_a = index.lo[rows][:, :, None]  # (m, d, 1) against (d, n)
    hi_a = index.hi[rows][:, :, None]
    side_log_a = log_softplus(index.hi[rows] - index.lo[rows], index.beta)
    total = np.zeros((rows.size, len(index)))
    log_beta = math.log(index.beta)
    for k in range(index.lo.shape[1]):
        side = np.minimum(index.hi_t[k], hi_a[:, k]) - np.maximum(index.lo_t[k], lo_a[:, k])
        side *= index.beta
        side -= log_beta
        np.minimum(side, index.side_log_t[k], out=side)
        np.minimum(side, side_log_a[:, k, None], out=side)
        total += side
    return total


def rank_bounded(
    index: BoxIndex,
    lo_a: np.ndarray,
    hi_a: np.ndarray,
    upper_intersection: np.ndarray,
    *,
    by: str,
    k: int,
    exclude: int | None = None,
) -> Ranked:
    """`rank` given any upper bound of log Vol(A∩B) per row (`(n,)`, overwritten): the
    result is exact whatever the bound, a tighter one only scores fewer boxes."""
    _check(by, k)
    side_log_a = log_softplus(hi_a - lo_a, index.beta)
    return _select(index, lo_a, hi_a, side_log_a, upper_intersection, by=by, k=k, exclude=exclude)


def _select(
    index: BoxIndex,
    lo_a: np.ndarray,
    hi_a: np.ndarray,
    side_log_a: np.ndarray,
    upper: np.ndarray,
    *,
    by: str,
    k: int,
    exclude: int | None,
) -> Ranked:
    n = len(index)
    # Upper bounds of log P for every row, in the direction ranked.
    upper -= side_log_a.sum() if by == "p_in" else index.log_vol
    allowed = np.ones(n, dtype=bool)
    if exclude is not None:
        allowed[exclude] = False
        upper[exclude] = -np.inf
    k = min(k, int(allowed.sum()))
    m = max(4 * k, _MIN_CANDIDATES)
    while True:
        if m >= n:
            rows = np.flatnonzero(allowed)
            rest_bound = -np.inf
        else:
            part = np.argpartition(-upper, m)
            rows, rest_bound = part[:m], float(upper[part[m]])
            rows = rows[allowed[rows]]
        p_in, p_contains = exact_scores(index, lo_a, hi_a, rows)
        score = p_in if by == "p_in" else p_contains
        best = order_best(score, rows, k)
        kth = float(score[best[-1]]) if k else math.inf
        # No row outside the candidates can reach the k-th exact score: the answer is final.
        if rest_bound == -np.inf or math.exp(min(rest_bound, 0.0)) * (1 + _SLACK) < kth:
            return Ranked(rows[best], p_in[best], p_contains[best], scored=int(rows.size))
        m *= 4
