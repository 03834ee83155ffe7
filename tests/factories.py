"""Test factories: records built the way the crawler would build them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from backend.records import DatasetRecord

T0 = datetime(2025, 1, 1, tzinfo=UTC)


def dataset_record(dataset_id: str = "org/pets", **overrides: Any) -> DatasetRecord:
    """An `ok` Hub dataset with three labels unless overridden."""
    fields: dict[str, Any] = {
        "id": dataset_id,
        "author": dataset_id.split("/")[0] if "/" in dataset_id else None,
        "sha": "a" * 40,
        "last_modified": T0,
        "downloads": 10,
        "likes": 1,
        "license": "mit",
        "tags": ("task_categories:image-classification",),
        "labels": ("cat", "dog", "bird"),
        "label_column": "label",
        "splits": {"train": 90, "test": 10},
        "num_examples": 100,
        "pretty_name": dataset_id.split("/")[-1],
    }
    fields.update(overrides)
    return DatasetRecord(**fields)
