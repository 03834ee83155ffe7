"""Per-dataset feature vectors, stored with what they were computed from."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.db.repository._common import chunks, from_blob, to_blob, utcnow
from backend.db.repository._types import (
    RepresentationIn,
    RepresentationMatrix,
    RepresentationState,
)
from backend.db.tables import Representation


def get_representation_states(session: Session, *, kind: str) -> dict[str, RepresentationState]:
    """For every dataset with a stored `kind` vector: its model version and labels hash."""
    query = select(
        Representation.dataset_id, Representation.model_version, Representation.labels_hash
    ).where(Representation.kind == kind)
    return {
        r.dataset_id: RepresentationState(r.dataset_id, r.model_version, r.labels_hash)
        for r in session.execute(query)
    }


def save_representations(
    session: Session, *, kind: str, model_version: str, items: Sequence[RepresentationIn]
) -> None:
    """Inserts or replaces vectors of one kind in one commit.

    Raises:
        ValueError: on a non-1-D or non-finite vector.
    """
    now = utcnow()
    ids = [item.dataset_id for item in items]
    existing: dict[str, Representation] = {}
    for part in chunks(ids):
        query = select(Representation).where(
            Representation.kind == kind, Representation.dataset_id.in_(part)
        )
        existing.update({r.dataset_id: r for r in session.scalars(query)})
    for item in items:
        vector = np.asarray(item.vector, dtype=np.float32)
        if vector.ndim != 1 or vector.size == 0 or not np.isfinite(vector).all():
            raise ValueError(
                f"vector of {item.dataset_id!r} must be a finite non-empty 1-D array, "
                f"got shape {vector.shape}"
            )
        row = existing.get(item.dataset_id)
        if row is None:
            row = Representation(dataset_id=item.dataset_id, kind=kind)
            session.add(row)
        row.model_version = model_version
        row.labels_hash = item.labels_hash
        row.dim = int(vector.size)
        row.vector = to_blob(vector)
        row.computed_at = now
    session.commit()


def load_representations(
    session: Session, *, kind: str, dataset_ids: Sequence[str] | None = None
) -> RepresentationMatrix:
    """Stored vectors of `kind` as one `(n, dim)` matrix, ordered by dataset id.

    Raises:
        ValueError: if the stored vectors have different dimensions (mixed model versions).
    """
    base = select(
        Representation.dataset_id, Representation.vector, Representation.model_version
    ).where(Representation.kind == kind)
    if dataset_ids is None:
        rows = list(session.execute(base.order_by(Representation.dataset_id)))
    else:
        rows = []
        for part in chunks(sorted(set(dataset_ids))):
            rows.extend(session.execute(base.where(Representation.dataset_id.in_(part))))
        rows.sort(key=lambda r: r.dataset_id)
    vectors = [from_blob(r.vector) for r in rows]
    dims = {v.size for v in vectors}
    if len(dims) > 1:
        raise ValueError(f"stored {kind} vectors have mixed dimensions {sorted(dims)}")
    matrix = np.stack(vectors) if vectors else np.zeros((0, 0), dtype=np.float32)
    return RepresentationMatrix(
        kind=kind,
        dataset_ids=[r.dataset_id for r in rows],
        vectors=matrix,
    )
