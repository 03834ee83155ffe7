"""Repository records → REST schemas (one function per schema family)."""

from __future__ import annotations

from backend import schemas
from backend.db import repository
from models.opaque import has_opaque_labels

HUB_DATASETS_URL = "https://huggingface.co/datasets/"


def map_public(record: repository.MapRecord) -> schemas.MapPublic:
    """A map's metadata as the API shows it (numeric metrics only)."""
    metrics = {
        k: float(v)
        for k, v in record.metrics.items()
        if isinstance(v, int | float) and not isinstance(v, bool)
    }
    return schemas.MapPublic(
        id=record.id,
        relation=record.relation,
        dim=record.dim,
        representation=record.representation,
        status=record.status,
        size=record.num_boxes,
        params=dict(record.params),
        metrics=metrics,
        has_network=record.has_checkpoint,
        error=record.error,
        created_at=record.created_at,
        published_at=record.published_at,
    )


def map_ref(record: repository.MapRecord) -> schemas.MapRef:
    """The short reference every scored response carries."""
    return schemas.MapRef.model_validate(record)


def dataset_summary(
    summary: repository.DatasetSummary, matched_labels: tuple[str, ...] = ()
) -> schemas.DatasetSummary:
    """One row of a dataset listing (with the classes a class-name search matched)."""
    return schemas.DatasetSummary(
        id=summary.id,
        author=summary.author,
        downloads=summary.downloads,
        likes=summary.likes,
        license=summary.license,
        num_labels=summary.num_labels,
        num_examples=summary.num_examples,
        status=summary.status,
        skip_reason=summary.skip_reason,
        matched_labels=list(matched_labels),
    )


def dataset_public(
    detail: repository.DatasetDetail, boxes: dict[int, repository.BoxRecord]
) -> schemas.DatasetPublic:
    """A dataset with its labels and its box in each published map."""
    s = detail.summary
    return schemas.DatasetPublic(
        **dataset_summary(s).model_dump(),
        pretty_name=s.pretty_name,
        description=detail.description,
        tags=list(detail.tags),
        splits=dict(detail.splits),
        labels=list(detail.labels),
        labels_truncated=detail.labels_truncated,
        opaque_labels=has_opaque_labels(detail.labels),
        sha=detail.sha,
        last_modified=s.last_modified,
        crawled_at=s.crawled_at,
        source=s.source,
        error=detail.error,
        # Built from the id, which matched DATASET_ID_PATTERN, never from Hub-supplied text.
        # Imported transfer tasks are not Hub datasets: no link.
        hub_url=None if s.source == "import" else HUB_DATASETS_URL + s.id,
        boxes={
            str(map_id): schemas.BoxPublic(lo=list(b.lo), hi=list(b.hi))
            for map_id, b in sorted(boxes.items())
        },
    )


def job_public(job: repository.JobRecord) -> schemas.JobPublic:
    """A job's persisted state."""
    return schemas.JobPublic.model_validate(job)
