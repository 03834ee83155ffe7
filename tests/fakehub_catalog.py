"""What the fake Hub serves: fake dataset repos built from fixtures, shared data or a generator.

- `fixture_catalog()`: the hand-written `tests/fixtures/hub_datasets.json` (public facts, plus a
  few clearly synthetic `fixture/...` repos for the fault cases).
- `shared_catalog()`: `../shared/data/hf/datasets.jsonl` (74 real datasets), turned into Hub
  JSON at runtime; every other one keeps its labels only in the viewer's `/info`. Never copied.
- `synthetic_catalog(n)`: n generated datasets for the crawl benchmark.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

if TYPE_CHECKING:
    from tests.fakehub_rows import FakeRows

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures"
SHARED_HF = ROOT.parent / "shared" / "data" / "hf"
TASK_TAG = "task_categories:image-classification"


@dataclass
class FakeDataset:
    """One dataset repo on the fake Hub (and its viewer answer)."""

    id: str
    sha: str
    card_data: dict[str, Any] | None = None
    downloads: int = 0
    likes: int = 0
    tags: list[str] = field(default_factory=lambda: [TASK_TAG])
    gated: bool | str = False
    disabled: bool = False
    last_modified: str = "2024-01-01T00:00:00.000Z"
    files: dict[str, bytes] = field(default_factory=dict)
    viewer_info: dict[str, Any] | None = None  # the whole `/info` body; None answers 404
    # The viewer's `/splits`, `/rows` and images (`tests.fakehub_rows.FakeRows`); None: 404.
    viewer_rows: FakeRows | None = None

    def readme(self) -> bytes:
        """README.md: the card YAML between `---` fences, then a short body."""
        header = (
            f"---\n{yaml.safe_dump(self.card_data, sort_keys=False)}---\n" if self.card_data else ""
        )
        return (header + f"\n# {self.id}\n").encode()

    def repo_files(self) -> dict[str, bytes]:
        """Every file of the repo at its sha, README included."""
        return {"README.md": self.readme(), **self.files}

    def siblings(self) -> list[dict[str, str]]:
        # From the names alone: rendering the README (YAML) per listed item is slow.
        return [{"rfilename": name} for name in sorted({"README.md", *self.files})]


def sha_of(*parts: object) -> str:
    """A stable fake 40-hex commit sha."""
    return hashlib.sha1("|".join(map(str, parts)).encode()).hexdigest()


def names_dict(labels: Sequence[str]) -> dict[str, str]:
    """Card YAML's `names: {'0': ..., '1': ...}` form, as `push_to_hub` writes it."""
    return {str(i): name for i, name in enumerate(labels)}


def card_info(
    columns: dict[str, Sequence[str]],
    splits: dict[str, int],
    *,
    config: str = "default",
    multi_label: Iterable[str] = (),
) -> dict[str, Any]:
    """A `dataset_info` entry with an image column and one ClassLabel per `columns` item."""
    multi = set(multi_label)
    features: list[dict[str, Any]] = [{"name": "image", "dtype": "image"}]
    for name, labels in columns.items():
        spec = {"class_label": {"names": names_dict(labels)}}
        features.append({"name": name, "sequence" if name in multi else "dtype": spec})
    return {
        "config_name": config,
        "features": features,
        "splits": [{"name": k, "num_bytes": 0, "num_examples": v} for k, v in splits.items()],
    }


def viewer_body(
    columns: dict[str, Sequence[str]], splits: dict[str, int], *, config: str = "default"
) -> dict[str, Any]:
    """A complete viewer `/info` answer (shape from the viewer's OpenAPI examples)."""
    features: dict[str, Any] = {"image": {"_type": "Image"}}
    for name, labels in columns.items():
        features[name] = {"names": list(labels), "_type": "ClassLabel"}
    return {
        "dataset_info": {
            config: {
                "description": "",
                "features": features,
                "config_name": config,
                "splits": {k: {"name": k, "num_examples": v} for k, v in splits.items()},
            }
        },
        "pending": [],
        "failed": [],
        "partial": False,
    }


def fixture_catalog() -> list[FakeDataset]:
    """The hand-written fixtures, as fake repos."""
    entries = json.loads((FIXTURES / "hub_datasets.json").read_text(encoding="utf-8"))
    out = []
    for e in entries:
        files = {k: v.encode() for k, v in e.get("_files", {}).items()}
        out.append(
            FakeDataset(
                id=e["id"],
                sha=e.get("sha") or sha_of(e["id"]),
                card_data=e.get("cardData"),
                downloads=e.get("downloads", 0),
                likes=e.get("likes", 0),
                tags=e.get("tags", [TASK_TAG]),
                gated=e.get("gated", False),
                disabled=e.get("disabled", False),
                last_modified=e.get("lastModified", "2024-01-01T00:00:00.000Z"),
                files=files,
                viewer_info=e.get("_viewer"),
            )
        )
    return out


def shared_rows() -> list[dict[str, Any]]:
    """The rows of `../shared/data/hf/datasets.jsonl`; empty when absent."""
    path = SHARED_HF / "datasets.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def shared_catalog() -> list[FakeDataset]:
    """The 74 real datasets as Hub repos; odd rows keep their labels in the viewer only."""
    out = []
    for i, row in enumerate(shared_rows()):
        column = row["label_column"].removesuffix("[sequence]")
        columns: dict[str, Sequence[str]] = {column: row["labels"]}
        columns.update(row.get("other_label_columns") or {})
        splits = row.get("num_examples") or {}
        multi = [column] if row["label_column"].endswith("[sequence]") else []
        config = row.get("config") or "default"
        card: dict[str, Any] = {
            "license": row.get("license"),
            "pretty_name": row.get("pretty_name"),
        }
        viewer = None
        if i % 2 == 0:
            card["dataset_info"] = card_info(columns, splits, config=config, multi_label=multi)
        else:
            viewer = viewer_body(columns, splits, config=config)
        dataset_id = row.get("hub_id_current") or row["id"]
        out.append(
            FakeDataset(
                id=dataset_id,
                sha=sha_of(dataset_id),
                card_data=card,
                downloads=10_000 - i,
                tags=[TASK_TAG] + [f"license:{x}" for x in _as_list(row.get("license"))],
                viewer_info=viewer,
            )
        )
    return out


def _as_list(value: Any) -> list[str]:
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str)]
    return [value] if isinstance(value, str) else []


# Label vocabulary of the synthetic datasets.
_WORDS: tuple[str, ...] = tuple(
    " ".join(
        [
            "cat dog bird fish horse sheep cow bear zebra giraffe apple banana orange grape",
            "tulip rose daisy oak pine maple car truck bus train plane ship bicycle rocket",
            "chair table lamp clock cloud forest mountain river beach desert road bridge",
            "castle tower leaf stem root seed",
        ]
    ).split(" ")
)


def synthetic_catalog(
    n: int,
    *,
    seed: int = 0,
    viewer_fraction: float = 0.25,
    skipped_fraction: float = 0.05,
) -> list[FakeDataset]:
    """`n` datasets: most with card labels, `viewer_fraction` with labels in the viewer only,
    `skipped_fraction` gated or with a loading script (split evenly)."""
    if n < 0 or not 0 <= viewer_fraction + skipped_fraction <= 1:
        raise ValueError(
            f"bad synthetic mix: n={n}, fractions {viewer_fraction}, {skipped_fraction}"
        )
    rng = random.Random(seed)
    out = []
    for i in range(n):
        labels = rng.sample(_WORDS, rng.randint(2, 12))
        splits = {"train": rng.randint(10, 50_000), "test": rng.randint(10, 5_000)}
        dataset_id = f"synth-{i % 97}/dataset-{i}"
        ds = FakeDataset(id=dataset_id, sha=sha_of(dataset_id, seed), downloads=n - i, likes=i % 50)
        roll = rng.random()
        if roll < skipped_fraction / 2:
            ds.gated = "auto"
        elif roll < skipped_fraction:
            ds.files = {f"dataset-{i}.py": b"# loading script\n"}
        if roll < skipped_fraction + viewer_fraction and roll >= skipped_fraction:
            ds.card_data = {"license": "mit"}
            ds.viewer_info = viewer_body({"label": labels}, splits)
        else:
            ds.card_data = {"license": "mit", "dataset_info": card_info({"label": labels}, splits)}
        out.append(ds)
    return out
