"""The crawler's face: list image-classification datasets and turn them into records.

I/O and parsing only (no database, no torch): `backend/jobs/crawl_job.py` composes it with the
repository. Everything is lazy: nothing is requested until the caller iterates, and at most
`2 × crawl_concurrency` lookups are in flight, so a crawl killed at any moment has lost at most
those.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Any

from huggingface_hub import HfApi

from backend.config import Settings
from backend.crawler import _http
from backend.crawler._prefetch import prefetched
from backend.crawler._retry import RetryPolicy
from backend.crawler.listing import iter_listing
from backend.crawler.parse import valid_id
from backend.crawler.resolve import Resolver, ResolverConfig, needs_lookup
from backend.records import DatasetRecord

logger = logging.getLogger(__name__)

RawDataset = dict[str, Any]


@dataclass(frozen=True)
class ClientStats:
    """Request-level numbers for a summary or a benchmark table."""

    requests: int
    retryable_responses: int
    retries: int
    retry_wait_s: float
    throttled_s: float
    viewer_calls: int
    builder_calls: int
    rejected_ids: int
    p50_latency_s: float | None


class HubClient:
    """Lists datasets on `settings.hub_endpoint` and resolves their labels.

    Args:
        settings: endpoints, token, limits and retry knobs.
        sleep: how retries wait (tests pass a recorder).
        rng: jitter source (tests pass a seeded one).
    """

    def __init__(
        self,
        settings: Settings,
        *,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
    ) -> None:
        _http.install(settings.http_timeout_s)
        self._settings = settings
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._policy = RetryPolicy(settings.crawl_max_retries, base_s=settings.crawl_backoff_s)
        # `token=False`, not None: None would make the library fall back to a token saved on disk
        # or in HF_TOKEN behind our settings' back.
        self._api = HfApi(endpoint=settings.hub_endpoint, token=settings.hf_token or False)
        self._resolver = Resolver(
            ResolverConfig(
                hub_endpoint=settings.hub_endpoint,
                viewer_endpoint=settings.viewer_endpoint,
                token=settings.hf_token,
                timeout_s=settings.http_timeout_s,
                max_labels=settings.max_labels,
                cache_dir=settings.cache_dir / "datasets",
                builder_fallback=settings.crawl_builder_fallback,
                policy=self._policy,
            ),
            rng=self._rng,
            sleep=sleep,
        )
        self._rejected = 0
        self._start_counters = _http.STATE.counters()
        self._start_latencies = len(_http.STATE.latencies)

    def list_datasets(self, *, limit: int | None = None) -> Iterator[RawDataset]:
        """Raw listing items with valid ids, most downloaded first, fetched lazily.

        Raises:
            CrawlError: the listing failed after its retries.
        """
        items = iter_listing(
            self._api,
            limit=limit,
            policy=self._policy,
            rng=self._rng,
            sleep=self._sleep,
            timeout_s=self._settings.http_timeout_s,
        )
        for raw in prefetched(items, depth=4 * self._settings.crawl_batch_size):
            if valid_id(raw.get("id")) is None:
                self._rejected += 1
                logger.warning("skipping a listed item with an invalid id: %.80r", raw.get("id"))
                continue
            yield raw

    def needs_lookup(self, raw: RawDataset) -> bool:
        """True when labels must be fetched (viewer, builder) rather than read from the item."""
        return needs_lookup(raw, self._settings.max_labels)

    def resolve(self, raw: RawDataset) -> DatasetRecord:
        """The record for one listed dataset; never raises for per-dataset failures."""
        return self._resolver.resolve(raw)

    def resolve_many(self, raws: Iterable[RawDataset]) -> Iterator[DatasetRecord]:
        """Records for `raws`, in completion order, with bounded concurrency.

        Items that need no request are yielded at once; the rest run on
        `crawl_concurrency` threads with at most twice that many in flight, so the input is
        consumed only as fast as lookups finish.
        """
        workers = self._settings.crawl_concurrency
        in_flight: set[Future[DatasetRecord]] = set()
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="t2b-crawl") as pool:
            try:
                for raw in raws:
                    if not self.needs_lookup(raw):
                        yield self.resolve(raw)
                        continue
                    in_flight.add(pool.submit(self.resolve, raw))
                    block = len(in_flight) >= 2 * workers
                    done, in_flight = wait(
                        in_flight, timeout=None if block else 0, return_when=FIRST_COMPLETED
                    )
                    for future in done:
                        yield future.result()
            except Exception:
                # The input broke off (the listing failed): hand over the lookups already in
                # flight so the caller can still save them, then let the error through.
                for future in _completed(in_flight):
                    yield future.result()
                raise
            for future in _completed(in_flight):
                yield future.result()

    def stats(self) -> ClientStats:
        """Numbers since this client was made (HTTP counters are process-wide, so a delta)."""
        delta = _http.STATE.counters() - self._start_counters
        c = self._resolver.counters
        return ClientStats(
            requests=delta.requests,
            retryable_responses=delta.retryable,
            retries=c.retries,
            retry_wait_s=c.retry_wait_s,
            throttled_s=delta.throttled_s,
            viewer_calls=c.viewer_calls,
            builder_calls=c.builder_calls,
            rejected_ids=self._rejected,
            p50_latency_s=_http.STATE.latency_p50(since=self._start_latencies),
        )


def _completed(futures: set[Future[DatasetRecord]]) -> Iterator[Future[DatasetRecord]]:
    pending = set(futures)
    while pending:
        done, pending = wait(pending, return_when=FIRST_COMPLETED)
        yield from done


__all__ = ["ClientStats", "HubClient", "RawDataset"]
