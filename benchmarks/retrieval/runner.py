"""`bench retrieval`: the related-datasets lists a user reads, against counted coverage.

Three protocols, each run through the app's own code (the repository, the train job, the
map store and `Placer.place`, which `POST /api/place` calls):

1. **Class-subset queries.** For every dataset with at least 5 meaningful classes, seeded
   random subsets of 1, 2, 4 and 8 of them are placed. A *holder* is a dataset holding every
   queried class (by the app's matching rule). Scored: recall@1 and @3 of a holder in
   `contained_in`, and the share of queries where a dataset sharing none of the classes
   ranks above a holder.
2. **Unseen datasets.** 10% of the datasets are held out, the maps are fitted on the rest,
   and each held-out dataset is placed from its labels. Its `contained_in` and `contains`
   lists are scored by nDCG@10 with each dataset's counted coverage as its gain.
3. **Map fidelity.** How far the drawn boxes agree with counted containment (the map's own
   `fidelity_*` metrics, F1 at 0.5 and Spearman).

Systems: each map model (`vector`, `set`) as the app serves it (counted coverage first,
then the map), the same map's boxes alone (`map only`: the ranking a user would read off the
picture, and what the app did before it counted coverage), and counted coverage alone.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from backend import schemas
from backend.config import Settings
from backend.db import migrate, repository
from backend.db.engine import make_engine, make_session_factory, session_scope
from backend.jobs.train import TrainRequest, run_train
from backend.records import DatasetRecord
from backend.representations.label_text import LabelTextEmbedder
from backend.serving.map_store import MapStore
from backend.serving.place import Placer
from benchmarks.retrieval.data import load_records, meaningful
from benchmarks.retrieval.metrics import holder_recall, ndcg, sharer_violation
from models.coverage import CoverageIndex
from models.opaque import opaque_keys
from models.ranking import rank
from models.targets import cosine_label_pairs, normalize_label, unique_labels

log = logging.getLogger(__name__)

MIN_MEANINGFUL = 5
K = 10
# Labels longer than the API accepts are cut as a client would have to cut them.
_MAX_LABEL_CHARS = schemas.MAX_PLACE_LABEL_CHARS


@dataclass(frozen=True)
class RetrievalConfig:
    """What to run; epochs of None use the app's defaults."""

    dims: tuple[int, ...] = (2, 5)
    models: tuple[str, ...] = ("vector", "set")
    sizes: tuple[int, ...] = (1, 2, 4, 8)
    per_size: int = 2
    holdout: float = 0.1
    vector_epochs: int | None = None
    set_epochs: int | None = None
    seed: int = 0
    shared_hf: Path | None = None


@dataclass(frozen=True)
class Query:
    labels: tuple[str, ...]
    source: str


@dataclass
class Scores:
    """Per-system accumulators."""

    recall1: dict[int, list[float]] = field(default_factory=dict)
    recall3: dict[int, list[float]] = field(default_factory=dict)
    violation: dict[int, list[float]] = field(default_factory=dict)
    ndcg_in: list[float] = field(default_factory=list)
    ndcg_contains: list[float] = field(default_factory=list)

    def add_query(
        self, size: int, ranked: Sequence[str], holders: set[str], sharers: set[str]
    ) -> None:
        self.recall1.setdefault(size, []).append(holder_recall(ranked, holders, 1))
        self.recall3.setdefault(size, []).append(holder_recall(ranked, holders, 3))
        self.violation.setdefault(size, []).append(sharer_violation(ranked, holders, sharers))

    def summary(self) -> dict[str, Any]:
        def mean(values: Sequence[float]) -> float | None:
            return float(np.mean(values)) if values else None

        multi = [s for s in self.recall1 if s >= 2]
        return {
            "recall@1": {str(s): mean(v) for s, v in sorted(self.recall1.items())},
            "recall@3": {str(s): mean(v) for s, v in sorted(self.recall3.items())},
            "recall@1_2plus": mean([x for s in multi for x in self.recall1[s]]),
            "recall@3_2plus": mean([x for s in multi for x in self.recall3[s]]),
            "sharer_above_holder": mean([x for v in self.violation.values() for x in v]),
            "unseen_ndcg_contained_in": mean(self.ndcg_in),
            "unseen_ndcg_contains": mean(self.ndcg_contains),
        }


def subset_queries(
    records: Sequence[DatasetRecord], sizes: Sequence[int], per_size: int, seed: int
) -> list[Query]:
    """Seeded random subsets of each dataset's meaningful classes (distinct by key)."""
    rng = np.random.default_rng(seed)
    out: list[Query] = []
    for record in records:
        by_key = {normalize_label(x): x for x in record.labels if meaningful(x)}
        names = list(by_key.values())
        if len(names) < MIN_MEANINGFUL:
            continue
        for size in sizes:
            if size > len(names):
                continue
            for _ in range(per_size):
                picked = rng.choice(len(names), size=size, replace=False)
                out.append(Query(tuple(names[i][:_MAX_LABEL_CHARS] for i in picked), record.id))
    return out


class Truth:
    """Counted coverage of any label list against a list of datasets, by the app's rule
    (text, or MiniLM cosine ≥ τ; opaque names never on their own)."""

    def __init__(
        self, records: Sequence[DatasetRecord], embedder: LabelTextEmbedder, tau: float
    ) -> None:
        sets = [r.labels for r in records]
        vocab = unique_labels(sets)
        self._emb = embedder.embed_labels(vocab)
        self._embedder = embedder
        self._tau = tau
        self.ids = [r.id for r in records]
        # The app's rule, opaque names included (a placed label list has no description to
        # corroborate them with).
        pairs = cosine_label_pairs(vocab, self._emb, tau) if tau < 1 else []
        self.index = CoverageIndex(sets, pairs, opaque=opaque_keys(sets))

    def coverage(self, labels: Sequence[str]) -> tuple[dict[str, float], dict[str, float]]:
        """({id: y(Q ⊆ B)}, {id: y(B ⊆ Q)}) for the datasets sharing a class."""
        hits = None
        if self._tau < 1:
            sims = self._embedder.embed_labels(labels) @ self._emb.T
            hits = [np.flatnonzero(row >= self._tau).tolist() for row in sims]
        got = self.index.coverage(self.index.label_query(labels, hits))
        forward = {self.ids[i]: float(got.forward[i]) for i in np.flatnonzero(got.forward)}
        reverse = {self.ids[i]: float(got.reverse[i]) for i in np.flatnonzero(got.reverse)}
        return forward, reverse


def _store(path: Path, records: Sequence[DatasetRecord]) -> str:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    url = f"sqlite:///{path}"
    migrate.upgrade(url)
    factory = make_session_factory(make_engine(url))
    with session_scope(factory) as session:
        repository.save_crawl_batch(session, list(records), crawled_at=datetime.now(UTC))
    return url


@dataclass
class FittedAtlas:
    """Maps the real train job published on an atlas (`bench scale` scores them too)."""

    settings: Settings
    maps: dict[int, int]  # dim -> map id
    metrics: dict[int, dict[str, float]]
    seconds: float


def _fit(
    url: str, data_dir: Path, model: str, config: RetrievalConfig, embedder: LabelTextEmbedder
) -> FittedAtlas:
    overrides: dict[str, Any] = {
        "database_url": url,
        "data_dir": data_dir,
        "map_dims": list(config.dims),
        "map_model": model,
        "log_level": "WARNING",
    }
    if config.vector_epochs is not None:
        overrides["train_epochs"] = config.vector_epochs
    if config.set_epochs is not None:
        overrides["set_epochs"] = config.set_epochs
    settings = Settings(_env_file=None, **overrides)
    started = time.perf_counter()
    summary = run_train(settings, TrainRequest(dims=config.dims), embedder=embedder)
    return FittedAtlas(
        settings,
        {m.dim: m.map_id for m in summary.maps},
        {m.dim: m.metrics for m in summary.maps},
        time.perf_counter() - started,
    )


Lists = Callable[[Sequence[str]], tuple[list[str], list[str]]]


def app_lists(fitted: FittedAtlas, dim: int, embedder: LabelTextEmbedder) -> tuple[Lists, Lists]:
    """(as the app answers `/place`, the placed box's map ranking alone)."""
    factory = make_session_factory(make_engine(fitted.settings.database_url))
    store = MapStore(factory)
    placer = Placer(fitted.settings, store, embedder=lambda: embedder)
    map_id = fitted.maps[dim]

    def place(labels: Sequence[str]) -> schemas.PlacePublic:
        # Constructed without validation: real class names can be longer than the API takes.
        request = schemas.PlaceRequest.model_construct(
            labels=list(labels), dataset_id=None, relation="containment", k=K, map=map_id
        )
        with session_scope(factory) as session:
            return placer.place(session, request)

    def app(labels: Sequence[str]) -> tuple[list[str], list[str]]:
        result = place(labels)
        return [it.id for it in result.contained_in], [it.id for it in result.contains]

    def map_only(labels: Sequence[str]) -> tuple[list[str], list[str]]:
        result = place(labels)
        loaded = store.get(map_id)
        lo, hi = np.asarray(result.box.lo), np.asarray(result.box.hi)
        return tuple(  # type: ignore[return-value]
            [loaded.ids[r] for r in rank(loaded.boxes, lo, hi, by=by, k=K).rows.tolist()]
            for by in ("p_in", "p_contains")
        )

    return app, map_only


def _coverage_lists(truth: Truth, order: dict[str, int]) -> Lists:
    def lists(labels: Sequence[str]) -> tuple[list[str], list[str]]:
        forward, reverse = truth.coverage(labels)
        return tuple(  # type: ignore[return-value]
            sorted(side, key=lambda d: (-side[d], order[d]))[:K] for side in (forward, reverse)
        )

    return lists


def run_retrieval_bench(
    workdir: Path, config: RetrievalConfig, embedder: LabelTextEmbedder, tau: float = 0.9
) -> dict[str, Any]:
    """Runs the three protocols; returns the rows and what they ran on."""
    records, shared_found = load_records(config.shared_hf)
    records.sort(key=lambda r: (-r.downloads, r.id))
    order = {r.id: i for i, r in enumerate(records)}
    rng = np.random.default_rng(config.seed)
    held = set(
        rng.choice(
            [r.id for r in records],
            size=max(1, round(config.holdout * len(records))),
            replace=False,
        ).tolist()
    )
    seen_records = [r for r in records if r.id not in held]
    truth = Truth(records, embedder, tau)
    seen_truth = Truth(seen_records, embedder, tau)
    queries = subset_queries(records, config.sizes, config.per_size, config.seed)
    workdir.mkdir(parents=True, exist_ok=True)
    full_url = _store(workdir / "full.db", records)
    seen_url = _store(workdir / "seen.db", seen_records)

    systems: dict[str, tuple[Lists, Lists]] = {}
    fits: dict[str, dict[str, Any]] = {}
    for model in config.models:
        full = _fit(full_url, workdir / "data", model, config, embedder)
        seen = _fit(seen_url, workdir / "data", model, config, embedder)
        for dim in config.dims:
            app_full, map_full = app_lists(full, dim, embedder)
            app_seen, map_seen = app_lists(seen, dim, embedder)
            systems[f"{model} {dim}-D"] = (app_full, app_seen)
            systems[f"{model} {dim}-D, map only"] = (map_full, map_seen)
            metrics = full.metrics[dim]
            fits[f"{model} {dim}-D"] = {
                "fit_s": full.seconds,
                "model": model,
                **{k: v for k, v in metrics.items() if k.startswith(("val_", "fidelity_"))},
            }
    coverage_full = _coverage_lists(truth, order)
    coverage_seen = _coverage_lists(seen_truth, order)
    systems["coverage alone"] = (coverage_full, coverage_seen)

    rows = []
    for name, (on_full, on_seen) in systems.items():
        scores = Scores()
        for query in queries:
            forward, _ = truth.coverage(query.labels)
            holders = {d for d, y in forward.items() if y >= 1.0 - 1e-9}
            contained_in, _ = on_full(query.labels)
            scores.add_query(len(query.labels), contained_in, holders, set(forward))
        for record in records:
            if record.id not in held:
                continue
            forward, reverse = seen_truth.coverage(record.labels)
            contained_in, contains = on_seen(record.labels)
            scores.ndcg_in.append(ndcg(contained_in, forward, K))
            scores.ndcg_contains.append(ndcg(contains, reverse, K))
        rows.append({"system": name, **scores.summary(), **fits.get(name, {})})
    return {
        "datasets": len(records),
        "shared_fixtures": shared_found,
        "queries": len(queries),
        "held_out": len(held),
        "rows": rows,
    }
