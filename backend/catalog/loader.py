"""Reads the packaged `datasets.json` into `DatasetRecord(source="catalog")`s."""

from __future__ import annotations

import json
from datetime import date
from functools import lru_cache
from importlib import resources
from typing import Any

from backend.records import MAX_ID_CHARS, MAX_LABEL_CHARS, DatasetRecord

_FILE = "datasets.json"


def _record(entry: dict[str, Any]) -> DatasetRecord:
    dataset_id = entry["id"]
    labels = tuple(entry["labels"])
    if not dataset_id or len(dataset_id) > MAX_ID_CHARS or "/" not in dataset_id:
        raise ValueError(f"catalog id must look like owner/name, got {dataset_id!r}")
    if not labels or any(not label or len(label) > MAX_LABEL_CHARS for label in labels):
        raise ValueError(f"catalog entry {dataset_id!r} has an empty or over-long label")
    if len(set(labels)) != len(labels):
        raise ValueError(f"catalog entry {dataset_id!r} repeats a label")
    splits = {str(k): int(v) for k, v in entry.get("splits", {}).items()}
    downloads, likes = _counts(dataset_id, entry)
    return DatasetRecord(
        id=dataset_id,
        status="ok",
        author=dataset_id.split("/", 1)[0],
        license=entry.get("license"),
        tags=("task_categories:image-classification",),
        labels=labels,
        label_column=entry.get("label_column"),
        splits=splits,
        num_examples=sum(splits.values()) if splits else None,
        downloads=downloads,
        likes=likes,
        pretty_name=entry.get("pretty_name"),
        description=entry.get("description"),
        source="catalog",
    )


def _counts(dataset_id: str, entry: dict[str, Any]) -> tuple[int, int]:
    """Download and like counts, which the catalog holds only with the date they were read.

    A count without its date (or a date without counts) is refused: a number whose age is
    unknown would rank datasets as if it were current.
    """
    keys = ("downloads", "likes", "counts_read_on")
    present = [key in entry for key in keys]
    if not any(present):
        return 0, 0
    if not all(present):
        raise ValueError(f"catalog entry {dataset_id!r} must give all of {keys} or none")
    try:
        date.fromisoformat(str(entry["counts_read_on"]))
    except ValueError as exc:
        raise ValueError(
            f"catalog entry {dataset_id!r}: counts_read_on must be YYYY-MM-DD, "
            f"got {entry['counts_read_on']!r}"
        ) from exc
    downloads, likes = entry["downloads"], entry["likes"]
    for name, value in (("downloads", downloads), ("likes", likes)):
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise ValueError(
                f"catalog entry {dataset_id!r}: {name} must be an int >= 0, got {value!r}"
            )
    return downloads, likes


@lru_cache(maxsize=1)
def load_catalog() -> tuple[DatasetRecord, ...]:
    """The catalog's datasets, validated, in file order.

    Raises:
        ValueError: if the packaged file is malformed (a packaging bug, never user input).
    """
    text = resources.files("backend.catalog").joinpath(_FILE).read_text(encoding="utf-8")
    records = tuple(_record(entry) for entry in json.loads(text)["datasets"])
    ids = [r.id for r in records]
    if len(set(ids)) != len(ids):
        raise ValueError("the catalog lists a dataset id twice")
    return records
