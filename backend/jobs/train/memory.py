"""The memory guard of the train job: refuse a fit that would not fit.

`models.budget.estimate_peak_bytes` predicts a job's peak from counts alone; this compares it
with `T2B_TRAIN_MAX_MEMORY_GB` (or, unset, with 80% of the memory this process may use) and
refuses with the settings to change. The job checks twice: before counting the targets
(datasets and labels are known, the positive pairs are bounded by the label postings) and
again with the counted positives, before any network is built.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from backend.config import Settings
from backend.errors import MemoryBudgetError
from models.budget import GIB, MemoryEstimate

# Unset limit: this share of the memory the process may use (the rest is the OS, the server
# and the page cache that SQLite reads through).
_DEFAULT_SHARE = 0.8
# cgroup v2 and v1 files that hold a container's memory limit.
_CGROUP_LIMITS = (
    Path("/sys/fs/cgroup/memory.max"),
    Path("/sys/fs/cgroup/memory/memory.limit_in_bytes"),
)


def available_bytes() -> int | None:
    """The memory this process may use: the machine's, or its container's limit if lower."""
    candidates: list[int] = []
    with contextlib.suppress(ValueError, OSError, AttributeError):  # not every OS has these
        candidates.append(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    for path in _CGROUP_LIMITS:
        try:
            text = path.read_text().strip()
        except OSError:
            continue
        if text.isdigit():  # "max" means no limit
            candidates.append(int(text))
    return min(candidates) if candidates else None


def memory_limit_bytes(settings: Settings) -> int | None:
    """The configured limit, or the default share of what is available (None: unknown)."""
    if settings.train_max_memory_gb > 0:
        return int(settings.train_max_memory_gb * GIB)
    available = available_bytes()
    return None if available is None else int(available * _DEFAULT_SHARE)


def check_memory(settings: Settings, estimate: MemoryEstimate, what: str) -> None:
    """Raises `MemoryBudgetError` when `estimate` is over the limit.

    Args:
        what: the fit, as the message names it ("containment maps of 20,000 datasets").
    """
    limit = memory_limit_bytes(settings)
    if limit is None or estimate.total <= limit:
        return
    source = (
        f"T2B_TRAIN_MAX_MEMORY_GB={settings.train_max_memory_gb:g}"
        if settings.train_max_memory_gb > 0
        else f"{_DEFAULT_SHARE:.0%} of this machine's memory; T2B_TRAIN_MAX_MEMORY_GB is unset"
    )
    raise MemoryBudgetError(
        f"refusing to train {what}: it needs about {estimate.total / GIB:.1f} GiB at its peak "
        f"(GiB: {estimate.describe()}), over the limit of {limit / GIB:.1f} GiB ({source}). "
        "Raise T2B_TRAIN_MAX_MEMORY_GB if the machine has the memory; or train fewer datasets "
        "(`task2box crawl --limit N` into a fresh database); or set T2B_LABEL_MATCH_COSINE=1 "
        "to match labels by text only, which lists fewer positive pairs."
    )
