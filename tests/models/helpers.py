"""Synthetic hierarchies for trainer tests and benchmarks' smoke runs."""

from __future__ import annotations

import numpy as np

from models.pairs import PairSet


def random_tree(n: int, seed: int = 0) -> list[int]:
    """Parent of each node (node 0 is the root, parent -1); parents precede children."""
    rng = np.random.default_rng(seed)
    return [-1] + [int(rng.integers(0, k)) for k in range(1, n)]


def ancestor_pairs(parent: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """All (descendant, ancestor) pairs of a tree."""
    child, anc = [], []
    for v in range(1, len(parent)):
        p = parent[v]
        while p != -1:
            child.append(v)
            anc.append(p)
            p = parent[p]
    return np.array(child, dtype=np.int64), np.array(anc, dtype=np.int64)


def all_pairs(n: int, seed: int = 0, features: int = 16) -> tuple[np.ndarray, PairSet]:
    """Identifying features and every ordered pair of a random tree, labelled."""
    parent = random_tree(n, seed)
    c, a = ancestor_pairs(parent)
    y = np.zeros((n, n), dtype=np.float32)
    y[c, a] = 1.0
    ii, jj = np.nonzero(~np.eye(n, dtype=bool))
    x = np.random.default_rng(seed + 1).normal(size=(n, features)).astype(np.float32)
    return x, PairSet(ii, jj, y[ii, jj])


def f1_at_half(p: np.ndarray, y: np.ndarray) -> float:
    pred, pos = p > 0.5, y > 0.5
    tp = float((pred & pos).sum())
    return 2 * tp / max(1.0, float(pred.sum() + pos.sum()))
