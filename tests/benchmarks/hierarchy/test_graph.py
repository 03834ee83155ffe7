from __future__ import annotations

import numpy as np
import pytest

from benchmarks.hierarchy.graph import Hierarchy, edge_closure


def _tree() -> Hierarchy:
    # 0 root {a,b,c,d}; 1 {a,b} and 2 {c,d} under it; 3 {a} under 1 (a 1-label node is allowed).
    labels = (("a", "b", "c", "d"), ("a", "b"), ("c", "d"), ("a",))
    return Hierarchy(
        names=("root", "left", "right", "leaf"),
        labels=labels,
        label_text={x: x.upper() for x in "abcd"},
        edges=((0, 1), (0, 2), (1, 3)),
    )


def test_contained_is_transitive_and_direct_is_not() -> None:
    h = _tree()
    c, d = h.contained(), h.direct()
    assert c[3, 1] and c[3, 0] and c[1, 0] and c[2, 0]
    assert not c[0, 3] and not c[3, 2] and not c.diagonal().any()
    assert d[3, 1] and not d[3, 0]
    assert c.sum() == 4 and d.sum() == 3


def test_childless_nodes() -> None:
    assert _tree().childless().tolist() == [2, 3]


def test_targets_are_label_overlap_fractions_and_asymmetric() -> None:
    y = _tree().targets()
    assert y[1, 0] == 1.0 and y[0, 1] == 0.5  # left is inside root; root is half inside left
    assert y[3, 1] == 1.0 and y[1, 3] == 0.5
    assert y[1, 2] == 0.0
    np.testing.assert_array_equal(np.diag(y), 1.0)


def test_label_containment_without_an_edge_is_a_positive() -> None:
    # 'right' lists labels inside 'left' but hangs from root only: the labels close the gap.
    h = Hierarchy(
        names=("root", "left", "right"),
        labels=(("a", "b", "c"), ("a", "b"), ("a",)),
        label_text={x: x for x in "abc"},
        edges=((0, 1), (0, 2)),
    )
    assert h.contained()[2, 1]
    assert not edge_closure(h)[2, 1]
    assert h.targets()[2, 1] == 1.0


def test_edges_without_label_containment_still_count() -> None:
    # Generic input may give parents fewer labels; the edge is the ground truth then.
    h = Hierarchy(
        names=("p", "c"), labels=(("x",), ("y",)), label_text={"x": "x", "y": "y"}, edges=((0, 1),)
    )
    assert h.contained()[1, 0]
    assert h.targets()[1, 0] == 1.0 and h.targets()[0, 1] == 0.0


def test_cycle_is_rejected_with_names() -> None:
    with pytest.raises(ValueError, match=r"cycle: .*a"):
        Hierarchy(
            names=("a", "b"),
            labels=(("x",), ("y",)),
            label_text={"x": "x", "y": "y"},
            edges=((0, 1), (1, 0)),
        )


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"names": ("a", "a")}, "unique"),
        ({"labels": (("x",), ())}, "no labels"),
        ({"labels": (("x",), ("zzz",))}, "without text"),
        ({"edges": ((0, 5),)}, "bad edge"),
        ({"edges": ((1, 1),)}, "bad edge"),
    ],
)
def test_invalid_hierarchies_are_rejected(kwargs: dict[str, object], message: str) -> None:
    base: dict[str, object] = {
        "names": ("a", "b"),
        "labels": (("x",), ("y",)),
        "label_text": {"x": "x", "y": "y"},
        "edges": (),
    }
    with pytest.raises(ValueError, match=message):
        Hierarchy(**{**base, **kwargs})  # type: ignore[arg-type]
