"""Maps and their boxes: written in full, then published in one transaction.

Life of a map: `create_map` (training) → `save_map_boxes` → `finish_map` (ready) →
`publish_map` (published; the previous published map of the same relation and dimension
becomes retired in the same commit). `fail_map` marks a run failed; a failed map can never be
published, so it never replaces a good one. Boxes of a published map are immutable, so
readers may cache them by map id.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, cast

import numpy as np
from sqlalchemy import delete, func, insert, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from backend.db.repository._common import chunks, from_blob, to_blob, utcnow
from backend.db.repository._types import BoxRecord, MapBoxes, MapRecord
from backend.db.tables import Box, Dataset, Map
from backend.errors import InvalidStateError, NotFoundError, StorageError
from backend.vocab import RELATIONS, MapStatus

_PUBLISHABLE = ("ready", "retired")


def _record(row: Map, *, has_checkpoint: bool) -> MapRecord:
    return MapRecord(
        id=row.id,
        relation=row.relation,
        dim=row.dim,
        representation=row.representation,
        status=cast(MapStatus, row.status),
        params=dict(row.params or {}),
        metrics=dict(row.metrics or {}),
        error=row.error,
        num_boxes=row.num_boxes,
        has_checkpoint=has_checkpoint,
        created_at=row.created_at,
        published_at=row.published_at,
        job_id=row.job_id,
    )


def _load(session: Session, map_id: int) -> Map:
    row = session.get(Map, map_id)
    if row is None:
        raise NotFoundError(f"no map with id {map_id}")
    return row


def _has_checkpoint(session: Session, map_ids: Sequence[int]) -> set[int]:
    if not map_ids:
        return set()
    query = select(Map.id).where(Map.id.in_(map_ids), Map.checkpoint.is_not(None))
    return set(session.scalars(query))


def _records(session: Session, rows: Sequence[Map]) -> list[MapRecord]:
    with_ckpt = _has_checkpoint(session, [r.id for r in rows])
    return [_record(r, has_checkpoint=r.id in with_ckpt) for r in rows]


def _check_finite_json(name: str, value: object) -> None:
    # JSON has no NaN/Infinity; a NaN metric is a failed run, not a number to store.
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"{name} holds a non-finite number: {value}")
    if isinstance(value, Mapping):
        for k, v in value.items():
            _check_finite_json(f"{name}.{k}", v)
    elif isinstance(value, list | tuple):
        for i, v in enumerate(value):
            _check_finite_json(f"{name}[{i}]", v)


def create_map(
    session: Session,
    *,
    relation: str,
    dim: int,
    representation: str,
    params: Mapping[str, Any] | None = None,
    job_id: int | None = None,
) -> MapRecord:
    """Registers a map that is being trained; it is invisible to readers until published.

    `job_id` names the train job fitting it: failing that job fails this map if it is still
    training (`fail_job`).

    Raises:
        ValueError: on an unknown relation or a dimension < 1.
    """
    if relation not in RELATIONS:
        raise ValueError(f"relation must be one of {RELATIONS}, got {relation!r}")
    if dim < 1:
        raise ValueError(f"dim must be >= 1, got {dim}")
    _check_finite_json("params", dict(params or {}))
    row = Map(
        relation=relation,
        dim=dim,
        representation=representation,
        status="training",
        params=dict(params or {}),
        metrics={},
        num_boxes=0,
        created_at=utcnow(),
        job_id=job_id,
    )
    session.add(row)
    session.commit()
    return _record(row, has_checkpoint=False)


def save_map_boxes(
    session: Session, *, map_id: int, dataset_ids: Sequence[str], lo: np.ndarray, hi: np.ndarray
) -> None:
    """Writes every box of a training map (replacing any written before), in one commit.

    Raises:
        NotFoundError: if the map or any dataset id is unknown.
        InvalidStateError: if the map is not in `training`.
        ValueError: on mismatched shapes, duplicate ids, non-finite corners or `lo > hi`.
    """
    row = _load(session, map_id)
    if row.status != "training":
        raise InvalidStateError(f"map {map_id} is {row.status}; boxes are written while training")
    lo = np.asarray(lo, dtype=np.float32)
    hi = np.asarray(hi, dtype=np.float32)
    expected = (len(dataset_ids), row.dim)
    if lo.shape != expected or hi.shape != expected:
        raise ValueError(f"lo/hi must have shape {expected}, got {lo.shape} and {hi.shape}")
    if len(set(dataset_ids)) != len(dataset_ids):
        raise ValueError("dataset_ids contains duplicates")
    if not (np.isfinite(lo).all() and np.isfinite(hi).all()):
        raise ValueError(f"map {map_id} has non-finite box corners (NaN or inf)")
    bad = np.flatnonzero((lo > hi).any(axis=1))
    if bad.size:
        raise ValueError(f"lo > hi for dataset {dataset_ids[int(bad[0])]!r}")
    known: set[str] = set()
    for part in chunks(list(dataset_ids)):
        known.update(session.scalars(select(Dataset.id).where(Dataset.id.in_(part))))
    missing = [i for i in dataset_ids if i not in known]
    if missing:
        raise NotFoundError(f"{len(missing)} unknown dataset ids, e.g. {missing[0]!r}")
    session.execute(delete(Box).where(Box.map_id == map_id))
    rows = [
        {"map_id": map_id, "dataset_id": d, "lo": to_blob(lo[i]), "hi": to_blob(hi[i])}
        for i, d in enumerate(dataset_ids)
    ]
    if rows:
        session.execute(insert(Box), rows)
    row.num_boxes = len(rows)
    session.commit()


def update_map_params(session: Session, *, map_id: int, params: Mapping[str, Any]) -> MapRecord:
    """Merges `params` into a training map's parameters (what its fit decided, such as the
    model that won and the temperatures its containment is read with).

    Raises:
        InvalidStateError: if the map is not training.
        ValueError: if a value is NaN or infinite.
    """
    row = _load(session, map_id)
    if row.status != "training":
        raise InvalidStateError(f"map {map_id} is {row.status}, not training")
    _check_finite_json("params", dict(params))
    row.params = {**(row.params or {}), **params}  # a new dict: JSON columns track assignment
    session.commit()
    return _records(session, [row])[0]


def finish_map(
    session: Session,
    *,
    map_id: int,
    metrics: Mapping[str, Any],
    checkpoint: bytes | None = None,
) -> MapRecord:
    """Marks a fully written map `ready` (publishable), with its metrics and network weights.

    Raises:
        InvalidStateError: if the map is not training or has no boxes.
        ValueError: if a metric is NaN or infinite.
    """
    row = _load(session, map_id)
    if row.status != "training":
        raise InvalidStateError(f"map {map_id} is {row.status}, not training")
    if row.num_boxes == 0:
        raise InvalidStateError(f"map {map_id} has no boxes; write them before finishing")
    _check_finite_json("metrics", dict(metrics))
    row.metrics = dict(metrics)
    row.checkpoint = checkpoint
    row.status = "ready"
    session.commit()
    return _record(row, has_checkpoint=checkpoint is not None)


def fail_map(session: Session, *, map_id: int, error: str) -> MapRecord:
    """Marks a map failed. Published maps are left alone (a failure never unpublishes)."""
    row = _load(session, map_id)
    if row.status in ("published", "retired"):
        raise InvalidStateError(f"map {map_id} is {row.status}; it cannot fail now")
    row.status = "failed"
    row.error = error[:4000]
    session.commit()
    return _records(session, [row])[0]


def publish_map(session: Session, *, map_id: int) -> MapRecord:
    """Publishes a ready (or retired) map in ONE transaction.

    The previously published map of the same relation and dimension is retired in the same
    commit, so a reader sees either the old map or the new one, never neither or both.

    Raises:
        NotFoundError: if the map does not exist.
        InvalidStateError: if it is training, failed, or has no boxes.
    """
    row = _load(session, map_id)
    if row.status not in _PUBLISHABLE or row.num_boxes == 0:
        raise InvalidStateError(
            f"map {map_id} is {row.status} with {row.num_boxes} boxes; only a ready map "
            "with boxes can be published"
        )
    previous = session.scalars(
        select(Map).where(
            Map.relation == row.relation,
            Map.dim == row.dim,
            Map.status == "published",
            Map.id != map_id,
        )
    ).all()
    for old in previous:
        old.status = "retired"
    row.status = "published"
    row.published_at = utcnow()
    session.commit()
    return _records(session, [row])[0]


def get_map(session: Session, *, map_id: int) -> MapRecord | None:
    """A map's metadata, or None."""
    row = session.get(Map, map_id)
    return None if row is None else _records(session, [row])[0]


def list_maps(
    session: Session, *, status: str | None = None, relation: str | None = None
) -> list[MapRecord]:
    """Maps, newest first, optionally of one status and relation."""
    query = select(Map).order_by(Map.created_at.desc(), Map.id.desc())
    if status is not None:
        query = query.where(Map.status == status)
    if relation is not None:
        query = query.where(Map.relation == relation)
    return _records(session, session.scalars(query).all())


def get_published_map(
    session: Session, *, relation: str, dim: int | None = None
) -> MapRecord | None:
    """The published map of `relation` (and `dim`); with no `dim`, the lowest-dimensional one."""
    query = select(Map).where(Map.relation == relation, Map.status == "published")
    if dim is not None:
        query = query.where(Map.dim == dim)
    row = session.scalars(query.order_by(Map.dim, Map.published_at.desc()).limit(1)).first()
    return None if row is None else _records(session, [row])[0]


def get_published_maps(session: Session, *, relation: str | None = None) -> list[MapRecord]:
    """Every published map (at most one per relation and dimension), by relation then dim."""
    query = select(Map).where(Map.status == "published")
    if relation is not None:
        query = query.where(Map.relation == relation)
    rows = session.scalars(query.order_by(Map.relation, Map.dim)).all()
    return _records(session, rows)


def get_published_map_ids(
    session: Session, *, relation: str | None = None
) -> list[tuple[int, str, int]]:
    """`(map id, relation, dim)` of every published map, by relation then dim.

    The cheapest way to learn which maps are live: one indexed query, no JSON columns, so
    request handlers can afford it on every request.
    """
    query = select(Map.id, Map.relation, Map.dim).where(Map.status == "published")
    if relation is not None:
        query = query.where(Map.relation == relation)
    rows = session.execute(query.order_by(Map.relation, Map.dim))
    return [(int(r.id), str(r.relation), int(r.dim)) for r in rows]


def probe_published_map_ids(session: Session) -> list[tuple[int, str, int]] | None:
    """`get_published_map_ids()`, or None when the database does not answer (health checks)."""
    try:
        return get_published_map_ids(session)
    except (SQLAlchemyError, StorageError):  # StorageError: a file it cannot open, say
        session.rollback()
        return None


def get_map_checkpoint(session: Session, *, map_id: int) -> bytes | None:
    """The trained network's serialized weights, or None if the map has none."""
    _load(session, map_id)
    return session.scalar(select(Map.checkpoint).where(Map.id == map_id))


def get_map_boxes(session: Session, *, map_id: int, limit: int | None = None) -> MapBoxes | None:
    """Every box of a map as arrays, most downloaded datasets first; None for an unknown map."""
    row = session.get(Map, map_id)
    if row is None:
        return None
    query = (
        select(
            Box.dataset_id,
            Box.lo,
            Box.hi,
            Dataset.num_labels,
            Dataset.num_examples,
            Dataset.downloads,
            Dataset.license,
        )
        .join(Dataset, Dataset.id == Box.dataset_id)
        .where(Box.map_id == map_id)
        .order_by(Dataset.downloads.desc(), Dataset.id)
    )
    if limit is not None:
        query = query.limit(limit)
    rows = session.execute(query).all()
    dim = row.dim
    lo = np.empty((len(rows), dim), dtype=np.float32)
    hi = np.empty((len(rows), dim), dtype=np.float32)
    for i, r in enumerate(rows):
        lo[i] = from_blob(r.lo)
        hi[i] = from_blob(r.hi)
    return MapBoxes(
        map=_records(session, [row])[0],
        dataset_ids=[r.dataset_id for r in rows],
        lo=lo,
        hi=hi,
        num_labels=np.array([r.num_labels for r in rows], dtype=np.int64),
        num_examples=np.array(
            [-1 if r.num_examples is None else r.num_examples for r in rows], dtype=np.int64
        ),
        downloads=np.array([r.downloads for r in rows], dtype=np.int64),
        licenses=tuple(r.license for r in rows),
    )


def get_dataset_boxes(
    session: Session, *, dataset_id: str, published_only: bool = True
) -> dict[int, BoxRecord]:
    """A dataset's box in each (published) map, keyed by map id."""
    query = select(Box.map_id, Box.lo, Box.hi).where(Box.dataset_id == dataset_id)
    if published_only:
        query = query.join(Map, Map.id == Box.map_id).where(Map.status == "published")
    return {
        r.map_id: BoxRecord(
            map_id=r.map_id,
            lo=tuple(float(x) for x in from_blob(r.lo)),
            hi=tuple(float(x) for x in from_blob(r.hi)),
        )
        for r in session.execute(query)
    }


def count_published_maps(session: Session) -> int:
    """How many maps are published (for `/healthz`)."""
    return (
        session.scalar(select(func.count()).select_from(Map).where(Map.status == "published")) or 0
    )
