"""`bench scale`: the real containment train job on a Hub-like atlas of N datasets.

1. **The atlas.** N synthetic Hub-like datasets (`benchmarks.api_db.synthetic_records`: the
   catalog's real labels, noisy copies, digit sets and a Zipf tail) are stored through the
   crawler's repository calls. The label embeddings are random unit vectors seeded into the
   app's embedding cache under MiniLM's key (as `bench api` does), so the run measures the
   job, not two minutes of MiniLM encoding of synthetic names; card descriptions (for the
   opaque digit sets) are encoded by MiniLM for real.
2. **The job.** `backend.jobs.train.run_train`, exactly as `task2box train` runs it (both map
   models under `auto`, 2-D and 5-D, held-out validation, refit, neighbour tables, publish),
   in a child process (`benchmarks.scale_job`): each phase's wall time and the process's
   peak RSS are its own.
3. **Retrieval on the result**, as `bench retrieval` scores it, through `Placer.place` (what
   `POST /api/place` calls) on each published map: class subsets of 2 and 4 meaningful
   classes drawn from stored datasets (recall@1 of a dataset holding them all; a dataset
   sharing none ranked above a holder), and datasets the map never saw (generated with the
   atlas, never stored), placed from their labels and scored by nDCG@10 against counted
   coverage.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from backend.config import Settings
from backend.db import migrate, repository
from backend.db.engine import make_engine, make_session_factory, session_scope
from backend.records import DatasetRecord
from backend.representations.label_text import LabelTextEmbedder
from benchmarks.api_db import seed_embeddings, synthetic_records
from benchmarks.retrieval.metrics import holder_recall, ndcg, sharer_violation
from benchmarks.retrieval.runner import FittedAtlas, Truth, app_lists, subset_queries
from models.budget import estimate_peak_bytes
from models.targets import unique_labels

_BATCH = 1000
K = 10


@dataclass(frozen=True)
class ScaleConfig:
    """What to run."""

    datasets: int
    dims: tuple[int, ...] = (2, 5)
    map_model: str = "auto"
    device: str = "cpu"
    seed: int = 0
    unseen: int = 200  # datasets generated with the atlas but never stored
    query_sources: int = 300  # stored datasets whose class subsets are placed
    tau: float = 0.9


def _store(url: str, records: list[DatasetRecord]) -> None:
    migrate.upgrade(url)
    factory = make_session_factory(make_engine(url))
    now = datetime.now(UTC)
    for start in range(0, len(records), _BATCH):
        with session_scope(factory) as session:
            repository.save_crawl_batch(session, records[start : start + _BATCH], crawled_at=now)


def _run_job(workdir: Path, settings: dict[str, Any], dims: tuple[int, ...]) -> dict[str, Any]:
    spec, out = workdir / "job.json", workdir / "job-out.json"
    spec.write_text(json.dumps({"settings": settings, "dims": list(dims)}))
    subprocess.run(
        [sys.executable, "-m", "benchmarks.scale_job", str(spec), str(out)],
        check=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    report: dict[str, Any] = json.loads(out.read_text())
    return report


def _phase_table(report: dict[str, Any]) -> list[dict[str, Any]]:
    """Each phase's seconds and the peak RSS reached by its end."""
    phases = report["phases"]
    rows = []
    for k, phase in enumerate(phases):
        end = phases[k + 1] if k + 1 < len(phases) else None
        end_s = end["start_s"] if end else report["seconds"]
        peak = end["peak_rss_before"] if end else report["peak_rss"]
        rows.append(
            {
                "phase": phase["phase"],
                "seconds": round(end_s - phase["start_s"], 1),
                "peak_rss_gb": round(peak / 2**30, 2),
                "last": phase.get("last"),
            }
        )
    return rows


def _retrieval(
    settings: Settings,
    maps: dict[int, int],
    metrics: dict[int, dict[str, float]],
    stored: list[DatasetRecord],
    unseen: list[DatasetRecord],
    embedder: LabelTextEmbedder,
    config: ScaleConfig,
) -> list[dict[str, Any]]:
    truth = Truth(stored, embedder, config.tau)
    rng = np.random.default_rng(config.seed)
    sources = rng.choice(len(stored), size=min(config.query_sources, len(stored)), replace=False)
    queries = subset_queries([stored[i] for i in sources], (2, 4), 1, config.seed)
    rows = []
    for dim, map_id in sorted(maps.items()):
        fitted = FittedAtlas(settings, {dim: map_id}, metrics, 0.0)
        app, map_only = app_lists(fitted, dim, embedder)
        for system, lists in (("app", app), ("map only", map_only)):
            r1, violations, n_in, n_contains = [], [], [], []
            for query in queries:
                forward, _ = truth.coverage(query.labels)
                holders = {d for d, y in forward.items() if y >= 1.0 - 1e-9}
                contained_in, _ = lists(query.labels)
                r1.append(holder_recall(contained_in, holders, 1))
                violations.append(sharer_violation(contained_in, holders, set(forward)))
            for record in unseen:
                forward, reverse = truth.coverage(record.labels)
                contained_in, contains = lists(record.labels)
                n_in.append(ndcg(contained_in, forward, K))
                n_contains.append(ndcg(contains, reverse, K))
            rows.append(
                {
                    "map": f"{dim}-D ({metrics[dim].get('model', '?')})",
                    "system": system,
                    "queries": len(queries),
                    "recall@1_2plus": float(np.mean(r1)) if r1 else None,
                    "sharer_above_holder": float(np.mean(violations)) if violations else None,
                    "unseen": len(unseen),
                    "unseen_ndcg_contained_in": float(np.mean(n_in)) if n_in else None,
                    "unseen_ndcg_contains": float(np.mean(n_contains)) if n_contains else None,
                }
            )
    return rows


def run_scale_bench(workdir: Path, config: ScaleConfig) -> dict[str, Any]:
    """Builds the atlas in `workdir`, runs the job, scores retrieval; returns the report."""
    workdir.mkdir(parents=True, exist_ok=True)
    records = synthetic_records(config.datasets + config.unseen, config.seed)
    stored, unseen = records[: config.datasets], records[config.datasets :]
    db = workdir / "atlas.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    url = f"sqlite:///{db}"
    data_dir = workdir / "data"
    cache_dir = data_dir / "cache"
    # A cold cache: texts a previous run encoded (card descriptions) would hide their cost.
    shutil.rmtree(cache_dir, ignore_errors=True)
    cache_dir.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    _store(url, stored)
    seed_embeddings(cache_dir, unique_labels([r.labels for r in records]), config.seed)
    build_s = time.perf_counter() - started
    overrides: dict[str, Any] = {
        "database_url": url,
        "data_dir": str(data_dir),
        "map_dims": list(config.dims),
        "map_model": config.map_model,
        "device": config.device,
        "label_match_cosine": config.tau,
        "log_level": "WARNING",
    }
    job = _run_job(workdir, overrides, config.dims)
    summary = job["summary"]
    maps = {m["dim"]: m["map_id"] for m in summary["maps"] if m["status"] == "published"}
    metrics = {m["dim"]: m["metrics"] for m in summary["maps"]}
    settings = Settings(_env_file=None, **overrides)
    with session_scope(make_session_factory(make_engine(url))) as session:
        for dim, map_id in maps.items():
            record = repository.get_map(session, map_id=map_id)
            if record is not None:
                metrics[dim]["model"] = record.params.get("model")
    embedder = LabelTextEmbedder.from_cache_dir(cache_dir)
    started = time.perf_counter()
    retrieval = _retrieval(settings, maps, metrics, stored, unseen, embedder, config)
    return {
        "datasets": config.datasets,
        "label_slots": sum(len(r.labels) for r in stored),
        "unique_labels": len(unique_labels([r.labels for r in stored])),
        "positive_pairs": summary["positive_pairs"],
        "device": config.device,
        "build_s": round(build_s, 1),
        "job_s": round(job["seconds"], 1),
        "peak_rss_gb": round(job["peak_rss"] / 2**30, 2),
        # What the job's memory guard estimated from the same counts (meant to be above).
        "estimated_peak_gb": round(
            estimate_peak_bytes(
                config.datasets,
                summary["positive_pairs"],
                len(unique_labels([r.labels for r in stored])),
            ).total
            / 2**30,
            2,
        ),
        "phases": _phase_table(job),
        "maps": [
            {"dim": m["dim"], "status": m["status"], "error": m.get("error"), **m["metrics"]}
            for m in summary["maps"]
        ],
        "retrieval": retrieval,
        "retrieval_s": round(time.perf_counter() - started, 1),
    }
