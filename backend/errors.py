"""The project's error hierarchy, one place for every domain error.

Each error also inherits the stdlib type a caller would naturally catch (`LookupError`,
`ValueError`, `RuntimeError`, `PermissionError`), so generic handlers keep working. Each carries
a stable machine `code` that the API puts in its `{"error": code, "detail": message}` body; the
HTTP status for each class is chosen in one place, `backend/api/errors.py`. Nothing below
`api/` raises `HTTPException`.
"""

from __future__ import annotations

from typing import ClassVar


class AtlasError(Exception):
    """Base class of every error this project raises on purpose."""

    code: ClassVar[str] = "error"


class NotFoundError(AtlasError, LookupError):
    """A dataset, map or job id that does not exist."""

    code: ClassVar[str] = "not_found"


class NoPublishedMapError(NotFoundError):
    """No map of the asked relation is published yet (train one first)."""

    code: ClassVar[str] = "no_published_map"


class ConflictError(AtlasError, RuntimeError):
    """The request clashes with the current state (a job of that kind already runs)."""

    code: ClassVar[str] = "conflict"


class InvalidStateError(AtlasError, ValueError):
    """An operation on a record in the wrong state (publishing a failed map)."""

    code: ClassVar[str] = "invalid_state"


class MemoryBudgetError(InvalidStateError):
    """A train job whose estimated peak memory is over `T2B_TRAIN_MAX_MEMORY_GB`: refused
    before it allocates, instead of being killed by the kernel halfway through a fit."""

    code: ClassVar[str] = "memory_budget"


class InvalidInputError(AtlasError, ValueError):
    """A request parameter that is well-typed but not acceptable (a direction of another
    relation, a malformed dataset id)."""

    code: ClassVar[str] = "invalid_parameter"


class AuthenticationError(AtlasError, PermissionError):
    """A missing or wrong admin token."""

    code: ClassVar[str] = "unauthorized"


class ForbiddenError(AtlasError, PermissionError):
    """An endpoint that is switched off here (no admin token configured)."""

    code: ClassVar[str] = "forbidden"


class RepresentationUnavailable(AtlasError, RuntimeError):
    """A representation cannot be computed here (e.g. CLIP weights cannot be reached)."""

    code: ClassVar[str] = "representation_unavailable"


class CrawlError(AtlasError, RuntimeError):
    """The Hub crawl cannot go on (the listing failed after its retries); committed work is kept."""

    code: ClassVar[str] = "crawl_failed"


class StorageError(AtlasError, OSError):
    """The database cannot be written or opened for a reason outside the code: its disk is
    full, its file is read-only, its directory cannot be written. The message names the cause
    and the file, for the operator (CLI, log); `reason` is the cause alone, without the path,
    for what anyone may read (API answers, public job errors)."""

    code: ClassVar[str] = "storage_unavailable"

    def __init__(self, message: str, *, reason: str | None = None) -> None:
        super().__init__(message)
        self.reason = reason or message


class TrainFailed(AtlasError, RuntimeError):
    """At least one map of a train run failed (the maps that succeeded are published)."""

    code: ClassVar[str] = "training_failed"
