"""The schema as SQLAlchemy 2 declarative tables; Alembic migrations create and change it.

Vectors and box corners are stored as little-endian float32 bytes with their dimension beside
them: compact, exact, and portable across SQLite and Postgres. Times are stored as naive UTC
and read back timezone-aware (`UTCDateTime`), because SQLite keeps no zone.
Migrations in `migrations/versions/` must stay in step with this file.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, deferred, mapped_column
from sqlalchemy.types import TypeDecorator

# Constraint names are spelled out so Alembic batch migrations on SQLite can find them.
NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

ID_LEN = 200  # == records.MAX_ID_CHARS
LABEL_LEN = 200  # == records.MAX_LABEL_CHARS
ACTIVE_JOB_STATUSES = ("queued", "running")


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in, aware UTC datetimes out, on every backend."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(
        self,
        value: datetime | None,
        dialect: Dialect,  # noqa: ARG002
    ) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: pass an aware (UTC) datetime")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(
        self,
        value: Any,
        dialect: Dialect,  # noqa: ARG002
    ) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Dataset(Base):
    """One Hub dataset (or catalog entry), whatever its status."""

    __tablename__ = "datasets"

    id: Mapped[str] = mapped_column(String(ID_LEN), primary_key=True)
    author: Mapped[str | None] = mapped_column(String(ID_LEN))
    status: Mapped[str] = mapped_column(String(16), index=True)  # ok | skipped | failed
    skip_reason: Mapped[str | None] = mapped_column(String(32))
    error: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(16))  # hub | catalog | import
    sha: Mapped[str | None] = mapped_column(String(64))
    last_modified: Mapped[datetime | None] = mapped_column(UTCDateTime())
    downloads: Mapped[int] = mapped_column(Integer, default=0, index=True)
    likes: Mapped[int] = mapped_column(Integer, default=0)
    license: Mapped[str | None] = mapped_column(String(64), index=True)
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    label_column: Mapped[str | None] = mapped_column(String(ID_LEN))
    splits: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    num_examples: Mapped[int | None] = mapped_column(Integer, index=True)
    # Denormalized from `labels` so that class-count filters need no join.
    num_labels: Mapped[int] = mapped_column(Integer, default=0, index=True)
    # sha256 of the label list: a representation is stale when its hash differs.
    labels_hash: Mapped[str | None] = mapped_column(String(64))
    pretty_name: Mapped[str | None] = mapped_column(String(ID_LEN))
    description: Mapped[str | None] = mapped_column(Text)
    crawled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Label(Base):
    """A class name of a dataset, at its label id (`position`)."""

    __tablename__ = "labels"

    dataset_id: Mapped[str] = mapped_column(
        ForeignKey("datasets.id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(LABEL_LEN), index=True)


class Representation(Base):
    """A dataset's feature vector of one kind, with what it was computed from."""

    __tablename__ = "representations"

    dataset_id: Mapped[str] = mapped_column(
        ForeignKey("datasets.id", ondelete="CASCADE"), primary_key=True
    )
    kind: Mapped[str] = mapped_column(String(32), primary_key=True)
    model_version: Mapped[str] = mapped_column(String(200))
    labels_hash: Mapped[str] = mapped_column(String(64))
    dim: Mapped[int] = mapped_column(Integer)
    vector: Mapped[bytes] = mapped_column(LargeBinary)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Map(Base):
    """One trained embedding. Status: training → ready → published → retired, or failed."""

    __tablename__ = "maps"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    relation: Mapped[str] = mapped_column(String(16))  # containment | transfer
    dim: Mapped[int] = mapped_column(Integer)
    representation: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), index=True)
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    metrics: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    error: Mapped[str | None] = mapped_column(Text)
    num_boxes: Mapped[int] = mapped_column(Integer, default=0)
    # The trained box network (torch.save bytes), so `POST /api/place` can embed unseen
    # datasets. Deferred: listing maps must not read megabytes of weights.
    checkpoint: Mapped[bytes | None] = deferred(mapped_column(LargeBinary))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The train job fitting this map: when that job fails (even killed from outside, by a
    # lease expiry), its maps still `training` fail with it instead of showing forever.
    job_id: Mapped[int | None] = mapped_column(
        ForeignKey("jobs.id", ondelete="SET NULL"), index=True
    )

    __table_args__ = (Index("ix_maps_relation_dim_status", "relation", "dim", "status"),)


class Box(Base):
    """A dataset's box in a map: float32 corners `lo < hi` of length `maps.dim`."""

    __tablename__ = "boxes"

    map_id: Mapped[int] = mapped_column(ForeignKey("maps.id", ondelete="CASCADE"), primary_key=True)
    dataset_id: Mapped[str] = mapped_column(
        ForeignKey("datasets.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    lo: Mapped[bytes] = mapped_column(LargeBinary)
    hi: Mapped[bytes] = mapped_column(LargeBinary)


class MapNeighbors(Base):
    """Every box's best-scoring boxes in one map, in both directions, ranked once when the
    map is trained (`models.neighbors`): int32 little-endian `(n, width)` rows into
    `dataset_ids`, which fixes the row order (the server orders rows by downloads, which
    change after training)."""

    __tablename__ = "map_neighbors"

    map_id: Mapped[int] = mapped_column(ForeignKey("maps.id", ondelete="CASCADE"), primary_key=True)
    width: Mapped[int] = mapped_column(Integer)
    dataset_ids: Mapped[list[str]] = mapped_column(JSON)
    p_in: Mapped[bytes] = mapped_column(LargeBinary)
    p_contains: Mapped[bytes] = mapped_column(LargeBinary)


class MapLabelMatches(Base):
    """The label texts that matched by embedding cosine when a containment map was trained
    (`models.targets.cosine_label_pairs`), and the dataset id pairs whose opaque class names
    were corroborated (`models.opaque`), so the server counts coverage by the very rule the
    map was fitted to, without embedding the whole vocabulary again. JSON `[[a, b], ...]`,
    each unordered pair once."""

    __tablename__ = "map_label_matches"

    map_id: Mapped[int] = mapped_column(ForeignKey("maps.id", ondelete="CASCADE"), primary_key=True)
    threshold: Mapped[float] = mapped_column(Float)
    pairs: Mapped[list[list[str]]] = mapped_column(JSON)
    corroborated: Mapped[list[list[str]]] = mapped_column(JSON)


class TransferScore(Base):
    """A measured source→target transfer score, imported from a CSV matrix."""

    __tablename__ = "transfer_scores"

    source_id: Mapped[str] = mapped_column(
        ForeignKey("datasets.id", ondelete="CASCADE"), primary_key=True
    )
    target_id: Mapped[str] = mapped_column(
        ForeignKey("datasets.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    score: Mapped[float] = mapped_column(Float)
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ImageFeatureSet(Base):
    """The index of a dataset's sampled-image features for one feature model.

    `ready`: the features are in the file at `path` (relative to the data directory), which
    was fully written before this row was committed; `skipped`: `skip_reason` says why the
    dataset has none. The image transfer estimates read the ready ones.
    """

    __tablename__ = "image_features"

    dataset_id: Mapped[str] = mapped_column(
        ForeignKey("datasets.id", ondelete="CASCADE"), primary_key=True
    )
    feature_model: Mapped[str] = mapped_column(String(200), primary_key=True)
    status: Mapped[str] = mapped_column(String(16), index=True)  # ready | skipped
    skip_reason: Mapped[str | None] = mapped_column(String(32))
    n_images: Mapped[int] = mapped_column(Integer, default=0)
    n_classes: Mapped[int] = mapped_column(Integer, default=0)
    failed_images: Mapped[int] = mapped_column(Integer, default=0)
    # sha256 of the class names in label-id order (`labels_hash`), as the file holds them.
    class_names_hash: Mapped[str | None] = mapped_column(String(64))
    path: Mapped[str | None] = mapped_column(String(500))
    source: Mapped[str | None] = mapped_column(String(16))  # rows | streaming
    # The dataset's `datasets.sha` when it was sampled: once the crawl records another, the
    # Hub revision changed (other images or labels) and the image-features job samples it
    # again. NULL: unknown (indexed before the sha was kept), so it is sampled again too.
    dataset_sha: Mapped[str | None] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class TransferEstimate(Base):
    """A source→target transfer *estimated* from frozen image features, never measured.

    Kept apart from `TransferScore` so that an estimate can never overwrite (or be mistaken
    for) a measured score: readers list measured scores first and drop the estimates of
    pairs that have one. `score` is the per-target normalized value
    (`models.transferability.normalize_estimates`), `raw` the estimator's own output; each
    `(estimator, feature_model)` set is replaced whole, in one commit.
    """

    __tablename__ = "transfer_estimates"

    source_id: Mapped[str] = mapped_column(
        ForeignKey("datasets.id", ondelete="CASCADE"), primary_key=True
    )
    target_id: Mapped[str] = mapped_column(
        ForeignKey("datasets.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    estimator: Mapped[str] = mapped_column(String(16), primary_key=True)
    feature_model: Mapped[str] = mapped_column(String(200), primary_key=True)
    score: Mapped[float] = mapped_column(Float)
    raw: Mapped[float] = mapped_column(Float)
    estimated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Job(Base):
    """A background job (crawl, train, represent) and its persisted progress."""

    __tablename__ = "jobs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16))  # queued | running | succeeded | failed
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    result: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    progress: Mapped[int] = mapped_column(Integer, default=0)
    total: Mapped[int | None] = mapped_column(Integer)
    message: Mapped[str | None] = mapped_column(Text)
    error: Mapped[str | None] = mapped_column(Text)
    owner: Mapped[str | None] = mapped_column(String(200))  # host:pid:token of the worker
    # The liveness lease: the owning process (its host and pid, readable apart so a reader on
    # the same host can ask the kernel whether it still runs) renews `lease_expires_at` with
    # each heartbeat; a job whose lease ran out, or whose owner is gone, is failed by whoever
    # looks at it next.
    owner_host: Mapped[str | None] = mapped_column(String(200))
    owner_pid: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (
        Index("ix_jobs_kind_created", "kind", "created_at"),
        # At most one active job per kind, enforced by the database itself so that two
        # processes racing to start a crawl cannot both win.
        Index(
            "uq_jobs_one_active_per_kind",
            "kind",
            unique=True,
            sqlite_where=text("status IN ('queued', 'running')"),
            postgresql_where=text("status IN ('queued', 'running')"),
        ),
    )
