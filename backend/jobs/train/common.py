"""What every train job shares: its request and results, one progress counter, and the
steps each map goes through (create → fit → publish, or fail).

A relation (`containment.py`, `transfer.py`) only decides what its maps are trained on and
how one is fitted; the guarantee readers rely on is kept here, once. Each map is registered
as `training`, written in full (boxes, neighbour table, network), marked `ready` and only
then published, in one transaction that also retires the map it replaces. A fit that fails,
or whose loss goes NaN, marks its map `failed` and publishes nothing, so readers keep the
previous good map.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from backend.config import Settings
from backend.db import repository
from backend.db.engine import SessionFactory, session_scope
from backend.jobs.publish import FittedMap, fail_map, publish_fitted_map
from backend.jobs.threads import use_train_threads
from backend.representations.base import Representer
from backend.representations.label_text import KIND as LABEL_TEXT
from backend.representations.label_text import LabelTextEmbedder
from models.train import TrainConfig

log = logging.getLogger(__name__)

TrainProgress = Callable[[int, int | None, str | None], None]
"""Told `(done, total, message)` during a run; a job's callback raises there to stop it."""
EpochProgress = Callable[[int, int, float], None]
"""What `models.train.fit` reports after each epoch: `(epoch, epochs, loss)`."""
RankingProgress = Callable[[int, int], None]
"""What the neighbour ranking reports: `(done, total)` boxes."""


@dataclass(frozen=True)
class TrainRequest:
    """What to fit: one map per dimension, all from the same features and targets."""

    relation: str = "containment"
    dims: tuple[int, ...] = (2,)
    representation: str = LABEL_TEXT
    epochs: int | None = None
    # Transfer maps: whose estimates fill the pairs no score measures; None reads
    # `T2B_TRANSFER_ESTIMATOR` (which may be empty: measured scores only).
    estimator: str | None = None


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


@dataclass(frozen=True)
class TrainCallbacks:
    """Who hears of a run: one object, so every relation gets every callback.

    Attributes:
        progress: told of progress during the run.
        on_ready: called with a map id once it is fully written, before it is published
            (the server warms its cache there, so the switch costs readers nothing).
        on_published: called with a map id right after its publishing commit (the server
            drops its cached list of maps there, so readers switch at once).
        job_id: the job running the fit; its maps record it, so that the job failed from
            outside (its process killed, its lease run out) fails them too.
    """

    progress: TrainProgress | None = None
    on_ready: Callable[[int], None] | None = None
    on_published: Callable[[int], None] | None = None
    job_id: int | None = None


class Trainer(Protocol):
    """One relation's train job: fits and publishes a map per dimension of `request`.

    Returns the summary even when maps failed (the caller raises `TrainFailed`); raises
    `InvalidInputError` or `InvalidStateError` before any map is created when the request
    cannot be trained here.
    """

    def __call__(
        self,
        settings: Settings,
        request: TrainRequest,
        sessions: SessionFactory,
        callbacks: TrainCallbacks,
        *,
        representer: Representer | None,
        embedder: LabelTextEmbedder | None,
    ) -> TrainSummary: ...


class TrainReporter:
    """One progress counter for a whole run: the representations, then an equal budget of
    epochs per map (`fits_per_map` fits of `epochs` each).

    The counter never goes back: a fit that stops early, or a refit that does not happen,
    leaves the rest of its map's budget unused, and the map's last steps (saving, ranking
    its neighbours) are reported at the end of that budget.
    """

    def __init__(
        self, progress: TrainProgress | None, *, maps: int, fits_per_map: int, epochs: int
    ) -> None:
        self._progress = progress
        self._maps = maps
        self._fits_per_map = fits_per_map
        self._budget(epochs)
        self._represent_total = 0
        self._map_end = 0  # epochs counted up to the end of the current map's budget
        self._at = 0  # epochs counted so far

    def resize(self, epochs: int) -> None:
        """Sets each fit's epoch budget once the atlas's size is known: a large atlas is fitted
        by a sampled trainer with a step budget (`models.budget`), far below the epochs asked
        for, and a total counted in those would leave the bar stuck near its start.

        Raises:
            RuntimeError: once a map has started (its counted budget cannot change).
        """
        if self._map_end:
            raise RuntimeError("the epoch budget is fixed once a map has started")
        if epochs < 1:
            raise ValueError(f"epochs must be >= 1, got {epochs}")
        self._budget(epochs)

    def _budget(self, epochs: int) -> None:
        self._epochs = epochs
        self._map_budget = self._fits_per_map * epochs
        self._epochs_total = self._maps * self._map_budget

    def represent(self, done: int, total: int) -> None:
        """A `compute_representations` progress callback (they come first)."""
        self._represent_total = total
        self._emit(done, f"representations {done}/{total}")

    def step(self, message: str) -> None:
        """Reports (and logs) a phase change at the current position."""
        log.info("%s", message)
        self._emit(self._represent_total + self._at, message)

    def start_map(self) -> None:
        """The next map's budget begins."""
        self._at = self._map_end
        self._map_end += self._map_budget

    def fit(self, label: str) -> EpochProgress:
        """A `fit` progress callback; the fit after it starts `epochs` further on."""
        start = self._at
        self._at = min(start + self._epochs, self._map_end)

        began = time.monotonic()

        def report(epoch: int, epochs: int, loss: float) -> None:
            message = f"{label}: epoch {epoch}/{epochs}, loss {loss:.4g}"
            if epoch < epochs:  # the rate so far; early stopping can only end it sooner
                left = (time.monotonic() - began) / epoch * (epochs - epoch)
                message += f", at most {_duration(left)} left"
            self._emit(self._represent_total + start + epoch, message)

        return report

    def finish_fits(self) -> None:
        """The map's fits are over: what they left of its budget is skipped."""
        self._at = self._map_end

    def ranking(self, label: str) -> RankingProgress:
        """Progress of a map's neighbour ranking, after its fits. It has no epochs of its
        own; a job's callback persists it at most every 0.5 s, and raises there on shutdown.
        """

        def report(done: int, total: int) -> None:
            message = f"{label}: ranking related datasets {done}/{total}"
            self._emit(self._represent_total + self._at, message)

        return report

    def _emit(self, done: int, message: str) -> None:
        if self._progress is not None:
            self._progress(done, self._represent_total + self._epochs_total, message)


def _duration(seconds: float) -> str:
    """ "45 s", "3 min 20 s", "1 h 05 min": how a progress line says a time left."""
    whole = max(0, round(seconds))
    if whole < 60:
        return f"{whole} s"
    minutes, secs = divmod(whole, 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


@dataclass(frozen=True)
class TrainRun:
    """What every map of one run shares."""

    settings: Settings
    sessions: SessionFactory
    callbacks: TrainCallbacks
    reporter: TrainReporter


@dataclass(frozen=True, eq=False)
class MapSpec:
    """One map to fit: what it is, what it is trained on, and what its record says.

    Attributes:
        relation: the relation the map embeds.
        dim: box dimension.
        label: how logs, progress and errors name the map ("2-D map").
        representation: the kind of features (`representer.kind`).
        representation_version: the version of those features.
        config: the trainer settings.
        epochs: the epoch budget asked for.
        dataset_ids: the rows of `x`, one box each.
        x: `(N, D)` features.
        params: relation-specific entries added to the map's stored parameters.
    """

    relation: str
    dim: int
    label: str
    representation: str
    representation_version: str
    config: TrainConfig
    epochs: int
    dataset_ids: Sequence[str]
    x: np.ndarray
    params: Mapping[str, Any] = field(default_factory=dict)

    def record_params(self) -> dict[str, Any]:
        """The parameters stored with the map: the trainer's, then the relation's."""
        loss = self.config.loss_params()
        return {
            "epochs": self.epochs,
            "loss": self.config.loss,
            "lr": self.config.lr,
            "hidden": list(self.config.hidden),
            "seed": self.config.seed,
            "beta": loss.beta,
            "gumbel_beta": loss.gumbel_beta,
            "representation_version": self.representation_version,
            "datasets": len(self.dataset_ids),
            **self.params,
        }


FitMap = Callable[[], FittedMap]
"""Fits one map (reporting its epochs through the run's reporter): its boxes, network and
metrics."""


def train_map(run: TrainRun, spec: MapSpec, fit_map: FitMap) -> MapOutcome:
    """Creates the map's record, fits it, then publishes it, or marks it failed.

    Raises:
        JobCancelled: after marking the map failed, when the job is being stopped.
    """
    with session_scope(run.sessions) as session:
        record = repository.create_map(
            session,
            relation=spec.relation,
            dim=spec.dim,
            representation=spec.representation,
            params=spec.record_params(),
            job_id=run.callbacks.job_id,
        )
    run.reporter.start_map()
    try:
        use_train_threads(run.settings.train_threads)
        fitted = fit_map()
        metrics = fitted.metrics
        run.reporter.finish_fits()
        run.reporter.step(f"{spec.label}: saving")
        publish_fitted_map(
            run.sessions,
            map_id=record.id,
            dataset_ids=spec.dataset_ids,
            fitted=fitted,
            on_ready=run.callbacks.on_ready,
            on_ranking=run.reporter.ranking(spec.label),
        )
    except Exception as e:
        error = fail_map(run.sessions, map_id=record.id, what=spec.label, error=e)
        return MapOutcome(dim=spec.dim, map_id=record.id, status="failed", error=error)
    if run.callbacks.on_published is not None:
        run.callbacks.on_published(record.id)
    log.info("published %s %d: %s", spec.label, record.id, metrics)
    return MapOutcome(dim=spec.dim, map_id=record.id, status="published", metrics=metrics)
