"""A benchmark's fits spread over worker processes, one torch thread each.

Shared by the hierarchy and transfer benchmarks: both run many small, independent fits
(`model × setting × case`) over one read-only context.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Any, TypeVar

Context = TypeVar("Context")
Result = TypeVar("Result")
# (setting, case, index of the model spec)
Job = tuple[str, int, int]

_WORKER: dict[str, Any] = {}


def _init_worker(fit: Callable[..., Any], ctx: Any) -> None:
    import torch

    # One thread per process: small ops scale better across processes than across threads,
    # and two OpenMP threads on two busy cores keep waiting for each other (RESULTS.md, Speed).
    torch.set_num_threads(1)
    _WORKER["fit"] = fit
    _WORKER["ctx"] = ctx


def _fit_in_worker(setting: str, case: int, k: int) -> Any:
    return _WORKER["fit"](_WORKER["ctx"], setting, case, k)


def run_fits(
    fit: Callable[[Context, str, int, int], Result],
    ctx: Context,
    jobs: Sequence[Job],
    n_procs: int,
) -> Iterator[tuple[Job, Result]]:
    """Yields `(job, fit(ctx, *job))` for every job, in completion order.

    Args:
        fit: a module-level function (workers receive it pickled by reference).
        ctx: the read-only context every fit reads; sent once to each worker.
        jobs: the fits to run.
        n_procs: worker processes; 1 or less runs every fit in this process.
    """
    if n_procs <= 1:
        for job in jobs:
            yield job, fit(ctx, *job)
        return
    # spawn, not fork: forking a process whose torch thread pools are live can deadlock.
    mp = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(
        n_procs, mp_context=mp, initializer=_init_worker, initargs=(fit, ctx)
    ) as ex:
        futures = {ex.submit(_fit_in_worker, *job): job for job in jobs}
        for future in as_completed(futures):
            yield futures[future], future.result()
