"""Each containment map's cosine label matches (`map_label_matches`), written while it trains."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from backend.db.repository._types import LabelMatches
from backend.db.tables import Map, MapLabelMatches
from backend.errors import InvalidStateError, NotFoundError


def save_map_label_matches(
    session: Session,
    *,
    map_id: int,
    threshold: float,
    pairs: Sequence[tuple[str, str]],
    corroborated: Sequence[tuple[str, str]] = (),
) -> None:
    """Writes a training map's label matches (replacing any written before), in one commit:
    the cosine label pairs, and the dataset id pairs whose opaque names were corroborated.

    Raises:
        NotFoundError: if the map is unknown.
        InvalidStateError: if the map is not in `training`.
        ValueError: on a threshold outside [-1, 1] or a pair that is not two strings.
    """
    row = session.get(Map, map_id)
    if row is None:
        raise NotFoundError(f"no map with id {map_id}")
    if row.status != "training":
        raise InvalidStateError(
            f"map {map_id} is {row.status}; label matches are written while training"
        )
    if not -1.0 <= threshold <= 1.0:
        raise ValueError(f"threshold must be in [-1, 1], got {threshold}")
    stored = _checked(pairs, "a label match is two label texts")
    datasets = _checked(corroborated, "a corroborated pair is two dataset ids")
    session.execute(delete(MapLabelMatches).where(MapLabelMatches.map_id == map_id))
    session.execute(
        insert(MapLabelMatches),
        [{"map_id": map_id, "threshold": threshold, "pairs": stored, "corroborated": datasets}],
    )
    session.commit()


def _checked(pairs: Sequence[tuple[str, str]], what: str) -> list[list[str]]:
    out: list[list[str]] = []
    for pair in pairs:
        if len(pair) != 2 or not all(isinstance(text, str) for text in pair):
            raise ValueError(f"{what}, got {pair!r}")
        out.append([pair[0], pair[1]])
    return out


def get_map_label_matches(session: Session, *, map_id: int) -> LabelMatches | None:
    """The map's label matches, or None when it has none (a transfer map, or trained before
    they were kept)."""
    row = session.execute(select(MapLabelMatches).where(MapLabelMatches.map_id == map_id)).scalar()
    if row is None:
        return None
    return LabelMatches(
        threshold=row.threshold,
        pairs=[(a, b) for a, b in row.pairs],
        corroborated=[(a, b) for a, b in row.corroborated],
    )
