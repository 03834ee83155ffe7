"""A 10k-dataset atlas for the API benchmark: synthetic Hub-like label sets, synthetic boxes.

Datasets are stored through the repository exactly as the crawler stores them (batched
`save_crawl_batch`), with label sets from `benchmarks.targets.synthetic_label_sets` (the
catalog's real labels plus a Zipf tail). The maps are **synthetic**: box corners drawn at
random (log-normal sides), published as a 2-D map (the picture) and a 5-D map (the scores),
with no network. Request cost does not depend on where boxes lie (scoring is O(N·d) whatever
the values), and training a 10k map on a shared 2-core machine would take longer than the
benchmark itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from backend.db import migrate, repository
from backend.db.engine import make_engine, make_session_factory, session_scope
from backend.jobs.publish import save_neighbor_table
from backend.records import DatasetRecord
from benchmarks.targets import synthetic_label_sets

_LICENSES = ("mit", "apache-2.0", "cc-by-4.0", "cc-by-sa-4.0", "cc0-1.0", "other", None)
_BATCH = 1000


@dataclass(frozen=True)
class BenchAtlas:
    """The database and what the load generator needs to know about it."""

    url: str
    dataset_ids: list[str]
    picture_map: int
    score_map: int
    label_slots: int


def _records(n: int, seed: int) -> list[DatasetRecord]:
    rng = np.random.default_rng(seed)
    label_sets = synthetic_label_sets(n, seed)
    downloads = (1e6 / np.arange(1, n + 1) ** 1.1).astype(int)
    records = []
    for i, labels in enumerate(label_sets):
        unique = tuple(dict.fromkeys(labels))
        train = int(rng.lognormal(np.log(5000), 1.5)) + 10
        records.append(
            DatasetRecord(
                id=f"org-{i % 997}/dataset-{i:05d}",
                author=f"org-{i % 997}",
                sha=f"{i:040x}",
                downloads=int(downloads[i]),
                likes=int(downloads[i] // 100),
                license=_LICENSES[int(rng.integers(len(_LICENSES)))],
                labels=unique,
                label_column="label",
                splits={"train": train, "test": train // 5},
                num_examples=train + train // 5,
                pretty_name=f"Dataset {i}",
            )
        )
    return records


def _publish_synthetic_map(
    url: str, ids: list[str], dim: int, rng: np.random.Generator, *, neighbor_table: bool
) -> int:
    lo = rng.normal(0.0, 3.0, size=(len(ids), dim)).astype(np.float32)
    hi = lo + rng.lognormal(-0.5, 0.8, size=(len(ids), dim)).astype(np.float32)
    factory = make_session_factory(make_engine(url))
    with session_scope(factory) as session:
        record = repository.create_map(
            session,
            relation="containment",
            dim=dim,
            representation="label-text",
            params={"synthetic": True, "beta": 10.0, "gumbel_beta": 0.05},
        )
        repository.save_map_boxes(session, map_id=record.id, dataset_ids=ids, lo=lo, hi=hi)
        if neighbor_table:  # as a training job does
            save_neighbor_table(session, map_id=record.id, dataset_ids=ids, lo=lo, hi=hi)
        repository.finish_map(session, map_id=record.id, metrics={})
        repository.publish_map(session, map_id=record.id)
    return record.id


def build_atlas(
    path: Path, n: int = 10_000, seed: int = 0, *, neighbor_table: bool = True
) -> BenchAtlas:
    """Creates (or replaces) the benchmark database at `path`; `neighbor_table=False` leaves
    the maps without the precomputed rankings (maps trained before they existed)."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    url = f"sqlite:///{path}"
    migrate.upgrade(url)
    records = _records(n, seed)
    factory = make_session_factory(make_engine(url))
    now = datetime.now(UTC)
    for start in range(0, n, _BATCH):
        with session_scope(factory) as session:
            repository.save_crawl_batch(session, records[start : start + _BATCH], crawled_at=now)
    ids = [r.id for r in records]
    rng = np.random.default_rng(seed + 1)
    picture = _publish_synthetic_map(url, ids, 2, rng, neighbor_table=neighbor_table)
    score = _publish_synthetic_map(url, ids, 5, rng, neighbor_table=neighbor_table)
    return BenchAtlas(
        url=url,
        dataset_ids=ids,
        picture_map=picture,
        score_map=score,
        label_slots=sum(len(r.labels) for r in records),
    )
