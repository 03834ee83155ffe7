"""Datasets and labels: the crawler's writes and the API's reads."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, Select, delete, func, insert, or_, select, update
from sqlalchemy.orm import Session

from backend.db.repository._common import chunks, labels_hash, require_aware, utcnow
from backend.db.repository._types import (
    CountsByStatus,
    DatasetDetail,
    DatasetPage,
    DatasetSummary,
    LabelSet,
)
from backend.db.tables import Dataset, Label
from backend.records import MAX_DESCRIPTION_CHARS, MAX_ID_CHARS, MAX_LABEL_CHARS, DatasetRecord

log = logging.getLogger(__name__)

MAX_PAGE = 500
_MAX_TAGS = 100
_MAX_TAG_CHARS = 100
_MAX_SHORT = 64  # license, sha


def _summary(row: Dataset) -> DatasetSummary:
    return DatasetSummary(
        id=row.id,
        author=row.author,
        status=row.status,
        skip_reason=row.skip_reason,
        source=row.source,
        downloads=row.downloads,
        likes=row.likes,
        license=row.license,
        num_labels=row.num_labels,
        num_examples=row.num_examples,
        pretty_name=row.pretty_name,
        last_modified=row.last_modified,
        crawled_at=row.crawled_at,
    )


def _clip(text: str | None, limit: int) -> str | None:
    return None if text is None else text[:limit]


def _validate_batch(records: Sequence[DatasetRecord]) -> None:
    seen: set[str] = set()
    for record in records:
        if not record.id or len(record.id) > MAX_ID_CHARS:
            raise ValueError(f"dataset id must be 1..{MAX_ID_CHARS} chars, got {record.id!r:.80}")
        if record.id in seen:
            raise ValueError(f"dataset id {record.id!r} appears twice in one batch")
        seen.add(record.id)


def get_dataset_shas(session: Session, *, ids: Sequence[str]) -> dict[str, str | None]:
    """The stored sha of each known id; unknown ids are absent from the result.

    Failed datasets are stored with a NULL sha, so an incremental crawl always retries them.
    """
    found: dict[str, str | None] = {}
    for part in chunks(list(dict.fromkeys(ids))):
        rows = session.execute(select(Dataset.id, Dataset.sha).where(Dataset.id.in_(part)))
        found.update({row.id: row.sha for row in rows})
    return found


def get_dataset_sources(session: Session, *, ids: Sequence[str]) -> dict[str, str]:
    """Where each known id came from (`hub`, `catalog`, `import`); unknown ids are absent."""
    found: dict[str, str] = {}
    for part in chunks(list(dict.fromkeys(ids))):
        rows = session.execute(select(Dataset.id, Dataset.source).where(Dataset.id.in_(part)))
        found.update({row.id: row.source for row in rows})
    return found


def save_crawl_batch(
    session: Session, *, records: Sequence[DatasetRecord], crawled_at: datetime
) -> None:
    """Upserts a batch of datasets and their labels in ONE commit.

    Labels are replaced only when the ordered label list changed (by hash), so unchanged
    datasets keep their rows and their representations stay fresh. A `failed` record never
    overwrites a dataset that is already `ok`: the good metadata and labels stay, and only
    `error` and `crawled_at` record the failure. A killed process loses at most this batch.

    Raises:
        ValueError: on an empty or over-long id, a duplicate id in the batch, or a naive time.
    """
    require_aware("crawled_at", crawled_at)
    _validate_batch(records)
    if not records:
        return
    now = utcnow()
    existing: dict[str, Dataset] = {}
    for part in chunks([r.id for r in records]):
        existing.update(
            {row.id: row for row in session.scalars(select(Dataset).where(Dataset.id.in_(part)))}
        )
    relabel: dict[str, tuple[str, ...]] = {}
    for record in records:
        row = existing.get(record.id)
        if record.status == "failed" and row is not None and row.status == "ok":
            row.error = _clip(record.error, MAX_DESCRIPTION_CHARS)
            row.crawled_at = crawled_at
            row.updated_at = now
            continue
        if row is None:
            row = Dataset(id=record.id, created_at=now)
            session.add(row)
        labels = tuple(label[:MAX_LABEL_CHARS] for label in record.labels)
        new_hash = labels_hash(labels) if labels else None
        if row.labels_hash != new_hash or record.id not in existing:
            relabel[record.id] = labels
        _assign(row, record, labels, new_hash, crawled_at, now)
    session.flush()  # dataset rows must exist before their labels (foreign key)
    _replace_labels(session, relabel, existing_ids=set(existing))
    session.commit()


def _assign(
    row: Dataset,
    record: DatasetRecord,
    labels: tuple[str, ...],
    new_hash: str | None,
    crawled_at: datetime,
    now: datetime,
) -> None:
    row.status = record.status
    row.skip_reason = record.skip_reason
    row.error = _clip(record.error, MAX_DESCRIPTION_CHARS)
    row.source = record.source
    # A failed fetch must be retried by the next incremental crawl, so it keeps no sha.
    row.sha = None if record.status == "failed" else _clip(record.sha, _MAX_SHORT)
    row.author = _clip(record.author, MAX_ID_CHARS)
    row.last_modified = record.last_modified
    row.downloads = max(0, record.downloads)
    row.likes = max(0, record.likes)
    row.license = _clip(record.license, _MAX_SHORT)
    row.tags = [t[:_MAX_TAG_CHARS] for t in record.tags[:_MAX_TAGS]]
    row.label_column = _clip(record.label_column, MAX_ID_CHARS)
    row.splits = {str(k)[:MAX_ID_CHARS]: int(v) for k, v in record.splits.items()}
    row.num_examples = record.num_examples
    row.num_labels = len(labels)
    row.labels_hash = new_hash
    row.pretty_name = _clip(record.pretty_name, MAX_ID_CHARS)
    row.description = _clip(record.description, MAX_DESCRIPTION_CHARS)
    row.crawled_at = crawled_at
    row.updated_at = now


def _replace_labels(
    session: Session, relabel: Mapping[str, Sequence[str]], existing_ids: set[str]
) -> None:
    stale = [i for i in relabel if i in existing_ids]
    for part in chunks(stale):
        session.execute(delete(Label).where(Label.dataset_id.in_(part)))
    rows = [
        {"dataset_id": dataset_id, "position": position, "name": name}
        for dataset_id, labels in relabel.items()
        for position, name in enumerate(labels)
    ]
    if rows:
        session.execute(insert(Label), rows)


def update_popularity(
    session: Session, *, stats: Mapping[str, tuple[int, int]], crawled_at: datetime
) -> None:
    """Sets downloads and likes of unchanged datasets in one commit; unknown ids are ignored."""
    require_aware("crawled_at", crawled_at)
    known = get_dataset_shas(session, ids=list(stats))
    rows = [
        {"id": i, "downloads": max(0, d), "likes": max(0, lk), "crawled_at": crawled_at}
        for i, (d, lk) in stats.items()
        if i in known
    ]
    if rows:
        session.execute(update(Dataset), rows)
    session.commit()


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _filters(
    *,
    q: str | None,
    license: str | None,
    min_classes: int | None,
    max_classes: int | None,
    min_examples: int | None,
    max_examples: int | None,
    status: str | None,
) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if status is not None:
        conditions.append(Dataset.status == status)
    if q:
        pattern = f"%{_escape_like(q.strip().lower())}%"
        conditions.append(
            or_(
                func.lower(Dataset.id).like(pattern, escape="\\"),
                func.lower(Dataset.pretty_name).like(pattern, escape="\\"),
            )
        )
    if license is not None:
        conditions.append(Dataset.license == license)
    if min_classes is not None:
        conditions.append(Dataset.num_labels >= min_classes)
    if max_classes is not None:
        conditions.append(Dataset.num_labels <= max_classes)
    if min_examples is not None:
        conditions.append(Dataset.num_examples >= min_examples)
    if max_examples is not None:
        conditions.append(Dataset.num_examples <= max_examples)
    return conditions


def search_datasets(
    session: Session,
    *,
    q: str | None = None,
    license: str | None = None,
    min_classes: int | None = None,
    max_classes: int | None = None,
    min_examples: int | None = None,
    max_examples: int | None = None,
    status: str | None = "ok",
    limit: int = 50,
    offset: int = 0,
) -> DatasetPage:
    """Datasets matching every given filter, most downloaded first, with the total count.

    `q` is a case-insensitive substring of the id or pretty name (LIKE wildcards in it are
    taken literally). `status=None` includes skipped and failed datasets.

    Raises:
        ValueError: if `limit` is not in 1..500 or `offset` is negative.
    """
    if not 1 <= limit <= MAX_PAGE:
        raise ValueError(f"limit must be in 1..{MAX_PAGE}, got {limit}")
    if offset < 0:
        raise ValueError(f"offset must be >= 0, got {offset}")
    conditions = _filters(
        q=q,
        license=license,
        min_classes=min_classes,
        max_classes=max_classes,
        min_examples=min_examples,
        max_examples=max_examples,
        status=status,
    )
    total = session.scalar(select(func.count()).select_from(Dataset).where(*conditions)) or 0
    query: Select[Dataset] = (
        select(Dataset)
        .where(*conditions)
        .order_by(Dataset.downloads.desc(), Dataset.id)
        .limit(limit)
        .offset(offset)
    )
    items = [_summary(row) for row in session.scalars(query)]
    return DatasetPage(total=total, items=items, limit=limit, offset=offset)


def get_dataset(
    session: Session, *, dataset_id: str, max_labels: int = 1000
) -> DatasetDetail | None:
    """A dataset with its first `max_labels` labels, or None if the id is unknown."""
    if max_labels < 0:
        raise ValueError(f"max_labels must be >= 0, got {max_labels}")
    row = session.get(Dataset, dataset_id)
    if row is None:
        return None
    labels = tuple(
        session.scalars(
            select(Label.name)
            .where(Label.dataset_id == dataset_id)
            .order_by(Label.position)
            .limit(max_labels)
        )
    )
    return DatasetDetail(
        summary=_summary(row),
        labels=labels,
        num_labels=row.num_labels,
        labels_truncated=row.num_labels > len(labels),
        label_column=row.label_column,
        splits=dict(row.splits or {}),
        tags=tuple(row.tags or ()),
        sha=row.sha,
        description=row.description,
        error=row.error,
    )


def get_label_sets(
    session: Session, *, dataset_ids: Sequence[str] | None = None, status: str | None = "ok"
) -> list[LabelSet]:
    """Label lists of the given datasets (or of all with `status`), ordered by id.

    Datasets without labels are left out.
    """
    conditions: list[ColumnElement[bool]] = [Dataset.num_labels > 0]
    if status is not None:
        conditions.append(Dataset.status == status)
    parts: list[Sequence[str] | None] = (
        [None] if dataset_ids is None else list(chunks(sorted(set(dataset_ids))))
    )
    hashes: dict[str, str | None] = {}
    labels: dict[str, list[str]] = {}
    for part in parts:
        where = conditions if part is None else [*conditions, Dataset.id.in_(part)]
        for row in session.execute(select(Dataset.id, Dataset.labels_hash).where(*where)):
            hashes[row.id] = row.labels_hash
            labels[row.id] = []
        label_query = (
            select(Label.dataset_id, Label.name)
            .join(Dataset, Dataset.id == Label.dataset_id)
            .where(*where)
            .order_by(Label.dataset_id, Label.position)
        )
        for dataset_id, name in session.execute(label_query):
            labels[dataset_id].append(name)
    return [LabelSet(i, tuple(labels[i]), hashes[i]) for i in sorted(labels)]


def get_labels_hashes(session: Session, *, status: str | None = "ok") -> dict[str, str]:
    """The labels hash of every dataset that has labels (cheap: no label rows are read)."""
    query = select(Dataset.id, Dataset.labels_hash).where(
        Dataset.num_labels > 0, Dataset.labels_hash.is_not(None)
    )
    if status is not None:
        query = query.where(Dataset.status == status)
    return {row.id: row.labels_hash for row in session.execute(query)}


def count_datasets(session: Session) -> CountsByStatus:
    """Datasets per status, skipped ones per reason."""
    rows = session.execute(
        select(Dataset.status, Dataset.skip_reason, func.count()).group_by(
            Dataset.status, Dataset.skip_reason
        )
    )
    ok = failed = 0
    skipped: dict[str, int] = {}
    for status, reason, count in rows:
        if status == "ok":
            ok += count
        elif status == "failed":
            failed += count
        else:
            skipped[reason or "unknown"] = skipped.get(reason or "unknown", 0) + count
    return CountsByStatus(ok=ok, skipped=skipped, failed=failed)


def list_licenses(session: Session, *, status: str | None = "ok") -> list[tuple[str, int]]:
    """Distinct licenses with their dataset counts, most common first (for filter menus)."""
    query = select(Dataset.license, func.count()).where(Dataset.license.is_not(None))
    if status is not None:
        query = query.where(Dataset.status == status)
    rows = session.execute(query.group_by(Dataset.license).order_by(func.count().desc()))
    return [(str(license_), int(count)) for license_, count in rows]
