"""The project's error hierarchy, one place for every domain error.

Each error also inherits the stdlib type a caller would naturally catch (`LookupError`,
`ValueError`, `RuntimeError`, `PermissionError`), so generic handlers keep working. Each carries
a stable machine `code` that the API puts in its `{"error": code, "detail": message}` body; the
HTTP status for each class is chosen in one place, `backend/api/errors.py`. Nothing below
`api/` raises `HTTPException`.
"""

from __future__ import annotations

from typing import ClassVar

from models.errors import TrainingError


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


# The longest public reason stored with a failed job or map (the log keeps the full error).
MAX_PUBLIC_REASON_CHARS = 300


def public_reason(error: BaseException) -> str:
    """What anyone may read about a failure: the reason shown by `GET /api/jobs` and `/api/maps`.

    Those lists are public, so a failure must not show internals there: a database error's
    text holds the SQL statement and its parameters, and other exceptions may hold paths or
    data. Errors this project raises on purpose keep their message, which is written for
    users, and so does a diverged fit (`models.errors.TrainingError`). A database error
    keeps only its driver's one-line reason ("database or disk is full"), an OS error its
    reason without the path, and anything else only its type. The
    caller logs the full error.
    """
    if isinstance(error, StorageError):  # its message names the database file's path
        text = error.reason
    elif isinstance(error, AtlasError):
        text = str(error) or error.code
    elif isinstance(error, TrainingError):
        text = f"{type(error).__name__}: {error}"
    elif isinstance(getattr(error, "orig", None), BaseException):
        # SQLAlchemy's DBAPIError wraps the driver's exception as `.orig`; its own str()
        # appends "[SQL: ...]" and "[parameters: ...]".
        reason = str(error.orig).strip().splitlines()  # type: ignore[attr-defined]
        text = f"database error ({type(error).__name__}): {reason[0] if reason else '?'}"
    elif isinstance(error, OSError) and error.strerror:
        text = f"{type(error).__name__}: {error.strerror}"
    elif isinstance(error, MemoryError):
        text = "MemoryError: out of memory"
    else:
        text = f"internal error ({type(error).__name__}); see the server log"
    first_line = text.strip().splitlines()[0] if text.strip() else type(error).__name__
    if len(first_line) > MAX_PUBLIC_REASON_CHARS:
        first_line = first_line[: MAX_PUBLIC_REASON_CHARS - 1] + "…"
    return first_line
