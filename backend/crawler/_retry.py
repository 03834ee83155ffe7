"""Retries with exponential backoff and jitter, honouring a server's `Retry-After`."""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from backend.crawler._ratelimit import MAX_BACKOFF_S

logger = logging.getLogger(__name__)
T = TypeVar("T")


class TransientError(Exception):
    """A failure worth retrying (429, 5xx, timeout, truncated body); may carry a wait."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


@dataclass(frozen=True)
class RetryPolicy:
    """`max_retries` retries after the first try; waits grow from `base_s`, doubling."""

    max_retries: int
    base_s: float = 0.5
    max_s: float = 30.0

    def __post_init__(self) -> None:
        if self.max_retries < 0:
            raise ValueError(f"max_retries must be >= 0, got {self.max_retries}")
        if self.base_s < 0 or self.max_s < self.base_s:
            raise ValueError(f"need 0 <= base_s <= max_s, got {self.base_s}, {self.max_s}")

    def delay(self, attempt: int, retry_after: float | None, rng: random.Random) -> float | None:
        """Seconds to wait before retry number `attempt + 1`, or None to give up.

        A server's `Retry-After` is a floor: we wait it plus up to 10% jitter, so that workers
        released together do not all hit the server in the same instant. Without one, "equal
        jitter" backoff: half the exponential step fixed, half random.
        """
        if retry_after is not None:
            if retry_after > MAX_BACKOFF_S:
                return None
            return retry_after + rng.uniform(0.0, 0.1 * retry_after + 0.01)
        step = min(self.max_s, self.base_s * 2.0**attempt)
        return step / 2 + rng.uniform(0.0, step / 2)


def call_with_retries(
    fn: Callable[[], T],
    *,
    policy: RetryPolicy,
    rng: random.Random,
    sleep: Callable[[float], None],
    what: str,
    on_retry: Callable[[float], None] | None = None,
) -> T:
    """Call `fn`, retrying `TransientError` per `policy`; the last error propagates.

    Args:
        fn: the attempt; raises `TransientError` for retryable failures.
        policy: how many retries and how long to wait.
        rng: jitter source (seeded in tests).
        sleep: the wait (a recorder in tests).
        what: a short label for log lines, e.g. `"viewer /info owner/name"`.
        on_retry: called with each wait, for counters.
    """
    attempt = 0
    while True:
        try:
            return fn()
        except TransientError as err:
            last = attempt >= policy.max_retries
            delay = None if last else policy.delay(attempt, err.retry_after, rng)
            if delay is None:
                raise
            logger.info("%s: %s; retry %d in %.2fs", what, err, attempt + 1, delay)
            if on_retry is not None:
                on_retry(delay)
            sleep(delay)
            attempt += 1
