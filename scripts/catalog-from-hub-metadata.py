#!/usr/bin/env python3
"""Grow the built-in catalog from real Hub metadata (`../shared/data/hf/datasets.jsonl`).

Adds every dataset there that the catalog lacks and that has usable labels: tagged
`image-classification`, an `owner/name` id (today's id where the dataset moved), at least two
distinct, non-empty class names. Only facts are taken (id, name, licence, label column,
split sizes, the class names in label-id order) and each entry says where they came from;
entries already in the catalog, written by hand, are kept as they are. The metadata has no
download or like counts, so none are written: the catalog records them only with the date
they were read (`downloads`, `likes`, `counts_read_on`), never guessed.

    scripts/catalog-from-hub-metadata.py [PATH/TO/datasets.jsonl]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CATALOG = ROOT / "backend" / "catalog" / "datasets.json"
DEFAULT_SOURCE = ROOT.parent / "shared" / "data" / "hf" / "datasets.jsonl"
MAX_LABEL_CHARS = 200  # backend/records.py
MAX_PRETTY_NAME_CHARS = 120


def usable(row: dict[str, Any]) -> str | None:
    """The catalog id of a metadata row, or None when its labels are not usable."""
    hub_id = row.get("hub_id_current") or row["id"]
    labels = row.get("labels") or []
    if "image-classification" not in (row.get("task_categories") or []) or "/" not in hub_id:
        return None
    if len(labels) < 2 or len(set(labels)) != len(labels):
        return None
    if any(not label or label != label.strip() or len(label) > MAX_LABEL_CHARS for label in labels):
        return None
    return str(hub_id)


def entry(hub_id: str, row: dict[str, Any]) -> dict[str, Any]:
    """A catalog entry holding the row's facts."""
    license_ = row.get("license")
    if isinstance(license_, list):
        license_ = license_[0] if license_ else None
    out: dict[str, Any] = {"id": hub_id}
    if row.get("pretty_name"):
        out["pretty_name"] = str(row["pretty_name"])[:MAX_PRETTY_NAME_CHARS]
    if license_:
        out["license"] = str(license_)
    if row.get("label_column"):
        out["label_column"] = row["label_column"]
    splits = row.get("num_examples")
    if isinstance(splits, dict) and splits and all(int(v) > 0 for v in splits.values()):
        out["splits"] = {str(k): int(v) for k, v in splits.items()}
    out["labels"] = list(row["labels"])
    out["facts_from"] = row.get("source") or "Hub dataset card metadata"
    return out


def main(argv: list[str]) -> int:
    source = Path(argv[1]) if len(argv) > 1 else DEFAULT_SOURCE
    if not source.is_file():
        print(f"no metadata at {source}", file=sys.stderr)  # noqa: T201
        return 2
    catalog = json.loads(CATALOG.read_text(encoding="utf-8"))
    known = {e["id"] for e in catalog["datasets"]}
    added = 0
    for line in source.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        hub_id = usable(row)
        if hub_id is None or hub_id in known:
            continue
        catalog["datasets"].append(entry(hub_id, row))
        known.add(hub_id)
        added += 1
    CATALOG.write_text(json.dumps(catalog, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"added {added}; the catalog holds {len(catalog['datasets'])}")  # noqa: T201
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
