"""Measured source→target transfer scores (imported from a CSV matrix)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import delete, func, insert, or_, select, update
from sqlalchemy.orm import Session

from backend.db.repository._common import chunks, require_aware, utcnow
from backend.db.repository._types import (
    DatasetText,
    TransferImportResult,
    TransferScoreRecord,
    TransferScoresSummary,
    TransferTaskIn,
)
from backend.db.tables import Dataset, TransferScore
from backend.records import MAX_DESCRIPTION_CHARS, MAX_ID_CHARS
from models.opaque import description_document


def get_transfer_scores(
    session: Session, *, dataset_id: str | None = None, imported_by: datetime | None = None
) -> list[TransferScoreRecord]:
    """All measured scores, or those where `dataset_id` is the source or the target; with
    `imported_by`, only those imported at or before that time (what a map was fitted to)."""
    query = select(TransferScore.source_id, TransferScore.target_id, TransferScore.score)
    if imported_by is not None:
        require_aware("imported_by", imported_by)
        query = query.where(TransferScore.imported_at <= imported_by)
    if dataset_id is not None:
        query = query.where(
            or_(TransferScore.source_id == dataset_id, TransferScore.target_id == dataset_id)
        )
    rows = session.execute(query.order_by(TransferScore.source_id, TransferScore.target_id))
    return [TransferScoreRecord(r.source_id, r.target_id, r.score) for r in rows]


def _check_scores(scores: Sequence[tuple[str, str, float]]) -> dict[tuple[str, str], float]:
    merged: dict[tuple[str, str], float] = {}
    for source, target, score in scores:
        if source == target:
            raise ValueError(f"a transfer score needs two datasets, got {source!r} twice")
        if not math.isfinite(score) or score < 0:
            raise ValueError(f"score of {source!r}→{target!r} must be finite and >= 0: {score}")
        if not source or not target or max(len(source), len(target)) > MAX_ID_CHARS:
            raise ValueError(f"ids must be 1..{MAX_ID_CHARS} chars: {source!r:.80}→{target!r:.80}")
        merged[(source, target)] = float(score)
    return merged


def import_transfer(
    session: Session,
    *,
    scores: Sequence[tuple[str, str, float]],
    tasks: Sequence[TransferTaskIn] = (),
    imported_at: datetime,
    replace_all: bool = False,
) -> TransferImportResult:
    """Stores measured scores and creates the tasks they name, in ONE commit.

    An id that is not in the database becomes a dataset of source `import` (status ok, no
    labels), described by its `tasks` entry if there is one. A description or name is also
    applied to tasks an earlier import created; Hub and catalog datasets are never changed.
    Later duplicates of a pair win, and stored scores of the same pairs are replaced.

    Raises:
        ValueError: on a self pair, a negative or non-finite score, an over-long id or a
            naive time; nothing is written.
    """
    require_aware("imported_at", imported_at)
    merged = _check_scores(scores)
    text = {t.id: t for t in tasks}
    ids = sorted({i for pair in merged for i in pair})
    sources: dict[str, str] = {}
    for part in chunks(ids):
        found = session.execute(select(Dataset.id, Dataset.source).where(Dataset.id.in_(part)))
        sources.update({r.id: r.source for r in found})
    now = utcnow()
    created = [i for i in ids if i not in sources]
    for task_id in created:
        task = text.get(task_id)
        session.add(
            Dataset(
                id=task_id,
                status="ok",
                source="import",
                num_labels=0,
                tags=[],
                splits={},
                downloads=0,
                likes=0,
                pretty_name=_clip(task.name if task else None, MAX_ID_CHARS),
                description=_clip(task.description if task else None, MAX_DESCRIPTION_CHARS),
                created_at=now,
                updated_at=now,
            )
        )
    described = [i for i in ids if sources.get(i) == "import" and i in text]
    for task_id in described:
        task = text[task_id]
        values: dict[str, object] = {"updated_at": now}
        if task.description is not None:
            values["description"] = _clip(task.description, MAX_DESCRIPTION_CHARS)
        if task.name is not None:
            values["pretty_name"] = _clip(task.name, MAX_ID_CHARS)
        session.execute(update(Dataset).where(Dataset.id == task_id).values(**values))
    session.flush()  # the new datasets must exist before scores refer to them
    if replace_all:
        session.execute(delete(TransferScore))
    else:
        _delete_pairs(session, list(merged))
    rows = [
        {"source_id": s, "target_id": t, "score": v, "imported_at": imported_at}
        for (s, t), v in merged.items()
    ]
    if rows:
        session.execute(insert(TransferScore), rows)
    total = int(session.scalar(select(func.count()).select_from(TransferScore)) or 0)
    session.commit()
    return TransferImportResult(
        scores=len(rows),
        created=tuple(created),
        described=tuple(described),
        replaced_all=replace_all,
        total_scores=total,
    )


def _delete_pairs(session: Session, pairs: Sequence[tuple[str, str]]) -> None:
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


def _clip(value: str | None, limit: int) -> str | None:
    return None if value is None else value[:limit]


def count_transfer_scores(session: Session) -> int:
    """How many measured transfer scores are stored."""
    return int(session.scalar(select(func.count()).select_from(TransferScore)) or 0)


def get_transfer_summary(session: Session) -> TransferScoresSummary:
    """Counts of stored scores and of the tasks they name, and the latest import time."""
    row = session.execute(
        select(func.count(), func.max(TransferScore.imported_at)).select_from(TransferScore)
    ).one()
    tasks = select(TransferScore.source_id.label("id")).union(select(TransferScore.target_id))
    n_tasks = session.scalar(select(func.count()).select_from(tasks.subquery()))
    imported_at = row[1]
    if imported_at is not None and imported_at.tzinfo is None:  # aggregates skip the decorator
        imported_at = imported_at.replace(tzinfo=UTC)
    return TransferScoresSummary(
        scores=int(row[0] or 0), tasks=int(n_tasks or 0), imported_at=imported_at
    )


def get_dataset_texts(session: Session, *, dataset_ids: Sequence[str]) -> list[DatasetText]:
    """Name, description and label count of each known id (for text features), by id."""
    out: list[DatasetText] = []
    query = select(
        Dataset.id,
        Dataset.pretty_name,
        Dataset.description,
        Dataset.num_labels,
        Dataset.status,
        Dataset.source,
    )
    for part in chunks(sorted(set(dataset_ids))):
        for r in session.execute(query.where(Dataset.id.in_(part))):
            out.append(
                DatasetText(r.id, r.pretty_name, r.description, r.num_labels, r.status, r.source)
            )
    return sorted(out, key=lambda t: t.id)


def get_dataset_documents(session: Session, *, dataset_ids: Sequence[str]) -> dict[str, str]:
    """What each dataset is, in words (`models.opaque.description_document`: its name and the
    opening of its card), for every id asked; an unknown id is described by itself. This is
    what corroborates opaque class names and what places a dataset that has nothing else."""
    texts = {t.id: t for t in get_dataset_texts(session, dataset_ids=dataset_ids)}
    out: dict[str, str] = {}
    for dataset_id in dataset_ids:
        text = texts.get(dataset_id)
        out[dataset_id] = description_document(
            dataset_id,
            text.pretty_name if text else None,
            text.description if text else None,
        )
    return out
