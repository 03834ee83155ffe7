"""The words every layer shares: map relations, their directions, and the statuses of
datasets, maps and jobs.

Defined once here, below the crawler, the repository, the jobs and the API, so that a new
relation or status is added in one place and the type checker finds every use it breaks. Standard
library only: `backend/records.py` (which the crawler reads) and
`backend/schemas.py` (the REST contract) both build on this module.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Final, Literal, get_args

Relation = Literal["containment", "transfer"]
Direction = Literal["contained_in", "contains", "to", "from"]
DatasetStatus = Literal["ok", "skipped", "failed"]
# "retired": was published, replaced by a newer map of the same relation and dimension.
MapStatus = Literal["training", "ready", "published", "retired", "failed"]
JobStatus = Literal["queued", "running", "succeeded", "failed"]
# Where a transfer score comes from: imported from a measurement, estimated from frozen image
# features (`models.transferability`), or predicted, read from a transfer map's boxes.
TransferKind = Literal["measured", "estimated", "predicted"]
# The estimators of `models.transferability.ESTIMATORS` (a test keeps the two in step).
TransferEstimator = Literal["leep", "nce", "logme"]

RELATIONS: Final[tuple[Relation, ...]] = get_args(Relation)
DIRECTIONS: Final[tuple[Direction, ...]] = get_args(Direction)
DATASET_STATUSES: Final[tuple[DatasetStatus, ...]] = get_args(DatasetStatus)
TRANSFER_KINDS: Final[tuple[TransferKind, ...]] = get_args(TransferKind)
TRANSFER_ESTIMATORS: Final[tuple[TransferEstimator, ...]] = get_args(TransferEstimator)

# Each relation's two directions, as (A inside B, B inside A): for containment, `contained_in`
# lists the datasets B that contain A and `contains` those A contains. Transfer maps read
# s→t as P(s ⊆ t) (`models.transfer`), so `to` lists the targets B that A transfers to and
# `from` the sources B that transfer to A.
RELATION_DIRECTIONS: Final = MappingProxyType[Relation, tuple[Direction, Direction]](
    {"containment": ("contained_in", "contains"), "transfer": ("to", "from")}
)
# What a related list ranks by when a request names no direction.
DEFAULT_DIRECTION: Final = MappingProxyType[Relation, Direction](
    {"containment": "contained_in", "transfer": "from"}
)
