"""The index of sampled-image features: which datasets have them (and where), at which Hub
revision, which were skipped and why. The features themselves are files
(`backend.db.feature_files`)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from backend.db.feature_files import FeatureFileError, read_features
from backend.db.repository._common import chunks, labels_hash, utcnow
from backend.db.repository._types import (
    FeatureCandidate,
    ImageFeatures,
    ImageFeaturesIn,
    ImageFeatureState,
)
from backend.db.tables import Dataset, ImageFeatureSet, TransferEstimate

_STATUSES = ("ready", "skipped")


def get_feature_candidates(session: Session, *, limit: int | None = None) -> list[FeatureCandidate]:
    """Crawled (`ok`) datasets with labels and their recorded sha, most downloaded first, at
    most `limit`."""
    query = (
        select(Dataset.id, Dataset.label_column, Dataset.sha)
        .where(Dataset.status == "ok", Dataset.num_labels > 0)
        .order_by(Dataset.downloads.desc(), Dataset.id)
    )
    if limit is not None:
        query = query.limit(limit)
    return [FeatureCandidate(r.id, r.label_column, r.sha) for r in session.execute(query)]


def get_image_feature_states(
    session: Session, *, feature_model: str, dataset_ids: Sequence[str] | None = None
) -> dict[str, ImageFeatureState]:
    """The index rows of `feature_model`, by dataset id (all, or those of `dataset_ids`)."""
    base = select(ImageFeatureSet).where(ImageFeatureSet.feature_model == feature_model)
    rows: list[ImageFeatureSet] = []
    if dataset_ids is None:
        rows.extend(session.scalars(base))
    else:
        for part in chunks(sorted(set(dataset_ids))):
            rows.extend(session.scalars(base.where(ImageFeatureSet.dataset_id.in_(part))))
    return {
        r.dataset_id: ImageFeatureState(
            r.dataset_id,
            r.status,
            r.skip_reason,
            r.n_images,
            r.n_classes,
            r.failed_images,
            r.path,
            r.updated_at,
            r.dataset_sha,
        )
        for r in rows
    }


def save_image_features(
    session: Session, *, feature_model: str, item: ImageFeaturesIn
) -> str | None:
    """Inserts or replaces one dataset's index row in one commit; returns the path of the
    ready features file this commit superseded (no row reads it any more), or None.

    Call it only once the features file (for `ready`) is completely written: this commit is
    what makes the features visible. When it replaces ready features by other ones (another
    file: the name holds a hash of the content) or by a skip, the same commit deletes the
    transfer estimates of `feature_model` that involve the dataset: they were computed from
    features that are gone, and must not be read as current until the next estimate run
    scores the new ones.

    Raises:
        ValueError: an unknown status, a `ready` row without a path, a `skipped` one without
            a reason.
    """
    if item.status not in _STATUSES:
        raise ValueError(f"status must be one of {_STATUSES}, got {item.status!r}")
    if item.status == "ready" and (item.path is None or item.n_images < 1):
        raise ValueError(f"a ready row of {item.dataset_id!r} needs a path and images")
    if item.status == "skipped" and not item.skip_reason:
        raise ValueError(f"a skipped row of {item.dataset_id!r} needs a skip reason")
    row = session.get(ImageFeatureSet, (item.dataset_id, feature_model))
    superseded = None
    if (
        row is not None
        and row.status == "ready"
        and (item.status != "ready" or item.path != row.path)
    ):
        superseded = row.path
        session.execute(
            delete(TransferEstimate).where(
                TransferEstimate.feature_model == feature_model,
                or_(
                    TransferEstimate.source_id == item.dataset_id,
                    TransferEstimate.target_id == item.dataset_id,
                ),
            )
        )
    if row is None:
        row = ImageFeatureSet(dataset_id=item.dataset_id, feature_model=feature_model)
        session.add(row)
    row.status = item.status
    row.skip_reason = item.skip_reason
    row.n_images = item.n_images
    row.n_classes = item.n_classes
    row.failed_images = item.failed_images
    row.class_names_hash = item.class_names_hash
    row.path = item.path
    row.source = item.source
    row.dataset_sha = item.dataset_sha
    row.updated_at = utcnow()
    session.commit()
    return superseded


def load_image_features(
    session: Session,
    *,
    data_dir: Path,
    feature_model: str,
    dataset_ids: Sequence[str] | None = None,
) -> list[ImageFeatures]:
    """The ready features of `feature_model`, ordered by dataset id.

    Raises:
        FeatureFileError: an indexed file is missing, or disagrees with its index row (image
            count or class names): the data directory was changed behind the index.
    """
    query = select(ImageFeatureSet).where(
        ImageFeatureSet.feature_model == feature_model, ImageFeatureSet.status == "ready"
    )
    rows = list(session.scalars(query.order_by(ImageFeatureSet.dataset_id)))
    if dataset_ids is not None:
        wanted = set(dataset_ids)
        rows = [r for r in rows if r.dataset_id in wanted]
    out = []
    for row in rows:
        assert row.path is not None  # save_image_features refuses a ready row without one
        features, labels, names = read_features(data_dir, row.path)
        if features.shape[0] != row.n_images or labels_hash(names) != row.class_names_hash:
            raise FeatureFileError(
                f"features file {row.path!r} of {row.dataset_id!r} does not match its index"
            )
        out.append(ImageFeatures(row.dataset_id, features, labels, names))
    return out
