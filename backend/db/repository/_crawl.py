"""The crawler's side of datasets: incremental-crawl lookups and batched upserts.

Every write here is one commit, so a crawl killed at any moment (even SIGKILL) loses at most
the batch in flight, and a rerun resumes from what is stored.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session

from backend.db.repository._common import chunks, labels_hash, require_aware, utcnow
from backend.db.tables import Dataset, Label
from backend.records import MAX_DESCRIPTION_CHARS, MAX_ID_CHARS, MAX_LABEL_CHARS, DatasetRecord

_MAX_TAGS = 100
_MAX_TAG_CHARS = 100
_MAX_SHORT = 64  # license, sha


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


def get_dataset_shas(session: Session, ids: Sequence[str]) -> dict[str, str | None]:
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
    session: Session, records: Sequence[DatasetRecord], *, crawled_at: datetime
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
    session: Session, stats: Mapping[str, tuple[int, int]], *, crawled_at: datetime
) -> None:
    """Sets downloads and likes of unchanged datasets in one commit; unknown ids are ignored."""
    require_aware("crawled_at", crawled_at)
    known = get_dataset_shas(session, list(stats))
    rows = [
        {"id": i, "downloads": max(0, d), "likes": max(0, lk), "crawled_at": crawled_at}
        for i, (d, lk) in stats.items()
        if i in known
    ]
    if rows:
        session.execute(update(Dataset), rows)
    session.commit()
