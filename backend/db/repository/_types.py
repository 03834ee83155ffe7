"""Plain records the repository returns: no ORM state leaks out of a session."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np

from backend.vocab import JobStatus, MapStatus, TransferKind


@dataclass(frozen=True)
class DatasetSummary:
    """One row of a dataset listing (no labels)."""

    id: str
    author: str | None
    status: str
    skip_reason: str | None
    source: str
    downloads: int
    likes: int
    license: str | None
    num_labels: int
    num_examples: int | None
    pretty_name: str | None
    last_modified: datetime | None
    crawled_at: datetime | None


@dataclass(frozen=True)
class DatasetDetail:
    """A dataset with its (possibly truncated) labels; `num_labels` is the full count."""

    summary: DatasetSummary
    labels: tuple[str, ...]
    num_labels: int
    labels_truncated: bool
    label_column: str | None
    splits: dict[str, int]
    tags: tuple[str, ...]
    sha: str | None
    description: str | None
    error: str | None


@dataclass(frozen=True)
class DatasetPage:
    """One page of a search, with the total number of matches."""

    total: int
    items: list[DatasetSummary]
    limit: int
    offset: int
    # With a class-name search: per listed dataset, its classes that matched (a few).
    matched_labels: dict[str, tuple[str, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class LabelSet:
    """A dataset's id and its labels in label-id order."""

    dataset_id: str
    labels: tuple[str, ...]
    labels_hash: str | None = None


@dataclass(frozen=True)
class RepresentationState:
    """What a stored representation was computed from (to decide whether it is stale)."""

    dataset_id: str
    model_version: str
    labels_hash: str


@dataclass(frozen=True)
class RepresentationIn:
    """A freshly computed vector to store."""

    dataset_id: str
    labels_hash: str
    vector: np.ndarray


@dataclass(frozen=True)
class RepresentationMatrix:
    """Stored vectors of one kind stacked row-wise: `vectors[i]` belongs to `dataset_ids[i]`."""

    kind: str
    dataset_ids: list[str]
    vectors: np.ndarray  # (n, dim) float32


@dataclass(frozen=True)
class MapRecord:
    """A map's metadata (never its checkpoint bytes; see `get_map_checkpoint`)."""

    id: int
    relation: str
    dim: int
    representation: str
    status: MapStatus
    params: dict[str, Any]
    metrics: dict[str, Any]
    error: str | None
    num_boxes: int
    has_checkpoint: bool
    created_at: datetime
    published_at: datetime | None
    job_id: int | None = None  # the train job that fitted it


@dataclass(frozen=True)
class MapBoxes:
    """Every box of a map as compact arrays, row i for `dataset_ids[i]`, ranked by downloads.

    `num_examples` uses -1 for unknown so that the array stays integer-typed.
    """

    map: MapRecord
    dataset_ids: list[str]
    lo: np.ndarray  # (n, dim) float32
    hi: np.ndarray  # (n, dim) float32
    num_labels: np.ndarray  # (n,) int64
    num_examples: np.ndarray  # (n,) int64
    downloads: np.ndarray  # (n,) int64
    licenses: tuple[str | None, ...] = ()  # (n,) license of each dataset, None when unknown


@dataclass(frozen=True)
class MapNeighborRows:
    """A map's neighbour table: `rows[by][i]` are row i's best rows, rows into `dataset_ids`."""

    dataset_ids: list[str]
    rows: dict[str, np.ndarray]  # "p_in" / "p_contains" -> (n, width) int32


@dataclass(frozen=True)
class LabelMatches:
    """The label text pairs that matched by cosine ≥ `threshold` when a map was trained."""

    threshold: float
    pairs: list[tuple[str, str]]
    corroborated: list[tuple[str, str]] = field(default_factory=list)  # dataset ids


@dataclass(frozen=True)
class BoxRecord:
    """One dataset's box in one map."""

    map_id: int
    lo: tuple[float, ...]
    hi: tuple[float, ...]


@dataclass(frozen=True)
class TransferScoreRecord:
    """A measured source→target transfer score."""

    source_id: str
    target_id: str
    score: float


@dataclass(frozen=True)
class TransferEvidenceRecord:
    """A stored transfer score of a pair and where it comes from: `measured` (imported) or
    `estimated` (then with its estimator, feature model and raw estimator value)."""

    source_id: str
    target_id: str
    score: float
    kind: TransferKind
    estimator: str | None = None
    feature_model: str | None = None
    raw: float | None = None


@dataclass(frozen=True)
class TransferTaskIn:
    """A task named by imported transfer scores: its description (for features) and name."""

    id: str
    description: str | None = None
    name: str | None = None


@dataclass(frozen=True)
class TransferImportResult:
    """What one import stored."""

    scores: int  # rows written by this import
    created: tuple[str, ...]  # tasks that were not in the database (source `import`)
    described: tuple[str, ...]  # imported tasks whose description or name was updated
    replaced_all: bool  # every earlier score was deleted first
    total_scores: int  # measured scores in the database after the import


@dataclass(frozen=True)
class TransferScoresSummary:
    """How many measured scores are stored, between how many tasks, imported when."""

    scores: int
    tasks: int
    imported_at: datetime | None


@dataclass(frozen=True)
class DatasetText:
    """What a dataset's text features are built from when it has no labels."""

    id: str
    pretty_name: str | None
    description: str | None
    num_labels: int
    status: str
    source: str


@dataclass(frozen=True)
class JobRecord:
    """A job's persisted state."""

    id: int
    kind: str
    status: JobStatus
    params: dict[str, Any]
    result: dict[str, Any]
    progress: int
    total: int | None
    message: str | None
    error: str | None
    owner: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    heartbeat_at: datetime | None
    owner_host: str | None = None
    owner_pid: int | None = None
    lease_expires_at: datetime | None = None


@dataclass(frozen=True)
class JobOwner:
    """The process that runs a job: its host and pid, and a token that tells this process
    from an earlier one that had the same pid (pid 1 in a restarted container)."""

    host: str
    pid: int
    token: str

    @property
    def text(self) -> str:
        """`host:pid:token`, as `jobs.owner` stores it."""
        return f"{self.host}:{self.pid}:{self.token}"


@dataclass(frozen=True)
class CountsByStatus:
    """How many datasets are ok, skipped (by reason) and failed."""

    ok: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    failed: int = 0

    @property
    def total(self) -> int:
        return self.ok + sum(self.skipped.values()) + self.failed


@dataclass(frozen=True)
class FeatureCandidate:
    """A crawled dataset whose images may be sampled, with the label column the crawl read
    and the Hub revision (`sha`) the crawl recorded."""

    dataset_id: str
    label_column: str | None
    sha: str | None = None


@dataclass(frozen=True)
class ImageFeaturesIn:
    """One dataset's image-feature outcome to index: `ready` with its file, or `skipped`."""

    dataset_id: str
    status: str  # ready | skipped
    skip_reason: str | None = None
    n_images: int = 0
    n_classes: int = 0
    failed_images: int = 0
    class_names_hash: str | None = None
    path: str | None = None
    source: str | None = None
    dataset_sha: str | None = None  # the dataset's recorded sha when it was sampled


@dataclass(frozen=True)
class ImageFeatureState:
    """What the index holds for one dataset and feature model."""

    dataset_id: str
    status: str
    skip_reason: str | None
    n_images: int
    n_classes: int
    failed_images: int
    path: str | None
    updated_at: datetime
    dataset_sha: str | None = None


@dataclass(frozen=True)
class ImageFeatures:
    """A dataset's sampled-image features: row i of `features` has label id `labels[i]`, an
    index into `class_names`. Not every class need appear in `labels`: the sample leaves out
    classes with too few images (`backend.crawler.sampler.MIN_IMAGES_PER_CLASS`), and caps
    how many classes a dataset contributes."""

    dataset_id: str
    features: np.ndarray  # (n, d) float32
    labels: np.ndarray  # (n,) int64
    class_names: tuple[str, ...]
