"""Measured source→target transfer scores (imported from a CSV matrix)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, insert, or_, select
from sqlalchemy.orm import Session

from backend.db.repository._common import chunks, require_aware
from backend.db.repository._types import TransferScoreRecord
from backend.db.tables import Dataset, TransferScore
from backend.errors import NotFoundError


def save_transfer_scores(
    session: Session,
    *,
    scores: Sequence[tuple[str, str, float]],
    imported_at: datetime,
    replace_all: bool = False,
) -> int:
    """Upserts `(source, target, score)` triples in one commit; returns how many were stored.

    Raises:
        NotFoundError: if a source or target is not a known dataset.
        ValueError: on a non-finite score, a self pair or a naive time.
    """
    require_aware("imported_at", imported_at)
    merged: dict[tuple[str, str], float] = {}
    for source, target, score in scores:
        if source == target:
            raise ValueError(f"a transfer score needs two datasets, got {source!r} twice")
        if not math.isfinite(score):
            raise ValueError(f"score of {source!r}→{target!r} is not finite: {score}")
        merged[(source, target)] = float(score)
    ids = sorted({i for pair in merged for i in pair})
    known: set[str] = set()
    for part in chunks(ids):
        known.update(session.scalars(select(Dataset.id).where(Dataset.id.in_(part))))
    missing = [i for i in ids if i not in known]
    if missing:
        raise NotFoundError(f"{len(missing)} unknown dataset ids, e.g. {missing[0]!r}")
    if replace_all:
        session.execute(delete(TransferScore))
    else:
        pairs = list(merged)
        for start in range(0, len(pairs), 200):
            session.execute(
                delete(TransferScore).where(
                    or_(
                        *[
                            (TransferScore.source_id == s) & (TransferScore.target_id == t)
                            for s, t in pairs[start : start + 200]
                        ]
                    )
                )
            )
    rows = [
        {"source_id": s, "target_id": t, "score": v, "imported_at": imported_at}
        for (s, t), v in merged.items()
    ]
    if rows:
        session.execute(insert(TransferScore), rows)
    session.commit()
    return len(rows)


def get_transfer_scores(
    session: Session, *, dataset_id: str | None = None
) -> list[TransferScoreRecord]:
    """All measured scores, or those where `dataset_id` is the source or the target."""
    query = select(TransferScore.source_id, TransferScore.target_id, TransferScore.score)
    if dataset_id is not None:
        query = query.where(
            or_(TransferScore.source_id == dataset_id, TransferScore.target_id == dataset_id)
        )
    rows = session.execute(query.order_by(TransferScore.source_id, TransferScore.target_id))
    return [TransferScoreRecord(r.source_id, r.target_id, r.score) for r in rows]
