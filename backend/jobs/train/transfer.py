"""The transfer train job: measured scores → `tanh(50·a)` targets → open-world fit → publish.

Box semantics are those of `models.transfer`: s→t is read as `P(s ⊆ t)`. Missing entries of
the matrix are never supervised (open world). A share of the measured pair groups is held
out to measure the map (validation Spearman ρ) and to stop early; the map is then refit on
every pair for the best epoch count, so no measured score is left out of the published boxes.
"""

from __future__ import annotations

import dataclasses
import logging
from functools import partial

import numpy as np

from backend.config import Settings
from backend.db import repository
from backend.db.engine import SessionFactory, session_scope
from backend.errors import InvalidInputError, InvalidStateError
from backend.jobs.publish import FittedMap
from backend.jobs.represent import compute_representations
from backend.jobs.train.common import (
    MapSpec,
    TrainCallbacks,
    TrainReporter,
    TrainRequest,
    TrainRun,
    TrainSummary,
    train_map,
)
from backend.jobs.transfer_data import NO_SCORES, TransferTrainingData, load_transfer_data
from backend.representations.base import Representer
from backend.representations.label_text import KIND as LABEL_TEXT
from backend.representations.label_text import LabelTextEmbedder, LabelTextRepresenter
from models.metrics import spearman
from models.train import fit
from models.trained import TrainedBoxModel
from models.transfer import REFERENCE_MEAN, TANH_K, holdout_pairs, transfer_train_config

log = logging.getLogger(__name__)

# Fewer measured pair groups than this leave nothing worth measuring: no validation.
MIN_GROUPS_FOR_VALIDATION = 10
SEMANTICS = "transfer s→t = P(box_s ⊆ box_t) = Vol(s∩t)/Vol(s)"


def train_transfer(
    settings: Settings,
    request: TrainRequest,
    sessions: SessionFactory,
    callbacks: TrainCallbacks,
    *,
    representer: Representer | None,
    embedder: LabelTextEmbedder | None,
) -> TrainSummary:
    """Fits and publishes one transfer map per dimension of `request`.

    Args:
        representer: computes the `label-text` features (default: MiniLM through `embedder`).
        embedder: embeds the descriptions of tasks without class labels (default: MiniLM).

    Raises:
        InvalidInputError: for features other than `label-text`.
        InvalidStateError: if no transfer score is imported.
    """
    kind = request.representation if representer is None else representer.kind
    if kind != LABEL_TEXT:
        raise InvalidInputError(
            f"transfer maps use {LABEL_TEXT!r} features (tasks without class labels are "
            f"embedded from their descriptions), got {kind!r}"
        )
    epochs = request.epochs or settings.transfer_epochs
    embedder = embedder or LabelTextEmbedder.from_cache_dir(settings.cache_dir)
    if representer is None:
        representer = LabelTextRepresenter(embedder, max_labels=settings.max_embedded_labels)
    reporter = TrainReporter(
        callbacks.progress,
        maps=len(request.dims),
        fits_per_map=2 if settings.train_refit else 1,
        epochs=epochs,
    )
    run = TrainRun(settings, sessions, callbacks, reporter)
    estimator = request.estimator or settings.transfer_estimator
    with session_scope(sessions) as session:  # fail fast, before embedding anything
        stored = repository.count_transfer_scores(session)
        if estimator:  # any estimator's: `load_transfer_data` checks this one's
            stored += repository.count_transfer_estimates(session)
        if stored == 0:
            raise InvalidStateError(NO_SCORES)
    compute_representations(
        lambda: session_scope(sessions), representer, progress=reporter.represent
    )
    reporter.step("transfer targets")
    data = load_transfer_data(sessions, embedder, estimator=estimator)
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
        config = transfer_train_config(dim, epochs=epochs, device=settings.device)
        spec = MapSpec(
            relation="transfer",
            dim=dim,
            label=f"{dim}-D transfer map",
            representation=LABEL_TEXT,
            representation_version=representer.version,
            config=config,
            epochs=epochs,
            dataset_ids=data.ids,
            x=data.x,
            params={
                "volume_weight": config.loss_params().volume_weight,
                "target": f"tanh({TANH_K:g}·a), a per-target normalized to mean {REFERENCE_MEAN}",
                "semantics": SEMANTICS,
                "measured_pairs": len(data.y) - data.estimated,
                "estimated_pairs": data.estimated,
                "estimator": data.estimator,
                "task_vectors": data.task_vectors,
                # The boxes fitted to measured scores are those of the tasks the scores name
                # (imported before this map was created; see `serving.map_store`).
                "measured_tasks": len(data.measured),
            },
        )
        summary.maps.append(train_map(run, spec, partial(_fit, settings, spec, data, reporter)))
    return summary


def _fit(
    settings: Settings, spec: MapSpec, data: TransferTrainingData, reporter: TrainReporter
) -> FittedMap:
    """Fit with held-out pair groups (metrics, early stopping), then refit on every pair."""
    model, metrics = _fit_model(settings, spec, data, reporter)
    return FittedMap.from_vector(model, spec.x, metrics)


def _fit_model(
    settings: Settings, spec: MapSpec, data: TransferTrainingData, reporter: TrainReporter
) -> tuple[TrainedBoxModel, dict[str, float]]:
    config = spec.config
    source, target = data.source, data.target
    n_groups = len({(min(s, t), max(s, t)) for s, t in zip(source, target, strict=True)})
    fraction = settings.train_val_fraction if n_groups >= MIN_GROUPS_FOR_VALIDATION else 0.0
    train_idx, val_idx = holdout_pairs(source, target, fraction, seed=config.seed)
    metrics: dict[str, float] = {
        "datasets": float(len(data.ids)),
        "measured_pairs": float(len(data.y)),
    }
    if val_idx.size == 0:
        model = fit(data.x, data.pairs(), config, progress=reporter.fit(spec.label))
        metrics["best_epoch"] = float(model.best_epoch)
        return model, metrics
    model = fit(
        data.x,
        data.pairs(train_idx),
        config,
        val=data.pairs(val_idx),
        progress=reporter.fit(spec.label),
    )
    val = data.pairs(val_idx)
    p = model.predict_pairs(data.x, val.i, val.j)
    metrics |= {
        "best_epoch": float(model.best_epoch),
        "val_pairs": float(val_idx.size),
        "val_spearman": spearman(val.y.astype(np.float64), p.astype(np.float64)),
    }
    if settings.train_refit:
        refit = dataclasses.replace(config, epochs=max(1, model.best_epoch), patience=None)
        model = fit(data.x, data.pairs(), refit, progress=reporter.fit(spec.label))
    return model, metrics
