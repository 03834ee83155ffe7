"""The crawl job: Hub listing → records → database, in batches, incremental and resumable.

Safe to kill at any moment (kill -9 included): every `crawl_batch_size` records are committed in
one transaction, and a rerun skips what is stored with the sha the Hub lists (only its downloads
and likes are refreshed), so it resumes where the last commit left off. What was in flight when
the process died was never committed and is simply fetched again. Failed datasets are stored
without a sha, so every run retries them.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import islice
from typing import Any

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from backend.config import Settings
from backend.crawler import ClientStats, HubClient, RawDataset
from backend.crawler.parse import listed_sha, popularity
from backend.db import repository
from backend.db.engine import SessionFactory, session_factory_for, session_scope
from backend.errors import CrawlError, StorageError
from backend.records import DatasetRecord

log = logging.getLogger(__name__)

CrawlProgress = Callable[[int, int | None], None]
"""Told `(datasets handled, limit or None)` as they are handled."""


@dataclass
class CrawlSummary:
    """What one run did. `error` is set when the listing broke off; committed work is kept."""

    fetched: int = 0
    unchanged: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    failed: int = 0
    seconds: float = 0.0
    duplicates: int = 0
    error: str | None = None
    stats: ClientStats | None = None

    @property
    def seen(self) -> int:
        """Datasets handled: fetched, unchanged, skipped or failed."""
        return self.fetched + self.unchanged + sum(self.skipped.values()) + self.failed


def run_crawl(
    settings: Settings,
    *,
    limit: int | None = None,
    progress: CrawlProgress | None = None,
    full: bool = False,
    client: HubClient | None = None,
    sessions: SessionFactory | None = None,
) -> CrawlSummary:
    """Crawls the Hub's image-classification datasets into the database.

    Args:
        settings: endpoints, batch size, concurrency, retry knobs and the database URL.
        limit: crawl at most this many datasets (most downloaded first).
        progress: called with (datasets handled, limit or None) as they are handled.
        full: re-read every dataset even when its sha is unchanged (after raising
            `T2B_MAX_LABELS`, say).
        client: the Hub client to use (tests pass one with a recording `sleep`).
        sessions: the session factory; defaults to the one for `settings.database_url`.

    Returns:
        The summary; `summary.error` tells whether the listing broke off early.

    Raises:
        ValueError: if `limit` < 1.
    """
    if limit is not None and limit < 1:
        raise ValueError(f"limit must be >= 1, got {limit}")
    started = time.monotonic()
    client = client or HubClient(settings)
    factory = sessions or session_factory_for(settings.database_url)
    with session_scope(factory) as session:
        run = _Run(session, settings.crawl_batch_size, limit, progress)
        try:
            for record in client.resolve_many(run.changed(client.list_datasets(limit=limit), full)):
                run.add(record)
        except CrawlError as err:
            log.error("crawl stopped: %s", err)
            run.summary.error = str(err)
        except BaseException as err:
            # Interrupted (Ctrl-C, a cancelled job): save what was fetched. But not after a
            # database error: the session is unusable then, and a second write would only
            # replace the real cause (a full disk, a read-only file) with the session's own
            # complaint about its state.
            if not isinstance(err, StorageError | SQLAlchemyError):
                run.flush_quietly()
            raise
        run.flush()
    run.summary.seconds = time.monotonic() - started
    run.summary.stats = client.stats()
    log.info("crawl finished: %s", describe(run.summary))
    return run.summary


class _Run:
    """One run's buffers and counters; every database call happens on the caller's thread."""

    def __init__(
        self, session: Session, batch_size: int, limit: int | None, progress: CrawlProgress | None
    ) -> None:
        self.session = session
        self.batch_size = batch_size
        self.limit = limit
        self.progress = progress
        self.crawled_at = datetime.now(UTC)
        self.summary = CrawlSummary()
        self.skipped: Counter[str] = Counter()
        self.pending: list[DatasetRecord] = []
        self.popularity: dict[str, tuple[int, int]] = {}
        self.seen_ids: set[str] = set()

    def changed(self, listing: Iterable[RawDataset], full: bool) -> Iterator[RawDataset]:
        """Listing items whose sha differs from the stored one; the rest only update counts."""
        items = iter(listing)
        while True:
            chunk: list[RawDataset] = []
            broke_off: CrawlError | None = None
            try:
                chunk.extend(islice(items, self.batch_size))
            except CrawlError as err:
                # What was listed before the listing broke off is still handled (and saved):
                # `islice` would drop a partial chunk along with the error.
                broke_off = err
            yield from self._changed_in(chunk, full)
            if broke_off is not None:
                raise broke_off
            if len(chunk) < self.batch_size:
                return

    def _changed_in(self, chunk: list[RawDataset], full: bool) -> Iterator[RawDataset]:
        fresh = []
        for raw in chunk:
            dataset_id = str(raw["id"])
            if dataset_id in self.seen_ids:  # pages shift while downloads change
                self.summary.duplicates += 1
                continue
            self.seen_ids.add(dataset_id)
            fresh.append(raw)
        if not fresh:
            return
        stored = repository.get_dataset_shas(self.session, [str(r["id"]) for r in fresh])
        for raw in fresh:
            sha = listed_sha(raw)
            if not full and sha is not None and stored.get(str(raw["id"])) == sha:
                self.popularity[str(raw["id"])] = popularity(raw)
                self.summary.unchanged += 1
                self._report()
            else:
                yield raw
        if len(self.popularity) >= self.batch_size:
            self._flush_popularity()

    def add(self, record: DatasetRecord) -> None:
        self.pending.append(record)
        if record.status == "ok":
            self.summary.fetched += 1
        elif record.status == "failed":
            self.summary.failed += 1
            log.warning("failed: %s: %s", record.id, record.error)
        else:
            self.skipped[record.skip_reason or "unknown"] += 1
            self.summary.skipped = dict(self.skipped)
        if len(self.pending) >= self.batch_size:
            self._flush_records()
        self._report()

    def flush(self) -> None:
        self._flush_records()
        self._flush_popularity()

    def flush_quietly(self) -> None:
        """`flush` while another error is on its way up: a failure here must not replace it."""
        try:
            self.flush()
        except Exception as err:  # the caller's session scope rolls back
            log.warning("could not save the last %d datasets fetched: %s", len(self.pending), err)

    def _flush_records(self) -> None:
        if self.pending:
            repository.save_crawl_batch(self.session, self.pending, crawled_at=self.crawled_at)
            s = self.summary
            log.info(
                "committed %d datasets (so far: %d fetched, %d unchanged, %d skipped, %d failed)",
                len(self.pending),
                s.fetched,
                s.unchanged,
                sum(s.skipped.values()),
                s.failed,
            )
            self.pending = []

    def _flush_popularity(self) -> None:
        if self.popularity:
            repository.update_popularity(self.session, self.popularity, crawled_at=self.crawled_at)
            self.popularity = {}

    def _report(self) -> None:
        if self.progress is not None:
            self.progress(self.summary.seen, self.limit)


def stopped_early(summary: CrawlSummary, *, resume: str = "crawl again to resume") -> str:
    """The one line that says why a crawl stopped early, and that nothing committed is lost.

    Hub error texts span several lines (the URL, a token hint); a summary line must not.
    """
    cause = " ".join((summary.error or "unknown cause").split())
    return (
        f"crawl stopped early: {cause}; committed batches are kept "
        f"({summary.fetched} fetched, {summary.unchanged} unchanged, "
        f"{sum(summary.skipped.values())} skipped, {summary.failed} failed): {resume}"
    )


def describe(summary: CrawlSummary) -> dict[str, Any]:
    """The summary as plain data (for logs, job messages and `--json`)."""
    out: dict[str, Any] = {
        "fetched": summary.fetched,
        "unchanged": summary.unchanged,
        "skipped": dict(sorted(summary.skipped.items())),
        "failed": summary.failed,
        "seconds": round(summary.seconds, 3),
    }
    if summary.duplicates:
        out["duplicates"] = summary.duplicates
    if summary.error:
        out["error"] = summary.error
    return out
