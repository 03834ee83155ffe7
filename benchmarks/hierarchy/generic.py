"""Reads any hierarchy given as `edges.csv` (header `parent,child`) plus `labels.jsonl`.

`labels.jsonl` has one JSON object a line: `{"node": "vehicle", "labels": ["car", "bus"]}`.
Every node named in an edge needs a labels line. Input is untrusted: sizes are bounded and every
error names the file and line.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

from benchmarks.hierarchy.graph import Hierarchy

# Every ordered pair is evaluated, so the protocol is O(N^2) in memory and time.
MAX_NODES = 5000
MAX_LABELS_PER_NODE = 10_000
MAX_TEXT_CHARS = 200
_MAX_LINE_CHARS = 4_000_000


class HierarchyInputError(ValueError):
    """The edges or labels file is malformed; the message names the file and line."""


def _text(value: object, where: str, what: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise HierarchyInputError(f"{where}: {what} must be a non-empty string, got {value!r}")
    if len(value) > MAX_TEXT_CHARS:
        raise HierarchyInputError(f"{where}: {what} is longer than {MAX_TEXT_CHARS} characters")
    return value.strip()


def read_labels(path: Path) -> dict[str, tuple[str, ...]]:
    """`{node: labels}` from a labels.jsonl file, in file order; labels de-duplicated.

    Raises:
        HierarchyInputError: on bad JSON, missing keys, empty or oversized label lists,
            duplicate nodes or too many nodes.
    """
    nodes: dict[str, tuple[str, ...]] = {}
    with path.open(encoding="utf-8-sig") as f:
        for number, line in enumerate(f, start=1):
            where = f"{path.name} line {number}"
            if len(line) > _MAX_LINE_CHARS:
                raise HierarchyInputError(f"{where}: line longer than {_MAX_LINE_CHARS} chars")
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as e:
                raise HierarchyInputError(f"{where}: invalid JSON ({e.msg})") from e
            if not isinstance(record, dict) or "node" not in record or "labels" not in record:
                raise HierarchyInputError(f"{where}: expected {{'node': ..., 'labels': [...]}}")
            node = _text(record["node"], where, "node")
            raw = record["labels"]
            if not isinstance(raw, list) or not raw:
                raise HierarchyInputError(f"{where}: labels must be a non-empty list")
            if len(raw) > MAX_LABELS_PER_NODE:
                raise HierarchyInputError(f"{where}: more than {MAX_LABELS_PER_NODE} labels")
            if node in nodes:
                raise HierarchyInputError(f"{where}: node {node!r} appears twice")
            nodes[node] = tuple(dict.fromkeys(_text(lab, where, "label") for lab in raw))
            if len(nodes) > MAX_NODES:
                raise HierarchyInputError(f"{where}: more than {MAX_NODES} nodes")
    if not nodes:
        raise HierarchyInputError(f"{path.name}: no nodes")
    return nodes


def read_edges(path: Path, known: set[str]) -> list[tuple[str, str]]:
    """`(parent, child)` names from an edges.csv with header `parent,child`; duplicates dropped.

    Raises:
        HierarchyInputError: on a wrong header, a short row, a self-loop or an unknown node.
    """
    edges: dict[tuple[str, str], None] = {}
    with path.open(encoding="utf-8-sig", newline="") as f:
        reader = csv.reader(f)
        header = next(reader, None)
        if header is None or [h.strip().lower() for h in header] != ["parent", "child"]:
            raise HierarchyInputError(f"{path.name} line 1: header must be 'parent,child'")
        for row in reader:
            where = f"{path.name} line {reader.line_num}"
            if not row or all(not cell.strip() for cell in row):
                continue
            if len(row) != 2:
                raise HierarchyInputError(f"{where}: expected 2 columns, got {len(row)}")
            parent, child = (
                _text(cell, where, name) for cell, name in zip(row, header, strict=True)
            )
            for name in (parent, child):
                if name not in known:
                    raise HierarchyInputError(f"{where}: node {name!r} has no labels line")
            if parent == child:
                raise HierarchyInputError(f"{where}: {parent!r} is its own parent")
            edges[(parent, child)] = None
    return list(edges)


def load_hierarchy(edges_path: Path, labels_path: Path) -> Hierarchy:
    """The hierarchy described by the two files.

    Label ids are the label strings themselves, so two nodes share a label exactly when they
    list the same string.

    Raises:
        HierarchyInputError: on malformed input or a cycle in the edges.
    """
    labels = read_labels(labels_path)
    index = {name: k for k, name in enumerate(labels)}
    edges = read_edges(edges_path, set(index))
    try:
        return Hierarchy(
            names=tuple(labels),
            labels=tuple(tuple(sorted(ls)) for ls in labels.values()),
            label_text={lab: lab for ls in labels.values() for lab in ls},
            edges=tuple((index[p], index[c]) for p, c in edges),
        )
    except ValueError as e:
        raise HierarchyInputError(f"{edges_path.name}: {e}") from e
