"""Scores of ranked lists against counted coverage: recall of a holder, order violations,
and nDCG."""

from __future__ import annotations

import math
from collections.abc import Sequence


def holder_recall(ranked: Sequence[str], holders: set[str], k: int) -> float:
    """1 if a dataset holding every queried class is in the top k, else 0."""
    return 1.0 if any(item in holders for item in ranked[:k]) else 0.0


def sharer_violation(ranked: Sequence[str], holders: set[str], sharers: set[str]) -> float:
    """1 if a dataset sharing none of the queried classes ranks above a holder: above one
    in the list, or anywhere in it while a holder exists but was left out."""
    if not holders:
        return 0.0
    positions = [i for i, item in enumerate(ranked) if item in holders]
    last = positions[-1] if positions and set(ranked) >= holders else len(ranked)
    return 1.0 if any(item not in sharers for item in ranked[:last]) else 0.0


def ndcg(ranked: Sequence[str], gains: dict[str, float], k: int = 10) -> float:
    """nDCG@k of a ranked list, with each dataset's gain its counted coverage."""
    ideal = sorted(gains.values(), reverse=True)[:k]
    best = sum(g / math.log2(i + 2) for i, g in enumerate(ideal))
    if best <= 0:
        return 1.0  # nothing relevant exists: any list is as good as the ideal one
    got = sum(gains.get(item, 0.0) / math.log2(i + 2) for i, item in enumerate(ranked[:k]))
    return got / best
