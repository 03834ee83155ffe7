"""Synthetic hierarchies that mirror the real setup, for speed and sanity benchmarks.

A random tree (each node's parent drawn uniformly among earlier nodes, so depth grows like
log N) where every node owns a few "labels" with random unit embeddings, and a node's label
set is its own plus all its descendants' (containment of label sets = ancestry, as in the
WordNet benchmark). Node features are `[mean; variance]` over the label embeddings, built
bottom-up from sums in O(N·dim), so 100k nodes take a fraction of a second.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from models.pairs import PairSet


@dataclass(frozen=True)
class SyntheticHierarchy:
    """A random tree with features.

    Attributes:
        parent: `(N,)` parent of each node; -1 for the root (node 0).
        x: `(N, 2·embed_dim)` float32 `[mean; variance]` features.
        child: `(E,)` descendant side of every ancestor pair.
        ancestor: `(E,)` ancestor side of every ancestor pair.
    """

    parent: np.ndarray
    x: np.ndarray
    child: np.ndarray
    ancestor: np.ndarray

    @property
    def size(self) -> int:
        """Number of nodes."""
        return int(self.parent.shape[0])

    def positives(self) -> PairSet:
        """Closed-world pairs: every (descendant, ancestor) pair with target 1."""
        return PairSet(
            self.child, self.ancestor, np.ones(self.child.size, np.float32), closed_world=True
        )


def random_hierarchy(
    n: int, *, embed_dim: int = 384, labels_per_node: int = 2, seed: int = 0
) -> SyntheticHierarchy:
    """Build a random hierarchy of `n` nodes.

    Raises:
        ValueError: if `n < 2`, `embed_dim < 1` or `labels_per_node < 1`.
    """
    if n < 2 or embed_dim < 1 or labels_per_node < 1:
        raise ValueError(
            f"need n >= 2, embed_dim >= 1, labels_per_node >= 1; "
            f"got {n}, {embed_dim}, {labels_per_node}"
        )
    rng = np.random.default_rng(seed)
    parent = np.empty(n, dtype=np.int64)
    parent[0] = -1
    parent[1:] = np.floor(rng.random(n - 1) * np.arange(1, n)).astype(np.int64)
    emb = rng.normal(size=(n, labels_per_node, embed_dim))
    emb /= np.linalg.norm(emb, axis=-1, keepdims=True)
    total = emb.sum(axis=1)
    squares = (emb**2).sum(axis=1)
    count = np.full(n, float(labels_per_node))
    # Parents precede children, so one reverse sweep accumulates every subtree.
    for v in range(n - 1, 0, -1):
        p = parent[v]
        total[p] += total[v]
        squares[p] += squares[v]
        count[p] += count[v]
    mean = total / count[:, None]
    var = np.maximum(squares / count[:, None] - mean**2, 0.0)
    x = np.concatenate([mean, var], axis=1).astype(np.float32)
    child, ancestor = _ancestor_pairs(parent)
    return SyntheticHierarchy(parent=parent, x=x, child=child, ancestor=ancestor)


def _ancestor_pairs(parent: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    # Walk every node up to the root in lockstep: O(E) work in O(depth) NumPy steps.
    nodes = np.arange(1, parent.size, dtype=np.int64)
    up = parent[1:].copy()
    child, anc = [], []
    while nodes.size:
        child.append(nodes)
        anc.append(up)
        keep = parent[up] >= 0
        nodes, up = nodes[keep], parent[up[keep]]
    return np.concatenate(child), np.concatenate(anc)
