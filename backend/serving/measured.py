"""Containment lists that put counted answers before predicted ones.

For any query whose class names are known (a stored dataset, a pasted label list) the share
of its classes that another dataset holds is *counted* (`models.coverage`), not guessed. A
list ranked by box overlap alone put datasets sharing none of the queried classes above
datasets holding all of them; so a containment list here has two groups:

1. **measured**: every dataset sharing at least one matched class, by coverage (desc), ties
   by the map's score (desc), then by row;
2. **predicted**: then, when fewer than k share a class, the map's best-scoring others,
   exactly as `rank` orders them.

No dataset sharing nothing can therefore rank above one holding every queried class.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from models.ranking import BoxIndex, Ranked, exact_scores


@dataclass(frozen=True)
class MeasuredRanked:
    """The measured group's rows (best first) with their coverage, then the predicted ones."""

    measured: Ranked
    coverage: np.ndarray  # (len(measured.rows),) the counted share, in (0, 1]
    predicted: Ranked


def rank_measured_first(
    index: BoxIndex,
    lo_a: np.ndarray,
    hi_a: np.ndarray,
    counted_rows: np.ndarray,
    counted: np.ndarray,
    *,
    by: str,
    k: int,
    exclude: int | None,
    rank_predicted: Callable[[int], Ranked],
) -> MeasuredRanked:
    """The top k of a containment list: measured rows first, then predicted ones.

    Args:
        index: the map's boxes.
        lo_a, hi_a: the query's box (a stored row's or a placed one).
        counted_rows, counted: the rows that share a match and their counted coverage in the
            ranked direction (every other row's is 0).
        by: "p_in" or "p_contains", the map's score used to break coverage ties.
        k: how many rows in all.
        exclude: the query's own row, never listed.
        rank_predicted: `rank_predicted(m)` gives the map's top m rows in the direction
            (the neighbour table or `rank`); measured rows are dropped from it.
    """
    keep = counted > 0
    if exclude is not None:
        keep &= counted_rows != exclude
    rows, values = counted_rows[keep], counted[keep]
    if rows.size > k:
        # Only rows that can reach the top k: those at or above the k-th coverage (ties at
        # the cut are ordered by the map's score, so all of them are scored).
        cut = np.partition(values, rows.size - k)[rows.size - k]
        at_cut = values >= cut
        rows, values = rows[at_cut], values[at_cut]
    p_in, p_contains = exact_scores(index, lo_a, hi_a, rows)
    score = p_in if by == "p_in" else p_contains
    order = np.lexsort((rows, -score, -values))[:k]
    measured = Ranked(rows[order], p_in[order], p_contains[order], scored=int(rows.size))
    wanted = k - measured.rows.size
    if wanted <= 0:
        empty = np.zeros(0, dtype=np.int64)
        return MeasuredRanked(
            measured, values[order], Ranked(empty, np.zeros(0), np.zeros(0), scored=0)
        )
    # Every row with coverage > 0 is in `measured` here (fewer than k exist), so the map's
    # top `wanted + |measured|` rows hold at least `wanted` others.
    ranked = rank_predicted(wanted + measured.rows.size)
    shared = np.isin(ranked.rows, counted_rows[counted > 0])
    others = np.flatnonzero(~shared)[:wanted]
    predicted = Ranked(
        ranked.rows[others], ranked.p_in[others], ranked.p_contains[others], scored=ranked.scored
    )
    return MeasuredRanked(measured, values[order], predicted)
