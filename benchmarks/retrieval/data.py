"""The benchmark's datasets: the built-in catalog plus `../shared/data/hf` (when present).

Each becomes a `DatasetRecord`, stored through the repository as the crawler stores it, so
the benchmark trains and queries the app's own code paths.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

from backend.catalog.loader import load_catalog
from backend.records import DatasetRecord

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_SHARED_HF = ROOT.parent / "shared" / "data" / "hf"
_HF_FILES = ("datasets.jsonl",)
# A class name that means nothing alone: digits, single characters, `LABEL_3`, `class 7`.
_OPAQUE = re.compile(r"^\s*(?:(?:label|class|cls|category)[\s_\-]*)?\d+\s*$|^\s*\w\s*$", re.I)


def meaningful(label: str) -> bool:
    """Whether a class name names something (queries are drawn from such names only)."""
    return sum(ch.isalpha() for ch in label) >= 2 and not _OPAQUE.match(label)


def _hf_record(entry: dict[str, object], rank: int) -> DatasetRecord | None:
    labels = entry.get("labels")
    if not isinstance(labels, list) or not labels:
        return None
    dataset_id = str(entry.get("hub_id_current") or entry["id"])
    splits_raw = entry.get("num_examples")
    splits = (
        {str(k): int(v) for k, v in splits_raw.items() if isinstance(v, int)}
        if isinstance(splits_raw, dict)
        else {}
    )
    return DatasetRecord(
        id=dataset_id,
        author=dataset_id.split("/")[0] if "/" in dataset_id else None,
        sha=hashlib.sha1(dataset_id.encode()).hexdigest(),
        downloads=max(0, 1000 - rank),
        labels=tuple(dict.fromkeys(str(label) for label in labels)),
        label_column=str(entry.get("label_column") or "label"),
        splits=splits,
        num_examples=sum(splits.values()) or None,
        pretty_name=str(entry.get("pretty_name") or dataset_id),
        source="catalog",
    )


def load_records(shared_hf: Path | None = DEFAULT_SHARED_HF) -> tuple[list[DatasetRecord], bool]:
    """The catalog's datasets with labels, then the shared fixtures' (ids already in the
    catalog are skipped); and whether the fixtures were found."""
    records = [r for r in load_catalog() if r.labels]
    seen = {r.id for r in records}
    found = shared_hf is not None and (shared_hf / _HF_FILES[0]).is_file()
    if found and shared_hf is not None:
        for name in _HF_FILES:
            lines = (shared_hf / name).read_text(encoding="utf-8").splitlines()
            for rank, line in enumerate(lines):
                record = _hf_record(json.loads(line), rank) if line.strip() else None
                if record is not None and record.id not in seen:
                    seen.add(record.id)
                    records.append(record)
    return records, found
