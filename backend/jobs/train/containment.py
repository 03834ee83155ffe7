"""The containment train job: representations → containment targets → fit → publish.

A map's boxes are fitted to containment targets read from the datasets' label sets (labels
also match by embedding cosine). A share of the datasets is held out to measure the map
(validation F1 and AP) and to pick the best epoch; the map is then refit on every pair for
that many epochs, so no dataset is left out of the published boxes. A large atlas holds out
only a few dozen datasets (validation pairs are bounded) and skips that refit
(`models.budget.worth_refitting`); its networks place them as they place any new dataset.

The vector network's trainer is chosen by the atlas's size (`models.budget`): full batch for
a few hundred datasets, a draw of positives per step with a step budget beyond. Before any of
it, the job estimates its peak memory and refuses when that is over the limit
(`backend.jobs.train.memory`).

Two networks can draw a map (`T2B_MAP_MODEL`): the vector model (a dataset's feature vector
→ its box) and the label-set model (`models.setbox_map`: the bounding box of its labels'
points, so a label subset lies inside by construction). `auto` fits both on the same held-out
datasets and publishes the one with the better validation F1 (the label-set model on a tie:
it places label lists it has never seen inside their supersets, which no F1 on seen datasets
measures); both figures go into the map's metrics. Every map also records its fidelity: how
far its boxes agree with the counted targets (`models.fidelity`).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import numpy as np

from backend.config import Settings
from backend.db import repository
from backend.db.engine import SessionFactory, session_scope
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
from backend.jobs.train.memory import check_memory
from backend.jobs.train_inputs import (
    containment_targets_for,
    corroborated_datasets,
    default_representer,
    documents_for,
    label_set_inputs,
    load_training_data,
)
from backend.representations.base import Representer
from backend.representations.label_text import LabelTextEmbedder
from models import heldout
from models.budget import estimate_peak_bytes, sized_vector_config, worth_refitting
from models.fidelity import map_fidelity
from models.metrics import average_precision, best_f1
from models.opaque import opaque_keys
from models.setbox import LabelSets
from models.setbox_map import SetBoxPlacer, fit_set_map, set_map_config
from models.setbox_train import TrainedSetBoxModel
from models.targets import SparseTargets, unique_labels
from models.train import TrainConfig, fit

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
    # An epoch budget asked for (the quick first map) bounds the label-set fit too.
    set_epochs = min(settings.set_epochs, request.epochs or settings.set_epochs)
    if representer is None:
        representer = default_representer(settings, request.representation)
    if embedder is None:
        embedder = LabelTextEmbedder.from_cache_dir(settings.cache_dir)
    refit = settings.train_refit and settings.train_val_fraction > 0
    models = _MODELS[settings.map_model]
    reporter = TrainReporter(
        callbacks.progress,
        maps=len(request.dims),
        fits_per_map=len(models) + (1 if refit else 0),
        epochs=max(epochs, set_epochs) if "set" in models else epochs,
    )
    run = TrainRun(settings, sessions, callbacks, reporter)
    compute_representations(
        lambda: session_scope(sessions), representer, progress=reporter.represent
    )
    reporter.step("containment targets")
    ids, x, label_sets = load_training_data(sessions, representer.kind)
    what = f"containment maps of {len(ids):,} datasets"
    n_labels = len(unique_labels(label_sets))
    check_memory(settings, estimate_peak_bytes(len(ids), 0, n_labels), what)
    opaque = opaque_keys(label_sets)
    corroborated = corroborated_datasets(sessions, ids, label_sets, opaque, embedder)
    counted = containment_targets_for(
        label_sets,
        embedder,
        settings.label_match_cosine,
        opaque=opaque,
        corroborated=corroborated,
    )
    targets = counted.targets
    check_memory(settings, estimate_peak_bytes(len(ids), int(targets.values.size), n_labels), what)
    sized_epochs = sized_vector_config(
        TrainConfig(epochs=epochs), n_datasets=len(ids), n_positive=int(targets.values.size)
    ).epochs
    reporter.resize(max(sized_epochs, set_epochs) if "set" in models else sized_epochs)
    sets = None
    if "set" in models:
        sets = label_set_inputs(
            label_sets,
            embedder,
            settings.max_embedded_labels,
            opaque=opaque,
            documents=documents_for(sessions, ids),
        )
    summary = TrainSummary(
        relation=request.relation,
        representation=representer.kind,
        datasets=len(ids),
        positive_pairs=int(targets.values.size),
    )
    log.info("training on %d datasets, %d positive pairs", len(ids), targets.values.size)
    for dim in request.dims:
        config = sized_vector_config(
            TrainConfig(
                dim=dim, epochs=epochs, device=settings.device, val_metric="f1",
                eval_every=min(10, epochs),
            ),
            n_datasets=len(ids),
            n_positive=int(targets.values.size),
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
        matches = repository.LabelMatches(
            threshold=settings.label_match_cosine,
            pairs=counted.label_pairs,
            corroborated=[(ids[a], ids[b]) for a, b in corroborated],
        )
        inputs = _Inputs(targets, sets, matches, set_epochs)
        summary.maps.append(
            train_map(run, spec, partial(_fit, settings, spec, inputs, models, reporter))
        )
    return summary


_MODELS: dict[str, tuple[str, ...]] = {
    "vector": ("vector",),
    "set": ("set",),
    "auto": ("vector", "set"),
}


@dataclass(frozen=True, eq=False)
class _Inputs:
    targets: SparseTargets
    sets: tuple[np.ndarray, LabelSets] | None  # label embeddings and each dataset's rows
    label_matches: repository.LabelMatches
    set_epochs: int


@dataclass(frozen=True, eq=False)
class _Candidate:
    """One network fitted on the held-out split, and how to refit it on everything."""

    name: str
    metrics: dict[str, float]
    fitted: Callable[[], FittedMap]  # the published fit (refit on every pair, or as is)


def _fit(
    settings: Settings,
    spec: MapSpec,
    inputs: _Inputs,
    models: tuple[str, ...],
    reporter: TrainReporter,
) -> FittedMap:
    """Fit each model with held-out datasets, keep the better one, and refit it on all."""
    split = heldout.split(inputs.targets, settings.train_val_fraction, seed=spec.config.seed)
    candidates = []
    for name in models:
        if name == "vector":
            candidates.append(_fit_vector(settings, spec, inputs, split, reporter))
        elif inputs.sets is not None:
            candidates.append(_fit_set(settings, spec, inputs, split, reporter))
    best = max(candidates, key=lambda c: (c.metrics.get("val_f1", -1.0), c.name == "set"))
    fitted = best.fitted()
    metrics = dict(best.metrics)
    for candidate in candidates:
        if "val_f1" in candidate.metrics:
            metrics[f"val_f1_{candidate.name}"] = candidate.metrics["val_f1"]
    beta = float(fitted.params.get("beta", spec.record_params()["beta"]))
    gumbel = fitted.params.get("gumbel_beta", spec.record_params()["gumbel_beta"])
    fidelity = map_fidelity(
        fitted.lo, fitted.hi, inputs.targets, beta=beta,
        gumbel_beta=None if gumbel is None else float(gumbel),
    )  # fmt: skip
    metrics["fidelity_f1"] = fidelity["f1"]
    metrics["fidelity_spearman"] = fidelity["spearman"]
    return dataclasses.replace(
        fitted,
        metrics=metrics,
        params={**fitted.params, "model": best.name},
        label_matches=inputs.label_matches,
    )


def _refit(settings: Settings, split: heldout.Split, n_datasets: int) -> bool:
    """Refit on every dataset only when the held-out ones are worth a second fit."""
    return settings.train_refit and worth_refitting(n_datasets, int(split.val_nodes.size))


def _validation_metrics(split: heldout.Split, p: np.ndarray) -> dict[str, float]:
    assert split.val is not None
    y = split.val.y
    positives = int((y > heldout.POSITIVE_MIN_Y).sum())
    metrics = {
        "val_datasets": float(split.val_nodes.size),
        "val_pairs": float(len(split.val)),
        "val_positive_pairs": float(positives),
    }
    if positives:  # F1 and AP are undefined without a positive pair
        metrics |= {"val_f1": best_f1(y, p), "val_ap": average_precision(y, p)}
    return metrics


def _fit_vector(
    settings: Settings,
    spec: MapSpec,
    inputs: _Inputs,
    split: heldout.Split,
    reporter: TrainReporter,
) -> _Candidate:
    config, x, targets = spec.config, spec.x, inputs.targets
    model = fit(x, split.train, config, val=split.val if split.has_validation else None,
                progress=reporter.fit(f"{spec.label}, vector"))  # fmt: skip
    metrics: dict[str, float] = {"datasets": float(targets.n), "best_epoch": model.best_epoch}
    if not split.has_validation:
        return _Candidate("vector", metrics, lambda: FittedMap.from_vector(model, x, metrics))
    assert split.val is not None
    metrics |= _validation_metrics(split, model.predict_pairs(x, split.val.i, split.val.j))

    def published() -> FittedMap:
        if not _refit(settings, split, targets.n):
            return FittedMap.from_vector(model, x, metrics)
        refit = dataclasses.replace(config, epochs=max(1, model.best_epoch))
        again = fit(x, heldout.all_pairs(targets), refit,
                    progress=reporter.fit(f"{spec.label}, vector refit"))  # fmt: skip
        return FittedMap.from_vector(again, x, metrics)

    return _Candidate("vector", metrics, published)


def _fit_set(
    settings: Settings,
    spec: MapSpec,
    inputs: _Inputs,
    split: heldout.Split,
    reporter: TrainReporter,
) -> _Candidate:
    assert inputs.sets is not None
    emb, sets = inputs.sets
    targets = inputs.targets
    config = set_map_config(spec.dim, inputs.set_epochs, device=settings.device)
    val = split.val if split.has_validation else None
    model = fit_set_map(emb, sets, split.train, config, val=val,
                        progress=reporter.fit(f"{spec.label}, label-set"))  # fmt: skip
    metrics: dict[str, float] = {"datasets": float(targets.n), "best_epoch": model.best_epoch}
    # The label-set model reads containment with the hard intersection: a label subset
    # then scores exactly 1.
    params = {"beta": config.beta, "gumbel_beta": None, "set_epochs": inputs.set_epochs}

    def as_map(trained: TrainedSetBoxModel) -> FittedMap:
        lo, hi = trained.boxes()
        return FittedMap(lo, hi, SetBoxPlacer.from_model(trained), metrics, params=params)

    if val is None:
        return _Candidate("set", metrics, lambda: as_map(model))
    metrics |= _validation_metrics(split, model.predict_pairs(val.i, val.j))

    def published() -> FittedMap:
        if not _refit(settings, split, targets.n):
            return as_map(model)
        refit = dataclasses.replace(config, epochs=max(1, model.best_epoch), patience=None)
        again = fit_set_map(emb, sets, heldout.all_pairs(targets), refit,
                            progress=reporter.fit(f"{spec.label}, label-set refit"))  # fmt: skip
        return as_map(again)

    return _Candidate("set", metrics, published)
