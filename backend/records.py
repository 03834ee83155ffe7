"""Plain records passed between the crawler, the catalog and the repository.

They carry no I/O and no ORM state, so the crawler (which must not touch the database) and the
repository (which must not touch the Hub) meet here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from backend.vocab import DatasetStatus

SkipReason = Literal["gated", "disabled", "script", "no_labels", "too_many_labels"]
RecordSource = Literal["hub", "catalog", "import"]
# Why a crawled dataset has no image features (`backend/crawler/sampler.py` decides).
ImageSkipReason = Literal[
    "no_image_column",
    "no_label_column",
    "gated",
    "not_found",
    "rows_unavailable",
    "too_few_images",
]

# Bounds on untrusted Hub text; the crawler truncates to these before anything is stored.
MAX_ID_CHARS = 200
MAX_LABEL_CHARS = 200
MAX_DESCRIPTION_CHARS = 4000


@dataclass(frozen=True)
class DatasetRecord:
    """One dataset as the crawler (or the built-in catalog) saw it.

    `labels` are class names in label-id order. When `status` is `"skipped"`, `skip_reason`
    says why; when `"failed"`, `error` holds the last error. `splits` maps split name to
    number of examples and `num_examples` is their sum (None when unknown).
    """

    id: str
    status: DatasetStatus = "ok"
    skip_reason: SkipReason | None = None
    error: str | None = None
    author: str | None = None
    sha: str | None = None
    last_modified: datetime | None = None
    downloads: int = 0
    likes: int = 0
    license: str | None = None
    tags: tuple[str, ...] = ()
    labels: tuple[str, ...] = ()
    label_column: str | None = None
    splits: dict[str, int] = field(default_factory=dict)
    num_examples: int | None = None
    pretty_name: str | None = None
    description: str | None = None
    source: RecordSource = "hub"
