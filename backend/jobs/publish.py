"""The last step of every training job: write a fitted map, then publish it, or fail it.

Shared by the containment and the transfer train jobs so that both keep the same guarantee:
the boxes, their neighbour table and the checkpoint are written first, the publish is its
own transaction after them, and readers see the previous published map until that commit.
A failed (or NaN) fit marks its map `failed` and publishes nothing.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sqlalchemy.orm import Session

from backend.db import repository
from backend.db.engine import SessionFactory, session_scope
from backend.errors import NotFoundError, public_reason
from backend.jobs.runner import JobCancelled
from backend.serving import checkpoints
from backend.serving.checkpoints import MapNetwork
from backend.serving.map_store import scoring_temperatures
from models.neighbors import TABLE_MAX_ROWS, neighbor_rows
from models.ranking import BoxIndex
from models.trained import TrainedBoxModel

log = logging.getLogger(__name__)


@dataclass(frozen=True, eq=False)
class FittedMap:
    """A fitted map, ready to write.

    Attributes:
        lo, hi: `(N, d)` box corners, row i for the job's i-th dataset.
        network: what places new datasets (stored as the map's checkpoint).
        metrics: what the fit measured.
        params: record parameters the fit decided (which model won, the temperatures its
            containment is read with), merged into those the map was created with.
        label_matches: the cosine label matches and corroborated dataset pairs of a
            containment map's targets, kept so the server counts coverage by the same rule.
    """

    lo: np.ndarray
    hi: np.ndarray
    network: MapNetwork
    metrics: dict[str, float]
    params: Mapping[str, Any] = field(default_factory=dict)
    label_matches: repository.LabelMatches | None = None

    @classmethod
    def from_vector(
        cls, model: TrainedBoxModel, x: np.ndarray, metrics: dict[str, float], **extra: Any
    ) -> FittedMap:
        """The boxes of the feature rows `x` under a vector model."""
        boxes = model.boxes(x)
        return cls(boxes.lo, boxes.hi, model, metrics, **extra)


def publish_fitted_map(
    factory: SessionFactory,
    *,
    map_id: int,
    dataset_ids: Sequence[str],
    fitted: FittedMap,
    on_ready: Callable[[int], None] | None = None,
    on_ranking: Callable[[int, int], None] | None = None,
) -> None:
    """Writes a fitted map (its parameters, label matches, boxes, neighbour table and
    checkpoint), then publishes it.

    `on_ready(map_id)` runs between the two, so a server can load the map into memory before
    readers are switched to it. `on_ranking(done, total)` reports the neighbour ranking (~1 s
    per 1,000 boxes on a small CPU); a job's progress callback raises there to cancel it.
    """
    with session_scope(factory) as session:
        if fitted.params:
            repository.update_map_params(session, map_id=map_id, params=fitted.params)
        if fitted.label_matches is not None:
            matches = fitted.label_matches
            repository.save_map_label_matches(
                session,
                map_id=map_id,
                threshold=matches.threshold,
                pairs=matches.pairs,
                corroborated=matches.corroborated,
            )
        repository.save_map_boxes(
            session, map_id=map_id, dataset_ids=list(dataset_ids), lo=fitted.lo, hi=fitted.hi
        )
        save_neighbor_table(
            session,
            map_id=map_id,
            dataset_ids=list(dataset_ids),
            lo=fitted.lo,
            hi=fitted.hi,
            progress=on_ranking,
        )
        repository.finish_map(
            session,
            map_id=map_id,
            metrics=fitted.metrics,
            checkpoint=checkpoints.to_bytes(fitted.network),
        )
    if on_ready is not None:
        on_ready(map_id)
    with session_scope(factory) as session:
        repository.publish_map(session, map_id=map_id)


def save_neighbor_table(
    session: Session,
    *,
    map_id: int,
    dataset_ids: Sequence[str],
    lo: np.ndarray,
    hi: np.ndarray,
    progress: Callable[[int, int], None] | None = None,
) -> None:
    """Ranks every box of a training map against all others, once, and stores the table
    that `/related` answers from (`models.neighbors`). Skipped above
    `TABLE_MAX_ROWS` boxes, where requests rank on their own.

    The corners are rounded to float32 first, as they are stored, so that the table ranks
    exactly the boxes the server will load.
    """
    if len(dataset_ids) > TABLE_MAX_ROWS:
        log.info("map %d: %d boxes, no neighbour table", map_id, len(dataset_ids))
        return
    record = repository.get_map(session, map_id=map_id)
    if record is None:
        raise NotFoundError(f"no map with id {map_id}")
    beta, gumbel_beta = scoring_temperatures(record)
    index = BoxIndex.build(
        np.asarray(lo, dtype=np.float32), np.asarray(hi, dtype=np.float32), beta, gumbel_beta
    )
    started = time.perf_counter()
    rows = neighbor_rows(index, progress=progress)
    repository.save_map_neighbors(session, map_id=map_id, dataset_ids=dataset_ids, rows=rows)
    log.info(
        "map %d: ranked %d boxes in both directions in %.1f s",
        map_id,
        len(dataset_ids),
        time.perf_counter() - started,
    )


def fail_map(factory: SessionFactory, *, map_id: int, what: str, error: Exception) -> str:
    """Marks the map failed (readers keep the previous map) and returns its public reason.

    The log gets the full error; the map (listed publicly by `GET /api/maps`) and the job
    summary get `backend.errors.public_reason`, never a database error's SQL.

    Raises:
        JobCancelled: again, after recording it, when the job is being stopped: a shutdown
            stops the whole run, not just this map.
    """
    log.error("%s %d failed: %s: %s", what, map_id, type(error).__name__, error)
    reason = public_reason(error)
    with session_scope(factory) as session:
        repository.fail_map(session, map_id=map_id, error=reason)
    if isinstance(error, JobCancelled):
        raise error
    return reason
