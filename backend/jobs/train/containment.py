"""The containment train job: representations → containment targets → fit → publish.

A map's boxes are fitted to containment targets read from the datasets' label sets (labels
also match by embedding cosine). A share of the datasets is held out to measure the map
(validation F1 and AP) and to pick the best epoch; the map is then refit on every pair for
that many epochs, so no dataset is left out of the published boxes.
"""

from __future__ import annotations

import dataclasses
import logging
from functools import partial

from backend.config import Settings
from backend.db.engine import SessionFactory, session_scope
from backend.jobs import train_data
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
from backend.jobs.train_inputs import (
    containment_targets_for,
    default_representer,
    load_training_data,
)
from backend.representations.base import Representer
from backend.representations.label_text import LabelTextEmbedder
from models.metrics import average_precision, best_f1
from models.targets import SparseTargets
from models.train import TrainConfig, fit
from models.trained import TrainedBoxModel

log = logging.getLogger(__name__)


def train_containment(
    settings: Settings,
    request: TrainRequest,
    sessions: SessionFactory,
    callbacks: TrainCallbacks,
    *,
    representer: Representer | None,
    embedder: LabelTextEmbedder | None,
) -> TrainSummary:
    """Fits and publishes one containment map per dimension of `request`.

    Args:
        representer: computes the features (default: the `request.representation` one).
        embedder: embeds label texts for cosine label matching (default: MiniLM).

    Raises:
        InvalidInputError: for an unknown representation.
        InvalidStateError: with fewer than 2 datasets that have labels and features.
    """
    epochs = request.epochs or settings.train_epochs
    if representer is None:
        representer = default_representer(settings, request.representation)
    if embedder is None:
        embedder = LabelTextEmbedder.from_cache_dir(settings.cache_dir)
    refit = settings.train_refit and settings.train_val_fraction > 0
    reporter = TrainReporter(
        callbacks.progress, maps=len(request.dims), fits_per_map=2 if refit else 1, epochs=epochs
    )
    run = TrainRun(settings, sessions, callbacks, reporter)
    compute_representations(
        lambda: session_scope(sessions), representer, progress=reporter.represent
    )
    reporter.step("containment targets")
    ids, x, label_sets = load_training_data(sessions, representer.kind)
    targets = containment_targets_for(label_sets, embedder, settings.label_match_cosine)
    summary = TrainSummary(
        relation=request.relation,
        representation=representer.kind,
        datasets=len(ids),
        positive_pairs=int(targets.values.size),
    )
    log.info("training on %d datasets, %d positive pairs", len(ids), targets.values.size)
    for dim in request.dims:
        config = TrainConfig(
            dim=dim, epochs=epochs, device=settings.device, val_metric="f1",
            eval_every=min(10, epochs),
        )  # fmt: skip
        spec = MapSpec(
            relation=request.relation,
            dim=dim,
            label=f"{dim}-D map",
            representation=representer.kind,
            representation_version=representer.version,
            config=config,
            epochs=epochs,
            dataset_ids=ids,
            x=x,
            params={"label_match_cosine": settings.label_match_cosine},
        )
        summary.maps.append(train_map(run, spec, partial(_fit, settings, spec, targets, reporter)))
    return summary


def _fit(
    settings: Settings, spec: MapSpec, targets: SparseTargets, reporter: TrainReporter
) -> tuple[TrainedBoxModel, dict[str, float]]:
    """Fit with held-out datasets (for the metrics), then refit on all for the best epoch."""
    config, x = spec.config, spec.x
    split = train_data.split(targets, settings.train_val_fraction, seed=config.seed)
    model = fit(x, split.train, config, val=split.val if split.has_validation else None,
                progress=reporter.fit(spec.label))  # fmt: skip
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
            model = fit(x, train_data.all_pairs(targets), refit, progress=reporter.fit(spec.label))
    return model, metrics
