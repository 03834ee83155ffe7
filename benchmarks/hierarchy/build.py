"""Pure: the WordNet hierarchy over ImageNet-1k classes, as in Task2Box (CVPR 2024) §5.

Every synset under the chosen root with at least two ImageNet classes among its descendants is
a "dataset" whose labels are those classes. Synsets with identical label sets collapse into one
node (the most general of them keeps its name). WordNet nouns form a DAG, so a node's parents
are *all* of its nearest kept ancestors, not just one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from benchmarks.hierarchy.graph import Hierarchy
from benchmarks.hierarchy.wordnet import Synset

MIN_LEAVES = 2


@dataclass(frozen=True)
class BuildStats:
    """What the build kept and dropped, for the benchmark's printout."""

    synsets_in_subtree: int
    candidates: int
    duplicate_label_sets: int
    leaves: int


def resolve_synset(query: str, names: Mapping[str, str]) -> str:
    """The offset for a synset given as `lemma.n.NN`, a wnid `n03575240` or a bare offset.

    Raises:
        ValueError: if nothing matches, with the query in the message.
    """
    q = query.strip()
    if q.startswith("n") and q[1:].isdigit() and q[1:] in names:
        return q[1:]
    if q.isdigit() and q in names:
        return q
    for offset, name in names.items():
        if name == q.lower():
            return offset
    raise ValueError(f"unknown synset {query!r} (use e.g. 'instrumentality.n.03' or 'n03575240')")


def _children(synsets: Mapping[str, Synset]) -> dict[str, list[str]]:
    children: dict[str, list[str]] = {offset: [] for offset in synsets}
    for offset, synset in synsets.items():
        for hyper in synset.hypernyms:
            if hyper in children:
                children[hyper].append(offset)
    return children


def _post_order(root: str, children: Mapping[str, list[str]]) -> list[str]:
    # Iterative DFS: every descendant of `root` once, children before parents.
    seen = {root}
    order: list[str] = []
    stack: list[tuple[str, int]] = [(root, 0)]
    while stack:
        node, k = stack.pop()
        kids = children[node]
        if k < len(kids):
            stack.append((node, k + 1))
            if kids[k] not in seen:
                seen.add(kids[k])
                stack.append((kids[k], 0))
        else:
            order.append(node)
    return order


def build_imagenet_hierarchy(
    synsets: Mapping[str, Synset],
    names: Mapping[str, str],
    leaf_text: Mapping[str, str],
    root: str,
) -> tuple[Hierarchy, BuildStats]:
    """Builds the hierarchy under `root`.

    Args:
        synsets: WordNet noun synsets by offset (`parse_data_noun`).
        names: synset names by offset (`synset_names`).
        leaf_text: ImageNet class wnid -> the text embedded for it (its first lemma).
        root: offset of the subtree's root synset.

    Returns:
        The hierarchy (nodes in topological order, root first) and build statistics.

    Raises:
        ValueError: if the root is unknown or has fewer than two ImageNet classes under it.
    """
    if root not in synsets:
        raise ValueError(f"root synset {root!r} is not in WordNet")
    order = _post_order(root, _children(synsets))
    in_tree = set(order)
    leaves_under: dict[str, frozenset[str]] = {}
    children = _children(synsets)
    for offset in order:  # children first, so their leaf sets are ready
        own = {synsets[offset].wnid} if synsets[offset].wnid in leaf_text else set()
        leaves_under[offset] = frozenset(own.union(*(leaves_under[c] for c in children[offset])))
    candidates = [o for o in reversed(order) if len(leaves_under[o]) >= MIN_LEAVES]
    if not candidates:
        raise ValueError(f"{names[root]} has fewer than {MIN_LEAVES} ImageNet classes under it")

    # Ancestors within the subtree, parents first (reversed post-order is a topological order).
    ancestors: dict[str, frozenset[str]] = {}
    for offset in reversed(order):
        hypers = [h for h in synsets[offset].hypernyms if h in in_tree and offset != root]
        ancestors[offset] = frozenset(hypers).union(*(ancestors[h] for h in hypers))

    # One node per distinct label set; its representative is the most general member.
    groups: dict[frozenset[str], list[str]] = {}
    for offset in candidates:
        groups.setdefault(leaves_under[offset], []).append(offset)
    node_of: dict[str, int] = {}
    reps: list[str] = []
    for members in groups.values():
        general = [m for m in members if all(m in ancestors[o] for o in members if o != m)]
        rep = general[0] if general else min(members, key=lambda m: (len(ancestors[m]), names[m]))
        for m in members:
            node_of[m] = len(reps)
        reps.append(rep)

    above: list[set[int]] = [set() for _ in reps]
    for offset in candidates:
        me = node_of[offset]
        above[me] |= {node_of[a] for a in ancestors[offset] if a in node_of} - {me}
    edges = sorted(
        (p, c)
        for c, ups in enumerate(above)
        for p in ups
        if not any(p in above[q] for q in ups if q != p)  # keep only the nearest ancestors
    )
    hierarchy = Hierarchy(
        names=tuple(names[r] for r in reps),
        labels=tuple(tuple(sorted(leaves_under[r])) for r in reps),
        label_text={lab: leaf_text[lab] for r in reps for lab in leaves_under[r]},
        edges=tuple(edges),
    )
    stats = BuildStats(
        synsets_in_subtree=len(order),
        candidates=len(candidates),
        duplicate_label_sets=len(candidates) - len(reps),
        leaves=len(leaves_under[root]),
    )
    return hierarchy, stats
