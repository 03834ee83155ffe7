"""The benchmark's hierarchy: named nodes (datasets), their label sets, and direct parent edges.

Pure numpy/stdlib. The derived matrices use the orientation of `P(A_i ⊆ B_j)`: entry `[i, j]`
is about "i lies under j".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from graphlib import CycleError, TopologicalSorter

import numpy as np


@dataclass(frozen=True)
class Hierarchy:
    """Nodes with label sets, and direct `(parent, child)` edges as node indices.

    Attributes:
        names: unique node names.
        labels: each node's label ids (sorted, non-empty).
        label_text: label id -> the text that is embedded for it.
        edges: direct edges `(parent_index, child_index)`, acyclic.
    """

    names: tuple[str, ...]
    labels: tuple[tuple[str, ...], ...]
    label_text: Mapping[str, str]
    edges: tuple[tuple[int, int], ...]
    _closure: np.ndarray = field(init=False, repr=False, compare=False)
    _overlap: np.ndarray = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        n = len(self.names)
        if len(set(self.names)) != n:
            raise ValueError("node names must be unique")
        if len(self.labels) != n:
            raise ValueError(f"{n} nodes but {len(self.labels)} label sets")
        for name, labels in zip(self.names, self.labels, strict=True):
            if not labels:
                raise ValueError(f"node {name!r} has no labels")
            missing = [lab for lab in labels if lab not in self.label_text]
            if missing:
                raise ValueError(f"node {name!r}: labels without text {missing[:3]}")
        sorter: TopologicalSorter[int] = TopologicalSorter(dict.fromkeys(range(n), ()))
        for parent, child in self.edges:
            if not (0 <= parent < n and 0 <= child < n) or parent == child:
                raise ValueError(f"bad edge ({parent}, {child}) for {n} nodes")
            sorter.add(child, parent)
        try:
            sorter.prepare()
        except CycleError as e:
            cycle = [self.names[i] for i in e.args[1]]
            raise ValueError(f"the edges contain a cycle: {' -> '.join(cycle)}") from e
        member = self._membership()
        overlap = member @ member.T
        sizes = member.sum(axis=1)
        # Strict label-set containment: every label of i is in j, and j has more labels.
        subset = (overlap >= sizes[:, None]) & (sizes[:, None] < sizes[None, :])
        closure = _transitive(self.direct() | subset)
        object.__setattr__(self, "_closure", closure)
        object.__setattr__(self, "_overlap", overlap / sizes[:, None])

    @property
    def size(self) -> int:
        return len(self.names)

    def contained(self) -> np.ndarray:
        """`(N, N)` bool: `[i, j]` is True when i lies under j: the positives of the benchmark.

        That is j is a (transitive) ancestor of i through the edges, or i's label set is a
        strict subset of j's, closed transitively. The two agree except where a DAG leaves a
        label-set containment without a path: in WordNet's instrumentality subtree every
        ImageNet `peripheral` happens to be a `device` (2 such pairs of 17,292). Both count,
        because box models are trained on, and judged by, label containment.
        """
        return self._closure.copy()

    def direct(self) -> np.ndarray:
        """`(N, N)` bool: `[i, j]` is True when j is a direct parent of i."""
        out = np.zeros((self.size, self.size), dtype=bool)
        for parent, child in self.edges:
            out[child, parent] = True
        return out

    def childless(self) -> np.ndarray:
        """Indices of nodes that are nobody's parent, ascending."""
        has_child = np.zeros(self.size, dtype=bool)
        for parent, _ in self.edges:
            has_child[parent] = True
        return np.flatnonzero(~has_child)

    def targets(self) -> np.ndarray:
        """`(N, N)` float: y(i ⊆ j) = |L_i ∩ L_j| / |L_i|, and exactly 1 for ancestor pairs.

        The diagonal is 1. The matrix is asymmetric: a child is fully inside its parent but the
        parent is only partly inside the child.
        """
        y = self._overlap.copy()
        y[self._closure] = 1.0
        return y

    def _membership(self) -> np.ndarray:
        vocab = {lab: k for k, lab in enumerate(sorted({x for ls in self.labels for x in ls}))}
        member = np.zeros((self.size, len(vocab)), dtype=np.float32)
        for i, labels in enumerate(self.labels):
            member[i, [vocab[lab] for lab in labels]] = 1.0
        return member

    def label_texts(self, node: int) -> list[str]:
        """The texts embedded for one node's labels."""
        return [self.label_text[lab] for lab in self.labels[node]]


def _transitive(relation: np.ndarray) -> np.ndarray:
    # Squaring doubles the path length covered, so log2(N) rounds reach the fixed point.
    closure = relation.copy()
    while True:
        step = closure.astype(np.float32) @ closure.astype(np.float32)
        grown = closure | (step > 0)
        if np.array_equal(grown, closure):
            return closure
        closure = grown


def edge_closure(h: Hierarchy) -> np.ndarray:
    """`(N, N)` bool: `[i, j]` True when j is an ancestor of i through the edges alone."""
    return _transitive(h.direct())
