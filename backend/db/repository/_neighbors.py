"""Each map's precomputed top related rows (`map_neighbors`), written while it trains."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from backend.db.repository._types import MapNeighborRows
from backend.db.tables import Map, MapNeighbors
from backend.errors import InvalidStateError, NotFoundError

DIRECTIONS = ("p_in", "p_contains")


def save_map_neighbors(
    session: Session,
    *,
    map_id: int,
    dataset_ids: Sequence[str],
    rows: Mapping[str, np.ndarray],
) -> None:
    """Writes a training map's neighbour table (replacing any written before), in one commit.

    Args:
        dataset_ids: the row order of `rows`: the map's boxes, each once.
        rows: `{"p_in": (n, w), "p_contains": (n, w)}` integer rows into `dataset_ids`.

    Raises:
        NotFoundError: if the map is unknown.
        InvalidStateError: if the map is not in `training`.
        ValueError: on a missing direction, mismatched shapes, duplicate ids, a row out of
            range, or a row listed as its own neighbour.
    """
    row = session.get(Map, map_id)
    if row is None:
        raise NotFoundError(f"no map with id {map_id}")
    if row.status != "training":
        raise InvalidStateError(
            f"map {map_id} is {row.status}; neighbours are written while training"
        )
    n = len(dataset_ids)
    if len(set(dataset_ids)) != n:
        raise ValueError("dataset_ids contains duplicates")
    if set(rows) != set(DIRECTIONS):
        raise ValueError(f"rows must have exactly the directions {DIRECTIONS}, got {sorted(rows)}")
    tables = {by: np.asarray(rows[by]) for by in DIRECTIONS}
    width = tables["p_in"].shape[1] if tables["p_in"].ndim == 2 else -1
    for by, table in tables.items():
        if table.shape != (n, width) or not np.issubdtype(table.dtype, np.integer):
            raise ValueError(f"{by}: expected integer rows of shape ({n}, w), got {table.shape}")
        if table.size and (table.min() < 0 or table.max() >= n):
            raise ValueError(f"{by}: rows must be in 0..{n - 1}")
        if (table == np.arange(n)[:, None]).any():
            raise ValueError(f"{by}: a row is listed as its own neighbour")
    session.execute(delete(MapNeighbors).where(MapNeighbors.map_id == map_id))
    session.execute(
        insert(MapNeighbors),
        [
            {
                "map_id": map_id,
                "width": width,
                "dataset_ids": list(dataset_ids),
                **{by: np.ascontiguousarray(t, dtype="<i4").tobytes() for by, t in tables.items()},
            }
        ],
    )
    session.commit()


def get_map_neighbors(session: Session, *, map_id: int) -> MapNeighborRows | None:
    """The map's neighbour table, or None when it has none (trained before they existed)."""
    row = session.execute(select(MapNeighbors).where(MapNeighbors.map_id == map_id)).scalar()
    if row is None:
        return None
    n = len(row.dataset_ids)
    return MapNeighborRows(
        dataset_ids=list(row.dataset_ids),
        rows={
            by: np.frombuffer(getattr(row, by), dtype="<i4").reshape(n, row.width).astype(np.int32)
            for by in DIRECTIONS
        },
    )


def maps_with_neighbors(session: Session, *, map_ids: Sequence[int]) -> set[int]:
    """Which of `map_ids` have a neighbour table (without reading the tables)."""
    if not map_ids:
        return set()
    query = select(MapNeighbors.map_id).where(MapNeighbors.map_id.in_(list(map_ids)))
    return set(session.scalars(query))
