"""Every dataset's top related datasets, ranked once per map instead of once per request.

Why: `/related` is the hottest request, and ranking one box against 10,000 (even with the
bound of `models.ranking`) was about half of its CPU on a 2-core host. A map's
boxes never change after training, so the training job ranks every row once, in both
directions, and stores the `TABLE_K` best rows of each (`map_neighbors`); a request then
scores only those few rows.

The answer stays exactly `rank`'s. The table is computed over the same float32 corners the
server loads, and a request re-scores its rows and re-sorts them (score desc, row asc) in the
server's row order. Tie-breaks by row then match `rank`, even though the server orders rows
by downloads, which change after training. A request scores the first `k + _PAD` listed rows
(best first), and answers only when its k-th score is above the lowest of those, or when they
are every other row: every row after them, listed or not, scores at most that lowest one, so
none can make the top k. Otherwise (ties at the cut) the request falls back to `rank`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from models.ranking import (
    BoxIndex,
    Ranked,
    exact_scores,
    order_best,
    rank_bounded,
    upper_log_intersections,
)
from models.scoring import containment_both_pairs

# Rows kept per dataset and direction: MAX_K (100) plus room for ties at the cut.
TABLE_K = 128
# Beyond this many boxes a table (n × 128 × 2 int32) is not built: 40 MB at 50k, and the
# publish-time ranking grows as n².
TABLE_MAX_ROWS = 50_000
DIRECTIONS = ("p_in", "p_contains")
# Rows ranked per vectorized block. Small blocks keep the (block, n) float64 temporaries
# in cache: 16 rows ranked twice as fast as 256 here.
_BLOCK_ROWS = 16
# Exact scores per row: this many times k best-bounded rows (`rank` starts at 4·k).
_CANDIDATES_PER_K = 2
# Scores are compared with this relative slack: the block's exact scores and a request's
# may differ in the last bits, and near-ties at the table's cut must then fall back.
_SLACK = 1e-9
# A request scores this many listed rows beyond k: room for ties among its last ones.
_PAD = 8


def neighbor_rows(
    index: BoxIndex,
    *,
    k: int = TABLE_K,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, np.ndarray]:
    """`{by: (n, min(k, n-1)) int32}`: for every row, its best `k` rows by `by`, best
    first (equal scores in any order: a request re-sorts them by row).

    Vectorized over blocks of rows: `rank`'s bound for the whole block, the exact scores of
    each row's `_CANDIDATES_PER_K · k` best-bounded rows at once, and `rank`'s certificate
    per row (no unscored row's bound reaches the k-th exact score). The few rows without
    one are ranked by `rank_bounded`, which widens the candidates until it has one.
    """
    n = len(index)
    width = min(k, max(n - 1, 0))
    out = {by: np.empty((n, width), dtype=np.int32) for by in DIRECTIONS}
    if width == 0:
        return out
    m = min(n - 1, _CANDIDATES_PER_K * width)
    for start in range(0, n, _BLOCK_ROWS):
        rows = np.arange(start, min(n, start + _BLOCK_ROWS))
        bounds = upper_log_intersections(index, rows)
        bounds[np.arange(rows.size), rows] = -np.inf  # a row is never its own neighbour
        for by in DIRECTIONS:
            # Upper bounds of log P in this direction, as `rank_bounded` forms them.
            volume = index.log_vol[rows][:, None] if by == "p_in" else index.log_vol[None, :]
            upper = bounds - volume
            if m < n - 1:
                part = np.argpartition(-upper, m, axis=1)
                candidates = part[:, :m]
                rest = np.take_along_axis(upper, part[:, m : m + 1], 1)[:, 0]
            else:
                candidates = np.argsort(-upper, axis=1, kind="stable")[:, : n - 1]
                rest = np.full(rows.size, -np.inf)
            p_in, p_contains = _exact_block(index, rows, candidates)
            score = p_in if by == "p_in" else p_contains
            best = np.argpartition(-score, width - 1, axis=1)[:, :width]
            best_score = np.take_along_axis(score, best, 1)
            proven = np.exp(np.minimum(rest, 0.0)) * (1 + _SLACK) < best_score.min(axis=1)
            # Best first, so that a request scores only a prefix.
            best = np.take_along_axis(best, np.argsort(-best_score, axis=1, kind="stable"), 1)
            out[by][rows] = np.take_along_axis(candidates, best, 1)
            for offset in np.flatnonzero(~proven).tolist():
                a = int(rows[offset])
                ranked = rank_bounded(
                    index,
                    index.lo[a],
                    index.hi[a],
                    bounds[offset].copy(),
                    by=by,
                    k=width,
                    exclude=a,
                )
                out[by][a] = ranked.rows
        if progress is not None:
            progress(int(rows[-1]) + 1, n)
    return out


def _exact_block(
    index: BoxIndex, rows: np.ndarray, candidates: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Exact `(p_in, p_contains)` of each row against its candidates, `(rows, m)` each."""
    b, m = candidates.shape
    d = index.lo.shape[1]
    lo_a = np.broadcast_to(index.lo[rows][:, None, :], (b, m, d)).reshape(-1, d)
    hi_a = np.broadcast_to(index.hi[rows][:, None, :], (b, m, d)).reshape(-1, d)
    flat = candidates.reshape(-1)
    p_in, p_contains = containment_both_pairs(
        lo_a,
        hi_a,
        index.lo[flat],
        index.hi[flat],
        beta=index.beta,
        gumbel_beta=index.gumbel_beta,
    )
    return p_in.reshape(b, m), p_contains.reshape(b, m)


@dataclass(frozen=True, eq=False)
class NeighborTable:
    """Precomputed candidates per row (in the loaded map's row order) and direction."""

    rows: dict[str, np.ndarray]  # by -> (n, width) int32 rows of the loaded map

    @property
    def width(self) -> int:
        return int(self.rows[DIRECTIONS[0]].shape[1])

    @classmethod
    def remap(
        cls, stored_ids: Sequence[str], rows: dict[str, np.ndarray], index: dict[str, int]
    ) -> NeighborTable | None:
        """The stored table, whose rows follow `stored_ids`, in the order of `index`.

        None when the two differ as sets (a dataset deleted since training): the table is
        then ignored and `rank` answers.
        """
        if len(stored_ids) != len(index):
            return None
        to_loaded = np.fromiter((index.get(i, -1) for i in stored_ids), np.int64, len(index))
        if (to_loaded < 0).any():
            return None
        remapped = {}
        for by in DIRECTIONS:
            table = np.empty_like(rows[by])
            table[to_loaded] = to_loaded[rows[by]]
            table.setflags(write=False)
            remapped[by] = table
        return cls(remapped)

    def rank(self, index: BoxIndex, a: int, *, by: str, k: int) -> Ranked | None:
        """`rank(index, box a, by, k, exclude=a)` from the table, or None when the table
        cannot prove its answer (near-ties at the cut, or k over its width).

        Only the first `k + _PAD` listed rows are scored: every row after them, listed or
        not, scores at most the last of them (up to rounding, hence the slack).
        """
        n = len(index)
        listed = self.rows[by][a]
        if k > listed.size and listed.size < n - 1:
            return None
        rows = listed[: k + _PAD].astype(np.int64)
        p_in, p_contains = exact_scores(index, index.lo[a], index.hi[a], rows)
        score = p_in if by == "p_in" else p_contains
        best = order_best(score, rows, k)
        scored_all = rows.size >= n - 1
        if best.size and not scored_all:
            kth = float(score[best[-1]])
            if kth <= float(score.min()) * (1 + _SLACK):
                return None
        return Ranked(rows[best], p_in[best], p_contains[best], scored=int(rows.size))
