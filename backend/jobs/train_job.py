"""The train job: representations → containment targets → fit → boxes → publish.

`task2box train` and `POST /api/jobs/train` both run `run_train`. Each map is registered as
`training`, written in full (boxes, metrics, network), marked `ready` and only then published,
in one transaction that also retires the map it replaces. A run that fails, or whose loss goes
NaN, marks its map `failed` and publishes nothing, so readers keep the previous good map.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from backend.config import Settings
from backend.db import repository
from backend.db.engine import SessionFactory, session_factory_for, session_scope
from backend.errors import AtlasError, InvalidInputError
from backend.jobs import train_data
from backend.jobs.publish import fail_map, publish_fitted_map
from backend.jobs.represent import compute_representations
from backend.jobs.threads import use_train_threads
from backend.jobs.train_inputs import (
    containment_targets_for,
    default_representer,
    load_training_data,
)
from backend.representations.base import Representer
from backend.representations.label_text import KIND as LABEL_TEXT
from backend.representations.label_text import LabelTextEmbedder
from models.metrics import average_precision, best_f1
from models.targets import SparseTargets
from models.train import TrainConfig, fit
from models.trained import TrainedBoxModel

log = logging.getLogger(__name__)

Progress = Callable[[int, int | None, str | None], None]
TRAINABLE_RELATIONS = ("containment", "transfer")


class TrainFailed(AtlasError, RuntimeError):
    """At least one map of the run failed (maps that succeeded are published)."""

    code = "training_failed"


@dataclass(frozen=True)
class TrainRequest:
    """What to fit: one map per dimension, all from the same features and targets."""

    relation: str = "containment"
    dims: tuple[int, ...] = (2,)
    representation: str = LABEL_TEXT
    epochs: int | None = None


@dataclass
class MapOutcome:
    """One map of the run: published (with its metrics) or failed (with the error)."""

    dim: int
    map_id: int
    status: str
    metrics: dict[str, float] = field(default_factory=dict)
    error: str | None = None


@dataclass
class TrainSummary:
    """What a run did."""

    relation: str
    representation: str
    datasets: int
    positive_pairs: int
    maps: list[MapOutcome] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


class _Phases:
    """One progress counter across phases: representations, targets, then each fit."""

    def __init__(self, progress: Progress | None, fits: int, epochs: int) -> None:
        self._progress = progress
        self._epochs_total = fits * epochs
        self._represent_total = 0
        self._base = 0
        self._last = 0

    def represent(self, done: int, total: int) -> None:
        self._represent_total = total
        self._emit(done, f"representations {done}/{total}")

    def step(self, message: str) -> None:
        log.info("%s", message)
        self._emit(self._base, message)

    def start_fit(self, fit_index: int, epochs: int) -> None:
        self._base = self._represent_total + fit_index * epochs

    def epoch(self, dim: int, epoch: int, epochs: int, loss: float) -> None:
        self._emit(self._base + epoch, f"{dim}-D map: epoch {epoch}/{epochs}, loss {loss:.4g}")

    def ranking(self, dim: int) -> Callable[[int, int], None]:
        """Progress of a map's neighbour ranking, after its fit (no epochs of its own; the
        job's callback persists at most every 0.5 s, and raises there on shutdown)."""

        def report(done: int, total: int) -> None:
            message = f"{dim}-D map: ranking related datasets {done}/{total}"
            self._emit(self._last, message)  # where the fit stopped: the counter never goes back

        return report

    def _emit(self, done: int, message: str) -> None:
        self._last = done
        if self._progress is not None:
            self._progress(done, self._represent_total + self._epochs_total, message)


def run_train(
    settings: Settings,
    request: TrainRequest,
    *,
    sessions: SessionFactory | None = None,
    progress: Progress | None = None,
    representer: Representer | None = None,
    embedder: LabelTextEmbedder | None = None,
    on_ready: Callable[[int], None] | None = None,
    on_published: Callable[[int], None] | None = None,
) -> TrainSummary:
    """Fits and publishes one map per dimension of `request`.

    Args:
        settings: epochs, validation fraction, label-match τ, device, cache dir.
        request: relation, dimensions, representation and epochs.
        sessions: the session factory; defaults to the one for `settings.database_url`.
        progress: called as (done, total, message) during the run.
        representer: computes the features (default: the `request.representation` one).
        embedder: embeds label texts for cosine label matching (default: MiniLM).
        on_ready: called with a map id once it is fully written, before it is published
            (the server warms its cache there, so the switch costs readers nothing).
        on_published: called with a map id right after its publishing commit (the server
            drops its cached list of maps there, so readers switch at once).

    Returns:
        The summary; every map in it is published.

    Raises:
        InvalidInputError: for a relation that cannot be trained here or a bad dimension.
        InvalidStateError: with fewer than 2 datasets that have labels and features.
        TrainFailed: if any map failed (the others are published).
    """
    if request.relation not in TRAINABLE_RELATIONS:
        raise InvalidInputError(
            f"training {request.relation!r} maps is not available; "
            f"trainable: {', '.join(TRAINABLE_RELATIONS)}"
        )
    if not request.dims or any(not 1 <= d <= 16 for d in request.dims):
        raise InvalidInputError(f"dims must be in 1..16, got {list(request.dims)}")
    if request.relation == "transfer":
        # Imported here: the transfer job builds on this module's records.
        from backend.jobs.transfer_train import run_transfer_train

        return run_transfer_train(
            settings,
            request,
            sessions=sessions,
            progress=progress,
            embedder=embedder,
            on_ready=on_ready,
        )
    factory = sessions or session_factory_for(settings.database_url)
    epochs = request.epochs or settings.train_epochs
    if representer is None:
        representer = default_representer(settings, request.representation)
    if embedder is None:
        embedder = LabelTextEmbedder.from_cache_dir(settings.cache_dir)
    refit = settings.train_refit and settings.train_val_fraction > 0
    phases = _Phases(progress, len(request.dims) * (2 if refit else 1), epochs)
    compute_representations(lambda: session_scope(factory), representer, progress=phases.represent)
    phases.step("containment targets")
    ids, x, label_sets = load_training_data(factory, representer.kind)
    targets = containment_targets_for(label_sets, embedder, settings.label_match_cosine)
    summary = TrainSummary(
        relation=request.relation,
        representation=representer.kind,
        datasets=len(ids),
        positive_pairs=int(targets.values.size),
    )
    log.info("training on %d datasets, %d positive pairs", len(ids), targets.values.size)
    for index, dim in enumerate(request.dims):
        outcome = _train_one(
            factory, settings, request, representer, dim, epochs, ids, x, targets,
            fit_index=index * (2 if refit else 1), phases=phases, on_ready=on_ready,
            on_published=on_published,
        )  # fmt: skip
        summary.maps.append(outcome)
    failed = [m for m in summary.maps if m.status != "published"]
    if failed:
        raise TrainFailed("; ".join(f"{m.dim}-D map {m.map_id} failed: {m.error}" for m in failed))
    return summary


def _train_one(
    factory: SessionFactory,
    settings: Settings,
    request: TrainRequest,
    representer: Representer,
    dim: int,
    epochs: int,
    ids: list[str],
    x: np.ndarray,
    targets: SparseTargets,
    *,
    fit_index: int,
    phases: _Phases,
    on_ready: Callable[[int], None] | None,
    on_published: Callable[[int], None] | None,
) -> MapOutcome:
    config = TrainConfig(
        dim=dim, epochs=epochs, device=settings.device, val_metric="f1",
        eval_every=min(10, epochs),
    )  # fmt: skip
    params = config.loss_params()
    with session_scope(factory) as session:
        record = repository.create_map(
            session,
            relation=request.relation,
            dim=dim,
            representation=representer.kind,
            params={
                "epochs": epochs,
                "loss": config.loss,
                "lr": config.lr,
                "hidden": list(config.hidden),
                "seed": config.seed,
                "beta": params.beta,
                "gumbel_beta": params.gumbel_beta,
                "representation_version": representer.version,
                "label_match_cosine": settings.label_match_cosine,
                "datasets": len(ids),
            },
        )
    try:
        model, metrics = _fit(settings, config, x, targets, dim, fit_index, phases)
        publish_fitted_map(
            factory,
            map_id=record.id,
            dataset_ids=ids,
            model=model,
            x=x,
            metrics=metrics,
            on_ready=on_ready,
            on_ranking=phases.ranking(dim),
        )
    except Exception as e:
        error = fail_map(factory, map_id=record.id, what=f"{dim}-D map", error=e)
        return MapOutcome(dim=dim, map_id=record.id, status="failed", error=error)
    if on_published is not None:
        on_published(record.id)
    log.info("published %d-D map %d: %s", dim, record.id, metrics)
    return MapOutcome(dim=dim, map_id=record.id, status="published", metrics=metrics)


def _fit(
    settings: Settings,
    config: TrainConfig,
    x: np.ndarray,
    targets: SparseTargets,
    dim: int,
    fit_index: int,
    phases: _Phases,
) -> tuple[TrainedBoxModel, dict[str, float]]:
    """Fit with held-out datasets (for the metrics), then refit on all for the best epoch."""
    use_train_threads(settings.train_threads)
    split = train_data.split(targets, settings.train_val_fraction, seed=config.seed)

    def report(epoch: int, total: int, loss: float) -> None:
        phases.epoch(dim, epoch, total, loss)

    phases.start_fit(fit_index, config.epochs)
    model = fit(x, split.train, config, val=split.val if split.has_validation else None,
                progress=report)  # fmt: skip
    metrics: dict[str, float] = {"datasets": float(targets.n), "best_epoch": model.best_epoch}
    if split.has_validation:
        assert split.val is not None
        p = model.predict_pairs(x, split.val.i, split.val.j)
        y = split.val.y
        positives = int((y > train_data.POSITIVE_MIN_Y).sum())
        metrics |= {
            "val_datasets": float(split.val_nodes.size),
            "val_pairs": float(len(split.val)),
            "val_positive_pairs": float(positives),
        }
        if positives:  # F1 and AP are undefined without a positive pair
            metrics |= {"val_f1": best_f1(y, p), "val_ap": average_precision(y, p)}
        if settings.train_refit:
            refit = dataclasses.replace(config, epochs=max(1, model.best_epoch))
            phases.start_fit(fit_index + 1, config.epochs)
            model = fit(x, train_data.all_pairs(targets), refit, progress=report)
    return model, metrics
