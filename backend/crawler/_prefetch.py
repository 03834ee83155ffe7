"""Run an iterator a bounded distance ahead of its consumer, on a background thread.

The listing waits on the network for each page while the crawl job commits batches; running the
listing ahead lets the two overlap. The thread starts at the consumer's first `next()` (the
listing stays lazy), stays at most `depth` items ahead, and stops when the consumer does.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TypeVar, cast

T = TypeVar("T")
_POLL_S = 0.1


@dataclass(frozen=True)
class _Failed:
    error: BaseException


_END = object()


def prefetched(items: Iterator[T], *, depth: int) -> Iterator[T]:
    """Yields what `items` yields, fetched up to `depth` items ahead; re-raises its errors."""
    if depth < 1:
        raise ValueError(f"depth must be >= 1, got {depth}")
    buffer: queue.Queue[object] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(value: object) -> bool:
        while not stop.is_set():
            try:
                buffer.put(value, timeout=_POLL_S)
                return True
            except queue.Full:
                continue
        return False

    def pump() -> None:
        try:
            for item in items:
                if not put(item):
                    return
            put(_END)
        except BaseException as err:  # handed to the consumer, which re-raises it
            put(_Failed(err))

    thread = threading.Thread(target=pump, name="t2b-listing", daemon=True)
    thread.start()
    try:
        while True:
            value = buffer.get()
            if value is _END:
                return
            if isinstance(value, _Failed):
                raise value.error
            yield cast(T, value)
    finally:
        stop.set()
