"""The project's error hierarchy, one place for every domain error.

Each error also inherits the stdlib type a caller would naturally catch (`LookupError`,
`ValueError`, `RuntimeError`), so generic handlers keep working. The API maps these to HTTP
statuses in one exception handler; nothing below `api/` raises `HTTPException`.
"""

from __future__ import annotations


class AtlasError(Exception):
    """Base class of every error this project raises on purpose."""


class NotFoundError(AtlasError, LookupError):
    """A dataset, map or job id that does not exist."""


class ConflictError(AtlasError, RuntimeError):
    """The request clashes with the current state (a job of that kind already runs)."""


class InvalidStateError(AtlasError, ValueError):
    """An operation on a record in the wrong state (publishing a failed map)."""


class RepresentationUnavailable(AtlasError, RuntimeError):
    """A representation cannot be computed here (e.g. CLIP weights cannot be reached)."""


class CrawlError(AtlasError, RuntimeError):
    """The Hub crawl cannot go on (the listing failed after its retries); committed work is kept."""
