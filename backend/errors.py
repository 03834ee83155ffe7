"""The project's error hierarchy; foreign errors are translated where they enter (`raise from`)."""

from __future__ import annotations


class AtlasError(Exception):
    """Base of every error Task2Box Atlas raises on purpose."""


class CrawlError(AtlasError):
    """The Hub crawl cannot go on (the listing failed after its retries); committed work is kept."""
