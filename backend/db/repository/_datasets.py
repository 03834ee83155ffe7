"""Datasets and labels as the API, the trainer and the jobs read them."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import ColumnElement, Select, func, or_, select
from sqlalchemy.orm import Session

from backend.db.repository._common import chunks
from backend.db.repository._types import (
    CountsByStatus,
    DatasetDetail,
    DatasetPage,
    DatasetSummary,
    LabelSet,
)
from backend.db.tables import Dataset, Label
from models.targets import label_matches_query, label_query_words

# The most rows one `list_datasets` call returns, whoever calls it; the API asks for fewer
# (`schemas.MAX_PAGE_SIZE`).
MAX_DATASETS_PER_QUERY = 500
# A class-name search reads at most this many candidate label rows (a word such as "a"
# would otherwise read the whole labels table), and keeps this many matches per dataset.
MAX_LABEL_CANDIDATES = 20_000
MATCHED_LABELS_SHOWN = 5


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
    label: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> DatasetPage:
    """Datasets matching every given filter, most downloaded first, with the total count.

    `q` is a case-insensitive substring of the id or pretty name (LIKE wildcards in it are
    taken literally). `label` finds datasets by class name (`models.targets.
    label_matches_query`), and the page then names each dataset's matching classes.
    `status=None` includes skipped and failed datasets.

    Raises:
        ValueError: if `limit` is not in 1..MAX_DATASETS_PER_QUERY or `offset` is negative.
    """
    if not 1 <= limit <= MAX_DATASETS_PER_QUERY:
        raise ValueError(f"limit must be in 1..{MAX_DATASETS_PER_QUERY}, got {limit}")
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
    matched: dict[str, list[str]] = {}
    if label is not None:
        matched = _label_matches(session, label)
        conditions.append(Dataset.id.in_(list(matched)))
    total = session.scalar(select(func.count()).select_from(Dataset).where(*conditions)) or 0
    query: Select[Dataset] = (
        select(Dataset)
        .where(*conditions)
        .order_by(Dataset.downloads.desc(), Dataset.id)
        .limit(limit)
        .offset(offset)
    )
    items = [_summary(row) for row in session.scalars(query)]
    return DatasetPage(
        total=total,
        items=items,
        limit=limit,
        offset=offset,
        matched_labels={s.id: tuple(matched[s.id]) for s in items if s.id in matched},
    )


def _label_matches(session: Session, label: str) -> dict[str, list[str]]:
    """Datasets with a class matching the search `label`, and those classes (in label order).

    SQL narrows the candidates with a LIKE on each word's stem (case-insensitive for ASCII;
    the stem drops a final "y", so "puppy" also finds "Puppies"), and the exact rule is then
    applied in Python, where the normalization lives.
    """
    words = label_query_words(label)
    if not words:
        return {}
    stems = [w[:-1] if w.endswith("y") and len(w) > 3 else w for w in words]
    pattern = "%" + "%".join(_escape_like(stem) for stem in stems) + "%"
    rows = session.execute(
        select(Label.dataset_id, Label.name)
        .where(func.lower(Label.name).like(pattern, escape="\\"))
        .order_by(Label.dataset_id, Label.position)
        .limit(MAX_LABEL_CANDIDATES)
    )
    matched: dict[str, list[str]] = {}
    for dataset_id, name in rows:
        if label_matches_query(name, words):
            names = matched.setdefault(dataset_id, [])
            if len(names) < MATCHED_LABELS_SHOWN:
                names.append(name)
    return matched


def dataset_exists(session: Session, *, dataset_id: str) -> bool:
    """Whether a dataset with this id is stored."""
    found = session.execute(select(Dataset.id).where(Dataset.id == dataset_id)).first()
    return found is not None


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


def get_dataset_summaries(
    session: Session, *, dataset_ids: Sequence[str]
) -> dict[str, DatasetSummary]:
    """Summaries of the given ids (any status) keyed by id; unknown ids are absent."""
    found: dict[str, DatasetSummary] = {}
    for part in chunks(list(dict.fromkeys(dataset_ids))):
        for row in session.scalars(select(Dataset).where(Dataset.id.in_(part))):
            found[row.id] = _summary(row)
    return found


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
