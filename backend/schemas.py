"""The REST contract: pydantic request and response models, named in families.

Every size that a stranger controls is bounded here (labels per request, label length, `k`),
so no request can make the server do unbounded work. The page (`frontend/js/api.js`) and the
OpenAPI docs at `/docs` are both generated from, or written against, these models.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from backend.vocab import DatasetStatus, Direction, Relation, TransferKind

# Re-exported (`as`, for mypy --strict): the routes name these `schemas.JobStatus` and
# `schemas.MapStatus`, so the REST contract reads as one module.
from backend.vocab import JobStatus as JobStatus
from backend.vocab import MapStatus as MapStatus
from backend.vocab import TransferEstimator as TransferEstimator

JobKind = Literal["crawl", "train"]

MAX_K = 100
MAX_PLACE_LABELS = 10_000
MAX_PLACE_LABEL_CHARS = 200
# The most datasets one `GET /api/datasets` page may ask for (`limit`).
MAX_PAGE_SIZE = 200
# Hub ids are `name` or `owner/name`; the API refuses anything else before touching the DB.
# The name after the slash may start with dots but is never "." or ".." (a path step, not a
# name); spelled without a lookahead so that schema-driven generators can produce it.
DATASET_ID_PATTERN = (
    r"^[A-Za-z0-9][A-Za-z0-9._\-]{0,95}"
    r"(/([A-Za-z0-9_\-][A-Za-z0-9._\-]{0,95}|\.[A-Za-z0-9_\-][A-Za-z0-9._\-]{0,94}"
    r"|\.\.[A-Za-z0-9._\-]{1,94}))?$"
)
MAX_DATASET_ID_CHARS = 200

DatasetId = Annotated[
    str, StringConstraints(pattern=DATASET_ID_PATTERN, max_length=MAX_DATASET_ID_CHARS)
]
PlaceLabel = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_PLACE_LABEL_CHARS),
    # What `PlaceRequest` checks with a clearer message: a label holds a letter or digit.
    Field(json_schema_extra={"pattern": r"[^\W_]"}),
]


class _Public(BaseModel):
    model_config = ConfigDict(frozen=True)


class ErrorPublic(_Public):
    """Every error body: a stable machine code and a human sentence."""

    error: str = Field(examples=["not_found"])
    detail: str = Field(examples=["no dataset 'owner/missing'"])


# --- datasets ---------------------------------------------------------------------------


class DatasetSummary(_Public):
    id: str
    author: str | None = None
    downloads: int = 0
    likes: int = 0
    license: str | None = None
    num_labels: int
    num_examples: int | None = None
    status: DatasetStatus
    skip_reason: str | None = None
    matched_labels: list[str] = Field(
        default=[],
        description="With `label=`: this dataset's classes that matched the search (a few).",
    )


class DatasetsPublic(_Public):
    total: int
    limit: int
    offset: int
    items: list[DatasetSummary]


class BoxPublic(_Public):
    lo: list[float]
    hi: list[float]


class DatasetPublic(DatasetSummary):
    pretty_name: str | None = None
    description: str | None = None
    tags: list[str] = []
    splits: dict[str, int] = {}
    labels: list[str] = Field(description="The first labels, bounded; see num_labels for all.")
    labels_truncated: bool = Field(
        default=False, description="True when `labels` holds fewer than `num_labels` names."
    )
    opaque_labels: bool = Field(
        default=False,
        description="True when most class names say nothing alone (numbers, single "
        "characters, `LABEL_3`, synset ids): they are not counted as shared with another "
        "dataset unless the two descriptions say they are the same kind of data.",
    )
    sha: str | None = None
    last_modified: datetime | None = None
    crawled_at: datetime | None = None
    source: str
    error: str | None = None
    hub_url: str | None = None
    boxes: dict[str, BoxPublic] = Field(
        default_factory=dict, description="This dataset's box in each published map, by map id."
    )


# --- maps -------------------------------------------------------------------------------


class MapPublic(_Public):
    id: int
    relation: Relation
    dim: int
    representation: str
    status: MapStatus
    size: int = Field(description="Number of boxes.")
    params: dict[str, object] = {}
    metrics: dict[str, float] = Field(
        default_factory=dict,
        description="What the fit measured: `val_f1`, `val_ap` on held-out datasets (with "
        "`val_f1_vector` and `val_f1_set` when both networks were fitted), and for containment "
        "maps `fidelity_f1` and `fidelity_spearman`: how far the boxes agree with the "
        "containment counted from class names. `params.model` names the network.",
    )
    has_network: bool = Field(
        default=False, description="Whether the trained network is stored (needed by /place)."
    )
    error: str | None = None
    created_at: datetime
    published_at: datetime | None = None


class MapsPublic(_Public):
    items: list[MapPublic]


class MapBoxesPublic(_Public):
    """Column arrays, index-aligned: compact to send and cheap to turn into Plotly traces."""

    map: MapPublic
    ids: list[str]
    lo: list[list[float]]
    hi: list[list[float]]
    num_labels: list[int]
    num_examples: list[int | None]
    downloads: list[int]
    license: list[int | None] = Field(description="Index into `licenses`, or null.")
    licenses: list[str]
    measured: list[bool] = Field(
        description="False where the box was placed from features alone (no measured targets)."
    )


# --- relations --------------------------------------------------------------------------


class MapRef(_Public):
    # Read straight off `repository.MapRecord` (`backend.serving.views.map_ref`).
    model_config = ConfigDict(frozen=True, from_attributes=True)

    id: int
    relation: Relation
    dim: int
    representation: str


class RelatedItem(_Public):
    id: str
    score: float = Field(
        description="What the list is ranked by within its group: the measured score of a "
        "measured containment item, else the map's probability in the ranked direction."
    )
    p_in: float = Field(description="P(A⊆B) = Vol(A∩B)/Vol(A), A the queried dataset.")
    p_contains: float = Field(description="P(B⊆A).")
    shared_labels: list[str] = Field(
        default=[],
        description="The queried classes that B also has, in the query's order (at most 20); "
        "'a ~ b' when the two names differ and only their text embeddings match.",
    )
    measured: bool = Field(
        description="Containment: true when B shares at least one class with the query, so "
        "the coverage is counted from the class names; measured items come first, then the "
        "map's predictions (false). Transfer: this pair has a measured score."
    )
    measured_score: float | None = Field(
        default=None,
        description="Containment: the counted share of classes, |A∩B|/|A| for contained_in "
        "and |A∩B|/|B| for contains. Transfer: the imported score of this pair in the ranked "
        "direction (raw, as imported). Null when not measured.",
    )
    kind: TransferKind | None = Field(
        default=None,
        description="Transfer: where this pair's score comes from, `measured` (imported) or "
        "`predicted` (read from the boxes). Null for containment.",
    )


class RelatedPublic(_Public):
    dataset: str
    relation: Relation
    direction: Direction
    map: MapRef
    items: list[RelatedItem]


class LabelPointsPublic(_Public):
    """A dataset's classes as points of a label-set map: its box bounds them."""

    map: MapRef
    dataset: str
    labels: list[str] = Field(
        description="The classes drawn (at most `T2B_MAX_EMBEDDED_LABELS`, the sample its "
        "box is built from)."
    )
    points: list[list[float]] = Field(description="One point per label, in the map's dims.")


class SampleImagePublic(BaseModel):
    """One sample image: its URL on the dataset viewer's asset host, and its class name."""

    src: str = Field(max_length=4096)
    label: str = Field(max_length=200)


class SamplesPublic(BaseModel):
    """A few images of a dataset from the viewer's first rows; empty, with `note` saying why,
    when the viewer is off, unreachable or has none."""

    dataset_id: str
    items: list[SampleImagePublic] = Field(default_factory=list)
    note: str | None = None


class RelatedQuery(BaseModel):
    """The query of `GET /api/datasets/{id}/related`.

    One model for both readers: the route takes it as a FastAPI query model, and the fast lane
    (`backend.api.fastlane`) validates the same fields with `model_validate`, so the two can
    never disagree about the vocabulary or the limits.
    """

    model_config = ConfigDict(frozen=True)

    relation: Relation = "containment"
    direction: Direction | None = Field(
        default=None, description="containment: contained_in | contains; transfer: to | from."
    )
    k: int = Field(default=10, ge=1, le=MAX_K)
    map_id: int | None = Field(
        default=None, alias="map", ge=1, description="Default: highest-dim published map."
    )


class PlaceRequest(BaseModel):
    """Either labels for an unseen dataset, or the id of a dataset in the database."""

    # The schema states the "exactly one of" rule the validator below enforces, so clients
    # (and contract tests) know that a body with both, or neither, is refused.
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "oneOf": [
                {
                    "required": ["labels"],
                    "properties": {
                        "labels": {"type": "array", "minItems": 1},
                        "dataset_id": {"type": "null"},
                    },
                },
                {
                    "required": ["dataset_id"],
                    "properties": {"dataset_id": {"type": "string"}, "labels": {"type": "null"}},
                },
            ]
        },
    )

    labels: list[PlaceLabel] | None = Field(default=None, max_length=MAX_PLACE_LABELS)
    dataset_id: DatasetId | None = None
    relation: Relation = "containment"
    k: int = Field(default=10, ge=1, le=MAX_K)
    map: int | None = Field(
        default=None,
        ge=1,
        description="Map whose scores to use; default: the relation's highest-dim published map.",
    )

    @model_validator(mode="after")
    def _exactly_one_input(self) -> PlaceRequest:
        if (self.labels is None) == (self.dataset_id is None):
            raise ValueError("give exactly one of 'labels' or 'dataset_id'")
        if self.labels is not None and not self.labels:
            raise ValueError("'labels' must hold at least one label")
        for label in self.labels or ():
            # Such a label names no class, and would match only its own punctuation.
            if not any(ch.isalnum() for ch in label):
                raise ValueError(f"label {label!r} has no letters or digits")
        return self


class PlacePublic(_Public):
    map: MapRef = Field(description="The map whose network placed `box` and gave the scores.")
    box: BoxPublic
    boxes: dict[str, BoxPublic] = Field(
        default_factory=dict,
        description="The predicted box in every published map of the relation, by map id "
        "(draw the one of the 2-D map).",
    )
    contained_in: list[RelatedItem] = Field(
        description="Ranked by P(placed ⊆ B). For a transfer map: the best sources (`from`)."
    )
    contains: list[RelatedItem] = Field(
        description="Ranked by P(B ⊆ placed). For a transfer map: what it transfers to (`to`)."
    )


# --- transfer scores --------------------------------------------------------------------

# == backend.transfer.csv_input.MAX_FILE_BYTES; the request body cap (T2B_MAX_BODY_BYTES)
# usually binds first.
MAX_TRANSFER_CSV_CHARS = 16 * 1024 * 1024


class TransferImportRequest(BaseModel):
    """CSV texts to import: scores (`source,target,score`) and optional descriptions."""

    model_config = ConfigDict(extra="forbid")

    scores: str = Field(
        max_length=MAX_TRANSFER_CSV_CHARS,
        description="CSV text with header source,target,score; score >= 0, higher = better.",
        examples=["source,target,score\nrgb2depth,rgb2sfnorm,0.012\n"],
    )
    descriptions: str | None = Field(
        default=None,
        max_length=MAX_TRANSFER_CSV_CHARS,
        description="CSV text with header id,description[,name]: features of new tasks.",
    )
    replace: bool = Field(
        default=False,
        description="Delete every stored score first; otherwise listed pairs are replaced.",
    )


class TransferImportPublic(_Public):
    rows: int = Field(description="Scores written by this import.")
    created: list[str] = Field(description="Tasks that were not in the database.")
    described: list[str] = Field(description="Earlier imported tasks given a new description.")
    replaced_all: bool
    total_scores: int = Field(description="Measured scores stored after the import.")
    unused_descriptions: list[str] = Field(description="Described ids absent from the scores.")


class TransferScorePublic(_Public):
    source: str
    target: str
    score: float = Field(
        description="Measured: as imported. Estimated: normalized per target (>= 0, the "
        "scale measured scores train at); the estimator's own value is `raw`."
    )
    kind: TransferKind = Field(
        default="measured",
        description="`measured` (imported), or `estimated` from frozen image features; a pair "
        "with a measured score never lists an estimate.",
    )
    estimator: TransferEstimator | None = Field(
        default=None, description="Estimated scores: LEEP, NCE or LogME."
    )
    feature_model: str | None = Field(
        default=None, description="Estimated scores: the image model whose features they used."
    )
    raw: float | None = Field(default=None, description="Estimated scores: the estimator's value.")


class TransferScoresPublic(_Public):
    scores: int = Field(description="Measured scores stored (0: nothing imported yet).")
    tasks: int = Field(description="Distinct datasets or tasks they name.")
    imported_at: datetime | None = None
    estimated: int = Field(default=0, description="Estimated scores stored, every estimator.")
    items: list[TransferScorePublic] = Field(
        default_factory=list,
        description="With `dataset`: its stored scores, both ways; measured ones first.",
    )


# --- jobs -------------------------------------------------------------------------------


class CrawlJobRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    limit: int | None = Field(default=None, ge=1, le=100_000)


class TrainJobRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    relation: Relation = "containment"
    dim: int | None = Field(
        default=None, ge=1, le=16, description="One dimension; default: every T2B_MAP_DIMS."
    )
    representation: str = Field(default="label-text", pattern=r"^[a-z][a-z0-9\-]{0,31}$")
    epochs: int | None = Field(default=None, ge=1, le=100_000)


# Every ordered pair of the sampled datasets is estimated and stored, once per estimator, so
# the estimate step grows with the square of this: bounded at the size that
# `bench transfer-estimate --speed` times.
MAX_ESTIMATE_DATASETS = 1_000


class EstimateTransferJobRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    limit: int | None = Field(
        default=None,
        ge=1,
        le=MAX_ESTIMATE_DATASETS,
        description="Sample the images of at most this many crawled datasets, most downloaded "
        "first; default: every crawled dataset with labels.",
    )
    estimator: TransferEstimator | None = Field(
        default=None,
        description="The estimates the transfer map is fitted to (every estimator's are "
        "stored); default: T2B_TRANSFER_ESTIMATOR.",
    )


class JobPublic(_Public):
    # Read straight off `repository.JobRecord` (`backend.serving.views.job_public`).
    model_config = ConfigDict(frozen=True, from_attributes=True)

    id: int
    kind: JobKind
    status: JobStatus
    progress: int = 0
    total: int | None = None
    message: str | None = None
    error: str | None = None
    params: dict[str, object] = {}
    result: dict[str, object] = {}
    created_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None


class JobsPublic(_Public):
    items: list[JobPublic]


class HealthPublic(_Public):
    status: Literal["ok", "degraded", "unavailable"] = Field(
        description="ok: database and a containment map; degraded: no map published yet; "
        "unavailable (HTTP 503): the database does not answer."
    )
    database: bool
    published_maps: dict[str, int | None] = Field(
        description="Per relation, the published map drawn on the page (lowest dimension), "
        "or null when none is published."
    )
