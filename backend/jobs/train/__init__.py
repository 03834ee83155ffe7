"""The train job: `task2box train` and `POST /api/jobs/train` both run `run_train`.

`run_train` checks the request, hands it to its relation's trainer (`containment.py`,
`transfer.py`) with every callback, and turns failed maps into `TrainFailed` once the maps
that succeeded are published. What both relations share lives in `common.py`; the two never
import each other.
"""

from __future__ import annotations

from collections.abc import Callable

from backend.config import Settings
from backend.db.engine import SessionFactory, session_factory_for
from backend.errors import InvalidInputError, TrainFailed
from backend.jobs.train.common import (
    MapOutcome,
    TrainCallbacks,
    Trainer,
    TrainProgress,
    TrainRequest,
    TrainSummary,
)
from backend.jobs.train.containment import train_containment
from backend.jobs.train.transfer import train_transfer
from backend.representations.base import Representer
from backend.representations.label_text import LabelTextEmbedder

TRAINERS: dict[str, Trainer] = {"containment": train_containment, "transfer": train_transfer}
TRAINABLE_RELATIONS = tuple(TRAINERS)
MAX_DIM = 16


def run_train(
    settings: Settings,
    request: TrainRequest,
    *,
    sessions: SessionFactory | None = None,
    progress: TrainProgress | None = None,
    representer: Representer | None = None,
    embedder: LabelTextEmbedder | None = None,
    on_ready: Callable[[int], None] | None = None,
    on_published: Callable[[int], None] | None = None,
    job_id: int | None = None,
) -> TrainSummary:
    """Fits and publishes one map per dimension of `request`.

    Args:
        settings: epochs, validation fraction, label-match τ, device, cache dir.
        request: relation, dimensions, representation and epochs.
        sessions: the session factory; defaults to the one for `settings.database_url`.
        progress: called as (done, total, message) during the run.
        representer: computes the features (default: the `request.representation` one).
        embedder: embeds label texts (default: MiniLM).
        on_ready: called with a map id once it is fully written, before it is published.
        on_published: called with a map id right after its publishing commit.
        job_id: the job this run is (its maps record it, and fail when it fails).

    Returns:
        The summary; every map in it is published.

    Raises:
        InvalidInputError: for a relation that cannot be trained here, a bad dimension, or
            features the relation does not train on.
        InvalidStateError: when there is nothing to train on (too few datasets, no scores).
        TrainFailed: if any map failed (the others are published).
    """
    trainer = TRAINERS.get(request.relation)
    if trainer is None:
        raise InvalidInputError(
            f"training {request.relation!r} maps is not available; "
            f"trainable: {', '.join(TRAINABLE_RELATIONS)}"
        )
    if not request.dims or any(not 1 <= d <= MAX_DIM for d in request.dims):
        raise InvalidInputError(f"dims must be in 1..{MAX_DIM}, got {list(request.dims)}")
    summary = trainer(
        settings,
        request,
        sessions or session_factory_for(settings.database_url),
        TrainCallbacks(
            progress=progress, on_ready=on_ready, on_published=on_published, job_id=job_id
        ),
        representer=representer,
        embedder=embedder,
    )
    failed = [m for m in summary.maps if m.status != "published"]
    if failed:
        raise TrainFailed("; ".join(f"{m.dim}-D map {m.map_id} failed: {m.error}" for m in failed))
    return summary


__all__ = [
    "TRAINABLE_RELATIONS",
    "MapOutcome",
    "TrainProgress",
    "TrainRequest",
    "TrainSummary",
    "run_train",
]
