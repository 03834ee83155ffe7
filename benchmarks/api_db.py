"""A 10k-dataset atlas for the API benchmark: synthetic Hub-like label sets, synthetic boxes.

For `POST /api/place`, each map also stores a label-set network with random weights (a
forward pass costs the same whatever the weights), the score map stores the cosine label
matches of its vocabulary, and the server's embedding cache is seeded with a random unit
vector per label, under the MiniLM version key: a request then does exactly the work a
trained atlas makes it do (cache lookups, the query × vocabulary cosine, counted coverage,
the network, the ranking) without two minutes of MiniLM encoding at build time.

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
from backend.representations.embedding_cache import EmbeddingCache
from backend.representations.label_text import EMBEDDING_DIM, model_version, prompt_for
from benchmarks.targets import synthetic_embeddings, synthetic_label_sets
from models.setbox import SetBoxConfig, SetBoxNet
from models.setbox_map import SetBoxPlacer
from models.targets import cosine_label_pairs, unique_labels

_LICENSES = ("mit", "apache-2.0", "cc-by-4.0", "cc-by-sa-4.0", "cc0-1.0", "other", None)
_BATCH = 1000
_COSINE = 0.9


@dataclass(frozen=True)
class BenchAtlas:
    """The database and what the load generator needs to know about it."""

    url: str
    dataset_ids: list[str]
    picture_map: int
    score_map: int
    label_slots: int
    label_sets: list[tuple[str, ...]]  # what `/place` bodies are drawn from


def synthetic_records(n: int, seed: int) -> list[DatasetRecord]:
    """`n` Hub-like dataset records (labels from `synthetic_label_sets`, Zipf downloads)."""
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
    url: str,
    ids: list[str],
    dim: int,
    rng: np.random.Generator,
    *,
    neighbor_table: bool,
    label_pairs: list[tuple[str, str]] | None = None,
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
            params={"synthetic": True, "beta": 10.0, "gumbel_beta": 0.05, "model": "set"},
        )
        if label_pairs is not None:
            repository.save_map_label_matches(
                session, map_id=record.id, threshold=_COSINE, pairs=label_pairs
            )
        repository.save_map_boxes(session, map_id=record.id, dataset_ids=ids, lo=lo, hi=hi)
        if neighbor_table:  # as a training job does
            save_neighbor_table(session, map_id=record.id, dataset_ids=ids, lo=lo, hi=hi)
        config = SetBoxConfig(EMBEDDING_DIM, dim, (256,), input_rank=64)
        network = SetBoxPlacer(SetBoxNet(config), 10.0, None)
        repository.finish_map(session, map_id=record.id, metrics={}, checkpoint=network.to_bytes())
        repository.publish_map(session, map_id=record.id)
    return record.id


def seed_embeddings(cache_dir: Path, vocab: list[str], seed: int) -> np.ndarray:
    """Random unit vectors for `vocab` in the server's embedding cache (as MiniLM's), with
    5% near-synonyms so some labels match by cosine; returns them."""
    emb = synthetic_embeddings(vocab, np.random.default_rng(seed))
    emb /= np.linalg.norm(emb, axis=1, keepdims=True)
    cache = EmbeddingCache(cache_dir / "embeddings.sqlite")
    cache.put_many(model_version(), {prompt_for(v): e for v, e in zip(vocab, emb, strict=True)})
    return emb


def build_atlas(
    path: Path,
    n: int = 10_000,
    seed: int = 0,
    *,
    neighbor_table: bool = True,
    cache_dir: Path | None = None,
) -> BenchAtlas:
    """Creates (or replaces) the benchmark database at `path`; `neighbor_table=False` leaves
    the maps without the precomputed rankings (maps trained before they existed). With
    `cache_dir` (the server's `T2B_DATA_DIR/cache`), its embedding cache is seeded and the
    score map keeps cosine label matches, so `/place` can be measured."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    url = f"sqlite:///{path}"
    migrate.upgrade(url)
    records = synthetic_records(n, seed)
    factory = make_session_factory(make_engine(url))
    now = datetime.now(UTC)
    for start in range(0, n, _BATCH):
        with session_scope(factory) as session:
            repository.save_crawl_batch(session, records[start : start + _BATCH], crawled_at=now)
    ids = [r.id for r in records]
    rng = np.random.default_rng(seed + 1)
    label_pairs = None
    if cache_dir is not None:
        vocab = unique_labels([r.labels for r in records])
        label_pairs = cosine_label_pairs(vocab, seed_embeddings(cache_dir, vocab, seed), _COSINE)
    picture = _publish_synthetic_map(url, ids, 2, rng, neighbor_table=neighbor_table)
    score = _publish_synthetic_map(
        url, ids, 5, rng, neighbor_table=neighbor_table, label_pairs=label_pairs
    )
    return BenchAtlas(
        url=url,
        dataset_ids=ids,
        picture_map=picture,
        score_map=score,
        label_slots=sum(len(r.labels) for r in records),
        label_sets=[r.labels for r in records],
    )
