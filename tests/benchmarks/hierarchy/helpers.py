"""A small synthetic hierarchy with `[mean; variance]` features, for runner and CLI tests."""

from __future__ import annotations

import numpy as np

from benchmarks.hierarchy.graph import Hierarchy
from models.features import mean_var_vector


def synthetic_tree(
    branching: int = 3, depth: int = 3, leaves: int = 3, seed: int = 0
) -> tuple[Hierarchy, np.ndarray]:
    """A complete tree; each bottom node owns `leaves` labels; features from random embeddings."""
    names, parents = ["n0"], [-1]
    frontier = [0]
    for _ in range(depth - 1):
        nxt = []
        for p in frontier:
            for _ in range(branching):
                names.append(f"n{len(names)}")
                parents.append(p)
                nxt.append(len(names) - 1)
        frontier = nxt
    own: dict[int, list[str]] = {b: [f"l{b}_{k}" for k in range(leaves)] for b in frontier}
    labels: list[set[str]] = [set() for _ in names]
    for b, labs in own.items():
        node = b
        while node >= 0:
            labels[node].update(labs)
            node = parents[node]
    h = Hierarchy(
        names=tuple(names),
        labels=tuple(tuple(sorted(ls)) for ls in labels),
        label_text={lab: lab for ls in labels for lab in ls},
        edges=tuple((p, c) for c, p in enumerate(parents) if p >= 0),
    )
    rng = np.random.default_rng(seed)
    # Labels of one bottom node cluster together, so the tree shows in embedding space.
    centre = {b: rng.normal(size=16) for b in frontier}
    emb = {lab: (centre[b] + 0.3 * rng.normal(size=16)) for b, labs in own.items() for lab in labs}
    emb = {k: v / np.linalg.norm(v) for k, v in emb.items()}
    x = np.stack([mean_var_vector(np.stack([emb[lab] for lab in ls])) for ls in h.labels])
    return h, x
