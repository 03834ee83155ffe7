"""The parsers against 74 real Hub datasets from ../shared/data/hf (skipped when absent).

Each row becomes card YAML (`dataset_info`, dict-form names, as `push_to_hub` writes it) and a
viewer `/info` answer; both must give back the row's labels, label column and sizes.
"""

from __future__ import annotations

from typing import Any

import pytest

from backend.crawler.features import choose_labels, viewer_configs
from backend.crawler.parse import build_record, card_label_choice
from tests.fakehub_catalog import card_info, shared_rows, viewer_body

ROWS = shared_rows()
pytestmark = [
    pytest.mark.shared_data,
    pytest.mark.skipif(not ROWS, reason="../shared/data/hf/datasets.jsonl is absent"),
]


def _columns(row: dict[str, Any]) -> tuple[str, dict[str, list[str]], list[str]]:
    column = row["label_column"].removesuffix("[sequence]")
    columns = {column: row["labels"], **(row.get("other_label_columns") or {})}
    multi = [column] if row["label_column"].endswith("[sequence]") else []
    return column, columns, multi


@pytest.mark.parametrize("row", ROWS, ids=[r["id"] for r in ROWS])
def test_card_yaml_gives_back_labels_column_and_sizes(row: dict[str, Any]) -> None:
    column, columns, multi = _columns(row)
    splits = row.get("num_examples") or {}
    raw = {
        "id": row.get("hub_id_current") or row["id"],
        "cardData": {
            "dataset_info": card_info(
                columns, splits, config=row.get("config") or "default", multi_label=multi
            )
        },
    }
    record = build_record(raw, labels=card_label_choice(raw, 5000), max_labels=5000)
    assert record.status == "ok"
    assert list(record.labels) == row["labels"]
    assert record.label_column == column
    assert record.splits == splits
    assert record.num_examples == (sum(splits.values()) if splits else None)


@pytest.mark.parametrize("row", ROWS, ids=[r["id"] for r in ROWS])
def test_viewer_info_gives_back_labels(row: dict[str, Any]) -> None:
    column, columns, _ = _columns(row)
    body = viewer_body(
        columns, row.get("num_examples") or {}, config=row.get("config") or "default"
    )
    choice = choose_labels(viewer_configs(body["dataset_info"], 5000))
    assert choice is not None
    assert list(choice.column.names) == row["labels"] and choice.column.name == column


def test_edge_cases_present_in_the_real_data() -> None:
    by_id = {r["id"]: r for r in ROWS}
    assert len(by_id["imagenet-1k"]["labels"]) == 1000
    assert by_id["cifar100"]["label_column"] == "fine_label"
    assert any(len(r["labels"]) == 1 for r in ROWS)
    assert {"label", "labels", "target"} <= {r["label_column"] for r in ROWS}


def test_a_cap_below_imagenet_skips_it() -> None:
    row = next(r for r in ROWS if r["id"] == "imagenet-1k")
    raw = {
        "id": "ILSVRC/imagenet-1k",
        "cardData": {"dataset_info": card_info({"label": row["labels"]}, {})},
    }
    record = build_record(raw, labels=card_label_choice(raw, 999), max_labels=999)
    assert (record.status, record.skip_reason) == ("skipped", "too_many_labels")
