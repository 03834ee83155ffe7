"""Answer in the event loop when the work is short and in memory; else in the thread pool.

A warm `/related` or `/boxes` request is a millisecond of NumPy on cached arrays: handing it
to a worker thread and back costs as much again, and the thread hops dominate a profile under
load. Anything that may read the database or build a cache (seconds for a cold 10k map) runs
in the thread pool, so the loop never blocks on I/O.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from starlette.concurrency import run_in_threadpool

T = TypeVar("T")


async def run_inline_if(fast: bool, fn: Callable[[], T]) -> T:
    """`fn()` right here when `fast`, else in the thread pool."""
    if fast:
        return fn()
    return await run_in_threadpool(fn)
