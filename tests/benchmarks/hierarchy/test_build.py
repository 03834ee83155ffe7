from __future__ import annotations

import pytest

from benchmarks.hierarchy.build import BuildStats, build_imagenet_hierarchy, resolve_synset
from benchmarks.hierarchy.graph import Hierarchy
from benchmarks.hierarchy.wordnet import Synset

# A small WordNet-like DAG (offset: hypernyms). ImageNet leaves are a1 a2 b1 c1 c2 f1 f2 d1.
#   R ── A ── a1, a2, C        C has two parents (A and B): a DAG, like WordNet.
#   R ── B ── b1, C            C ── c1, c2 (c2 is an instance: `@i` in the file)
#   R ── D ── d1               D has one leaf: not a dataset.
#   R ── E ── F ── f1, f2      E and F share one label set: collapsed into E.
#   X ── x1                    outside the subtree.
_DAG = {
    "R": (),
    "A": ("R",),
    "B": ("R",),
    "C": ("A", "B"),
    "D": ("R",),
    "E": ("R",),
    "F": ("E",),
    "X": (),
    "a1": ("A",),
    "a2": ("A",),
    "b1": ("B",),
    "c1": ("C",),
    "c2": ("C",),
    "d1": ("D",),
    "f1": ("F",),
    "f2": ("F",),
    "x1": ("X",),
    "r9": ("R",),  # a non-ImageNet leaf: ignored
}
_OFFSET = {name: f"{k:08d}" for k, name in enumerate(_DAG)}
SYNSETS = {
    _OFFSET[n]: Synset(_OFFSET[n], (n,), tuple(_OFFSET[h] for h in hs)) for n, hs in _DAG.items()
}
NAMES = {_OFFSET[n]: f"{n.lower()}.n.01" for n in _DAG}
LEAVES = {
    f"n{_OFFSET[n]}": f"text {n}" for n in ("a1", "a2", "b1", "c1", "c2", "d1", "f1", "f2", "x1")
}


def _build() -> tuple[dict[str, int], Hierarchy, BuildStats]:
    h, stats = build_imagenet_hierarchy(SYNSETS, NAMES, LEAVES, _OFFSET["R"])
    return {name: k for k, name in enumerate(h.names)}, h, stats


def test_nodes_are_synsets_with_two_leaves_deduplicated() -> None:
    index, h, stats = _build()
    assert set(index) == {"r.n.01", "a.n.01", "b.n.01", "c.n.01", "e.n.01"}
    assert h.names[0] == "r.n.01"  # root first
    labels = {h.names[k]: {h.label_text[lab] for lab in h.labels[k]} for k in range(h.size)}
    assert labels["c.n.01"] == {"text c1", "text c2"}
    assert labels["a.n.01"] == {"text a1", "text a2", "text c1", "text c2"}
    assert labels["e.n.01"] == {"text f1", "text f2"}  # the most general of E and F
    assert len(labels["r.n.01"]) == 8  # x1 is outside the subtree
    assert stats.duplicate_label_sets == 1
    assert stats.leaves == 8


def test_parents_are_all_nearest_kept_ancestors() -> None:
    index, h, _ = _build()
    edges = {(h.names[p], h.names[c]) for p, c in h.edges}
    assert edges == {
        ("r.n.01", "a.n.01"),
        ("r.n.01", "b.n.01"),
        ("r.n.01", "e.n.01"),
        ("a.n.01", "c.n.01"),
        ("b.n.01", "c.n.01"),
    }
    # R is an ancestor of C, but through A and B, so it is not a direct parent.
    assert h.contained()[index["c.n.01"], index["r.n.01"]]
    assert not h.direct()[index["c.n.01"], index["r.n.01"]]


def test_resolve_synset_accepts_name_wnid_and_offset() -> None:
    off = _OFFSET["C"]
    assert resolve_synset("c.n.01", NAMES) == off
    assert resolve_synset(f"n{off}", NAMES) == off
    assert resolve_synset(off, NAMES) == off
    with pytest.raises(ValueError, match=r"unknown synset 'nope\.n\.01'"):
        resolve_synset("nope.n.01", NAMES)


def test_root_with_too_few_leaves_is_rejected() -> None:
    with pytest.raises(ValueError, match="fewer than 2 ImageNet classes"):
        build_imagenet_hierarchy(SYNSETS, NAMES, LEAVES, _OFFSET["D"])
