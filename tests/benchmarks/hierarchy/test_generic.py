from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks.hierarchy.generic import HierarchyInputError, load_hierarchy


def _write(tmp_path: Path, edges: str, labels: list[object] | str) -> tuple[Path, Path]:
    e, lab = tmp_path / "edges.csv", tmp_path / "labels.jsonl"
    e.write_text(edges, encoding="utf-8")
    text = labels if isinstance(labels, str) else "\n".join(json.dumps(r) for r in labels) + "\n"
    lab.write_text(text, encoding="utf-8")
    return e, lab


GOOD_LABELS: list[object] = [
    {"node": "vehicle", "labels": ["car", "bus", "bike"]},
    {"node": "motor", "labels": ["car", "bus", "car"]},
    {"node": "pedal", "labels": ["bike"]},
]


def test_loads_nodes_labels_and_edges(tmp_path: Path) -> None:
    h = load_hierarchy(
        *_write(tmp_path, "parent,child\nvehicle,motor\nvehicle,pedal\n", GOOD_LABELS)
    )
    assert h.names == ("vehicle", "motor", "pedal")
    assert h.labels[1] == ("bus", "car")  # duplicates dropped, sorted
    assert set(h.edges) == {(0, 1), (0, 2)}
    assert h.label_text["car"] == "car"


def test_accepts_bom_blank_lines_and_duplicate_edges(tmp_path: Path) -> None:
    edges = "\ufeffParent,Child\nvehicle,motor\n\nvehicle,motor\n"
    h = load_hierarchy(*_write(tmp_path, edges, GOOD_LABELS))
    assert h.edges == ((0, 1),)


@pytest.mark.parametrize(
    ("edges", "labels", "message"),
    [
        ("from,to\n", GOOD_LABELS, r"edges.csv line 1: header must be 'parent,child'"),
        ("parent,child\nvehicle,plane\n", GOOD_LABELS, r"edges.csv line 2: node 'plane' has no"),
        ("parent,child\nvehicle\n", GOOD_LABELS, r"edges.csv line 2: expected 2 columns"),
        ("parent,child\nmotor,motor\n", GOOD_LABELS, r"line 2: 'motor' is its own parent"),
        ("parent,child\nmotor,pedal\npedal,motor\n", GOOD_LABELS, r"edges.csv: .*cycle"),
        (
            "parent,child\n",
            '{"node": "a", "labels": ["x"]}\n{oops\n',
            r"labels.jsonl line 2: invalid",
        ),
        ("parent,child\n", '{"node": "a"}\n', r"labels.jsonl line 1: expected"),
        ("parent,child\n", '{"node": "a", "labels": []}\n', r"line 1: labels must be a non-empty"),
        ("parent,child\n", '{"node": "a", "labels": [3]}\n', r"line 1: label must be a non-empty"),
        ("parent,child\n", '{"node": "", "labels": ["x"]}\n', r"line 1: node must be"),
        (
            "parent,child\n",
            '{"node": "a", "labels": ["x"]}\n{"node": "a", "labels": ["y"]}\n',
            r"labels.jsonl line 2: node 'a' appears twice",
        ),
        ("parent,child\n", "\n", r"labels.jsonl: no nodes"),
        ("parent,child\n", '{"node": "a", "labels": ["' + "x" * 201 + '"]}\n', "longer than 200"),
    ],
)
def test_bad_input_is_reported_with_file_and_line(
    tmp_path: Path, edges: str, labels: list[object] | str, message: str
) -> None:
    with pytest.raises(HierarchyInputError, match=message):
        load_hierarchy(*_write(tmp_path, edges, labels))
