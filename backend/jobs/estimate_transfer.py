"""Estimated transfer between datasets, from labelled frozen features, into the database.

The step of the Hub transfer job that follows feature extraction: given each dataset's
sampled image features and labels, score every ordered pair with `models.transferability`
(all pairs at once, on the configured device), normalize per target, and store each
estimator's set whole. Datasets that cannot be scored are skipped with their reason, never
failing the others; measured scores are never touched (`repository.replace_transfer_estimates`).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol

import numpy as np

from backend.config import Settings
from backend.db import repository
from backend.db.engine import SessionFactory, session_scope
from backend.errors import InvalidStateError
from backend.jobs.image_features import feature_model_for
from models.device import select_device
from models.transferability import ESTIMATORS, Tasks, estimate_transfer, normalize_estimates

log = logging.getLogger(__name__)

# A class seen once says nothing about how well a probe separates it; the Hub job samples
# about ten per class, so this only drops datasets whose rows could not be read.
MIN_PER_CLASS = 2
MAX_SAMPLES = 10_000


class Sample(Protocol):
    """What a dataset's sample must offer; the image-feature index's records have it."""

    @property
    def dataset_id(self) -> str: ...
    @property
    def features(self) -> np.ndarray: ...
    @property
    def labels(self) -> np.ndarray: ...


@dataclass(frozen=True)
class LabelledFeatures:
    """One dataset's sampled image features `(n, d)` and their class labels `(n,)`."""

    dataset_id: str
    features: np.ndarray
    labels: np.ndarray


@dataclass(frozen=True)
class EstimateReport:
    """What one run stored: estimates per estimator, and each skipped dataset's reason."""

    scored: tuple[str, ...]
    stored: dict[str, int]
    skipped: dict[str, str] = field(default_factory=dict)


def skip_reason(sample: Sample, width: int | None) -> str | None:
    """Why a dataset's sample cannot be scored, or None."""
    x, y = np.asarray(sample.features), np.asarray(sample.labels)
    if x.ndim != 2 or x.shape[0] == 0:
        return f"features must be (n >= 1, d), got shape {x.shape}"
    if x.shape[0] > MAX_SAMPLES:
        return f"{x.shape[0]} samples, over the limit of {MAX_SAMPLES}"
    if width is not None and x.shape[1] != width:
        return f"features are {x.shape[1]}-d, the others {width}-d"
    if y.shape != (x.shape[0],):
        return f"{y.shape} labels for {x.shape[0]} samples"
    if not np.isfinite(x).all():
        return "features hold NaN or infinite values"
    _, counts = np.unique(y, return_counts=True)
    if len(counts) < 2:
        return "fewer than 2 classes in the sample"
    if counts.min() < MIN_PER_CLASS:
        return f"too few images per class (a class has {counts.min()}, need {MIN_PER_CLASS})"
    return None


def estimate_and_store(
    sessions: SessionFactory,
    samples: Sequence[Sample],
    *,
    feature_model: str,
    estimators: Sequence[str] = ESTIMATORS,
    device: str = "auto",
    now: datetime | None = None,
) -> EstimateReport:
    """Scores every ordered pair of the scorable datasets and stores each estimator's set.

    Raises:
        ValueError: for an unknown estimator or device, or duplicate dataset ids.
    """
    ids = [s.dataset_id for s in samples]
    if len(set(ids)) != len(ids):
        raise ValueError("each dataset may appear once in samples")
    width = None
    kept: list[Sample] = []
    skipped: dict[str, str] = {}
    for sample in samples:
        why = skip_reason(sample, width)
        if why is None:
            kept.append(sample)
            width = np.asarray(sample.features).shape[1]
        else:
            skipped[sample.dataset_id] = why
            log.info("transfer estimate: skipped %s: %s", sample.dataset_id, why)
    stored: dict[str, int] = {}
    if len(kept) < 2:
        return EstimateReport(tuple(s.dataset_id for s in kept), stored, skipped)
    tasks = Tasks.stack([(s.features, s.labels) for s in kept], device=select_device(device))
    raw = estimate_transfer(tasks, tasks, estimators=estimators)
    off = ~np.eye(len(kept), dtype=bool)
    when = now or datetime.now(UTC)
    for estimator, matrix in raw.items():
        normalized = normalize_estimates(matrix, off)
        rows = [
            (kept[i].dataset_id, kept[j].dataset_id, float(normalized[i, j]), float(matrix[i, j]))
            for i, j in zip(*np.nonzero(off), strict=True)
        ]
        with session_scope(sessions) as session:
            stored[estimator] = repository.replace_transfer_estimates(
                session,
                estimator=estimator,
                feature_model=feature_model,
                estimates=rows,
                estimated_at=when,
            )
    return EstimateReport(tuple(s.dataset_id for s in kept), stored, skipped)


def estimate_from_stored_features(
    settings: Settings, sessions: SessionFactory, *, estimators: Sequence[str] = ESTIMATORS
) -> EstimateReport:
    """Estimates every ordered pair of the datasets whose image features are stored (by
    `task2box image-features`, for the configured CLIP model), and stores them.

    Raises:
        InvalidStateError: with fewer than 2 datasets' features stored.
    """
    feature_model = feature_model_for(settings)
    with session_scope(sessions) as session:
        samples = repository.load_image_features(
            session, data_dir=settings.data_dir, feature_model=feature_model
        )
    if len(samples) < 2:
        raise InvalidStateError(
            f"transfer estimates need the image features of at least 2 datasets; "
            f"{len(samples)} are stored for {feature_model}: run `task2box image-features` first"
        )
    return estimate_and_store(
        sessions,
        samples,
        feature_model=feature_model,
        estimators=estimators,
        device=settings.device,
    )
