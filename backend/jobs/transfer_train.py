"""The transfer train job: measured scores → `tanh(50·a)` targets → open-world fit → publish.

`run_train` hands `relation="transfer"` requests here. Box semantics are those of
`models.transfer`: s→t is read as `P(s ⊆ t)`. Missing entries of the matrix are never
supervised (open world). A share of the measured pair groups is held out to measure the
map (validation Spearman ρ) and to stop early; the map is then refit on every pair for the
best epoch count, so no measured score is left out of the published boxes. Every map of
the run is written in full, marked ready, then published in one transaction, like a
containment map; a failed fit publishes nothing.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable

import numpy as np

from backend.config import Settings
from backend.db import repository
from backend.db.engine import SessionFactory, session_factory_for, session_scope
from backend.errors import InvalidInputError, InvalidStateError
from backend.jobs.publish import fail_map, publish_fitted_map
from backend.jobs.represent import compute_representations
from backend.jobs.threads import use_train_threads
from backend.jobs.train_job import MapOutcome, Progress, TrainFailed, TrainRequest, TrainSummary
from backend.jobs.transfer_data import NO_SCORES, TransferTrainingData, load_transfer_data
from backend.representations.label_text import KIND as LABEL_TEXT
from backend.representations.label_text import LabelTextEmbedder, LabelTextRepresenter
from models.metrics import spearman
from models.train import TrainConfig, fit
from models.trained import TrainedBoxModel
from models.transfer import REFERENCE_MEAN, TANH_K, holdout_pairs, transfer_train_config

log = logging.getLogger(__name__)

# Fewer measured pair groups than this leave nothing worth measuring: no validation.
MIN_GROUPS_FOR_VALIDATION = 10
SEMANTICS = "transfer s→t = P(box_s ⊆ box_t) = Vol(s∩t)/Vol(s)"


class _Progress:
    """Representations first, then each fit's epochs, on one counter."""

    def __init__(self, progress: Progress | None, epochs_total: int) -> None:
        self._progress = progress
        self._epochs_total = epochs_total
        self._represent_total = 0
        self._base = 0

    def represent(self, done: int, total: int) -> None:
        self._represent_total = total
        self.emit(done, f"representations {done}/{total}")

    def emit(self, done: int, message: str) -> None:
        if self._progress is not None:
            self._progress(done, self._represent_total + self._epochs_total, message)

    def step(self, message: str) -> None:
        """Reports a phase change at the current position (the counter never goes back)."""
        self.emit(self._represent_total + self._base, message)

    def fit_reporter(self, dim: int, epochs_budget: int) -> Callable[[int, int, float], None]:
        """A `fit` progress callback; the next fit starts `epochs_budget` further on."""
        start = self._represent_total + self._base
        self._base += epochs_budget

        def report(epoch: int, epochs: int, loss: float) -> None:
            message = f"{dim}-D transfer map: epoch {epoch}/{epochs}, loss {loss:.4g}"
            self.emit(start + epoch, message)

        return report


def run_transfer_train(
    settings: Settings,
    request: TrainRequest,
    *,
    sessions: SessionFactory | None = None,
    progress: Progress | None = None,
    embedder: LabelTextEmbedder | None = None,
    on_ready: Callable[[int], None] | None = None,
) -> TrainSummary:
    """Fits and publishes one transfer map per dimension of `request`.

    Raises:
        InvalidInputError: for a representation other than `label-text`.
        InvalidStateError: if no transfer score is imported.
        TrainFailed: if any map failed (the others are published).
    """
    if request.representation != LABEL_TEXT:
        raise InvalidInputError(
            f"transfer maps use {LABEL_TEXT!r} features (tasks without class labels are "
            f"embedded from their descriptions), got {request.representation!r}"
        )
    factory = sessions or session_factory_for(settings.database_url)
    epochs = request.epochs or settings.transfer_epochs
    embedder = embedder or LabelTextEmbedder.from_cache_dir(settings.cache_dir)
    representer = LabelTextRepresenter(embedder, max_labels=settings.max_embedded_labels)
    fits = len(request.dims) * (2 if settings.train_refit else 1)
    phases = _Progress(progress, fits * epochs)
    with session_scope(factory) as session:  # fail fast, before embedding anything
        if repository.count_transfer_scores(session) == 0:
            raise InvalidStateError(NO_SCORES)
    compute_representations(lambda: session_scope(factory), representer, progress=phases.represent)
    phases.step("transfer targets")
    data = load_transfer_data(factory, embedder)
    summary = TrainSummary(
        relation="transfer",
        representation=LABEL_TEXT,
        datasets=len(data.ids),
        positive_pairs=len(data.y),
    )
    log.info(
        "transfer: %d datasets, %d measured pairs among %d tasks",
        len(data.ids),
        len(data.y),
        len(data.measured),
    )
    for dim in request.dims:
        summary.maps.append(
            _train_one(factory, settings, data, dim, epochs, representer.version, phases, on_ready)
        )
    failed = [m for m in summary.maps if m.status != "published"]
    if failed:
        raise TrainFailed("; ".join(f"{m.dim}-D map {m.map_id} failed: {m.error}" for m in failed))
    return summary


def _train_one(
    factory: SessionFactory,
    settings: Settings,
    data: TransferTrainingData,
    dim: int,
    epochs: int,
    representation_version: str,
    phases: _Progress,
    on_ready: Callable[[int], None] | None,
) -> MapOutcome:
    config = transfer_train_config(dim, epochs=epochs, device=settings.device)
    params = config.loss_params()
    with session_scope(factory) as session:
        record = repository.create_map(
            session,
            relation="transfer",
            dim=dim,
            representation=LABEL_TEXT,
            params={
                "epochs": epochs,
                "loss": config.loss,
                "lr": config.lr,
                "hidden": list(config.hidden),
                "seed": config.seed,
                "beta": params.beta,
                "gumbel_beta": params.gumbel_beta,
                "volume_weight": params.volume_weight,
                "representation_version": representation_version,
                "target": f"tanh({TANH_K:g}·a), a per-target normalized to mean {REFERENCE_MEAN}",
                "semantics": SEMANTICS,
                "datasets": len(data.ids),
                "measured_pairs": len(data.y),
                "task_vectors": data.task_vectors,
                # The boxes fitted to measured scores are those of the tasks the scores name
                # (imported before this map was created; see `serving.map_store`).
                "measured_tasks": len(data.measured),
            },
        )
    try:
        model, metrics = _fit(settings, config, data, dim, phases)
        phases.step(f"{dim}-D transfer map: saving")  # early stopping leaves epochs unused
        publish_fitted_map(
            factory,
            map_id=record.id,
            dataset_ids=data.ids,
            model=model,
            x=data.x,
            metrics=metrics,
            on_ready=on_ready,
            on_ranking=lambda done, total: phases.step(
                f"{dim}-D transfer map: ranking related datasets {done}/{total}"
            ),
        )
    except Exception as e:
        error = fail_map(factory, map_id=record.id, what=f"{dim}-D transfer map", error=e)
        return MapOutcome(dim=dim, map_id=record.id, status="failed", error=error)
    log.info("published %d-D transfer map %d: %s", dim, record.id, metrics)
    return MapOutcome(dim=dim, map_id=record.id, status="published", metrics=metrics)


def _fit(
    settings: Settings,
    config: TrainConfig,
    data: TransferTrainingData,
    dim: int,
    phases: _Progress,
) -> tuple[TrainedBoxModel, dict[str, float]]:
    """Fit with held-out pair groups (metrics, early stopping), then refit on every pair."""
    use_train_threads(settings.train_threads)
    source, target = data.source, data.target
    n_groups = len({(min(s, t), max(s, t)) for s, t in zip(source, target, strict=True)})
    fraction = settings.train_val_fraction if n_groups >= MIN_GROUPS_FOR_VALIDATION else 0.0
    train_idx, val_idx = holdout_pairs(source, target, fraction, seed=config.seed)
    metrics: dict[str, float] = {
        "datasets": float(len(data.ids)),
        "measured_pairs": float(len(data.y)),
    }
    refits = settings.train_refit and val_idx.size > 0
    if val_idx.size == 0:
        report = phases.fit_reporter(dim, config.epochs * (2 if settings.train_refit else 1))
        model = fit(data.x, data.pairs(), config, progress=report)
        metrics["best_epoch"] = float(model.best_epoch)
        return model, metrics
    model = fit(
        data.x,
        data.pairs(train_idx),
        config,
        val=data.pairs(val_idx),
        progress=phases.fit_reporter(dim, config.epochs),
    )
    val = data.pairs(val_idx)
    p = model.predict_pairs(data.x, val.i, val.j)
    metrics |= {
        "best_epoch": float(model.best_epoch),
        "val_pairs": float(val_idx.size),
        "val_spearman": spearman(val.y.astype(np.float64), p.astype(np.float64)),
    }
    if refits:
        refit = dataclasses.replace(config, epochs=max(1, model.best_epoch), patience=None)
        model = fit(data.x, data.pairs(), refit, progress=phases.fit_reporter(dim, config.epochs))
    return model, metrics
