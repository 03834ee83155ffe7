"""`task2box bench api`: the real server (uvicorn on loopback) under concurrent load.

Builds a 10k-dataset atlas (`benchmarks/api_db.py`: synthetic Hub-like label sets, synthetic
published boxes), starts `task2box serve` as a subprocess, and measures `/healthz`,
`/api/datasets/{id}/related` (random datasets, both directions), `POST /api/place` (random
subsets of 4 classes of random datasets) and `/api/maps/{id}/boxes` (gzip, as browsers ask)
one after the other in the same run, with the same load tool.
"""

from __future__ import annotations

import dataclasses
import json
import os
import random
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from benchmarks.api_db import BenchAtlas, build_atlas
from benchmarks.api_load import LoadResult, run_python, run_wrk, wrk_available
from benchmarks.serve_process import serving

ROOT = Path(__file__).resolve().parents[1]
_START_TIMEOUT_S = 180.0
_WARMUP_S = 3.0
_RELATED_PATHS = 4000
_PLACE_BODIES = 500
PLACE = "POST /api/place"
_PLACE_CLASSES = 4


@dataclass(frozen=True)
class ApiBenchConfig:
    datasets: int = 10_000
    workers: int = 2
    duration_s: float = 20.0
    concurrency: int = 32
    tool: str = "auto"  # auto | wrk | python
    max_requests: int = 2_000_000
    log_level: str = "INFO"
    wrk_threads: int = 2
    neighbor_table: bool = True
    # People paste label lists one at a time; /place is measured at this many clients.
    place_concurrency: int = 4


def _cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds of `pid` and its direct children (the uvicorn workers), from
    /proc; None where there is no /proc."""
    ticks = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    total = 0.0
    try:
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            # After the command: state, ppid, ..., utime (index 11), stime (12).
            if int(entry.name) == pid or int(fields[1]) == pid:
                total += (int(fields[11]) + int(fields[12])) / ticks
    except OSError:
        return None
    return total


@dataclass(frozen=True)
class HostTimes:
    """The machine's CPU time (all cores, in clock ticks) from the `cpu` line of /proc/stat."""

    busy: int  # user, nice, system, irq, softirq: work by any process, ours or not
    steal: int  # time the hypervisor ran someone else while a vCPU of ours wanted to run
    total: int


def host_times(stat: Path = Path("/proc/stat")) -> HostTimes | None:
    """The machine's CPU counters now; None where there is no /proc.

    Why: on a virtual machine a tail latency can come from the host, which deschedules a vCPU
    for tens of milliseconds (steal time). A phase's steal share says whether a missed p99 was
    the host's doing, and its busy share whether the machine was quiet (nothing but this
    benchmark running).
    """
    try:
        line = stat.read_text().splitlines()[0]
    except (OSError, IndexError):
        return None
    fields = line.split()
    if not fields or fields[0] != "cpu":
        return None
    # user nice system idle iowait irq softirq steal (guest times are inside user/nice).
    values = [int(v) for v in fields[1:9]] + [0] * max(0, 9 - len(fields))
    user, nice, system, idle, iowait, irq, softirq, steal = values[:8]
    busy = user + nice + system + irq + softirq
    return HostTimes(busy=busy, steal=steal, total=busy + idle + iowait + steal)


def host_shares(before: HostTimes | None, after: HostTimes | None) -> dict[str, float | None]:
    """`busy_pct` and `steal_pct` of the machine's CPU time between two readings."""
    if before is None or after is None or after.total <= before.total:
        return {"busy_pct": None, "steal_pct": None}
    span = after.total - before.total
    return {
        "busy_pct": round(100 * (after.busy - before.busy) / span, 1),
        "steal_pct": round(100 * (after.steal - before.steal) / span, 2),
    }


@contextmanager
def serve(workdir: Path, atlas: BenchAtlas, config: ApiBenchConfig) -> Iterator[tuple[str, int]]:
    """`task2box serve` in a subprocess, logging to `workdir/server.log`; yields its URL and
    process id."""
    env = {
        **os.environ,
        "T2B_DATABASE_URL": atlas.url,
        "T2B_DATA_DIR": str(workdir / "data"),
        "T2B_LOG_LEVEL": config.log_level,
    }
    args = ("--workers", str(config.workers))
    with serving(env, workdir / "server.log", args=args, start_timeout_s=_START_TIMEOUT_S) as up:
        yield up.base, up.pid


def _endpoints(atlas: BenchAtlas, seed: int) -> dict[str, tuple[list[str], dict[str, str]]]:
    rng = random.Random(seed)
    related = [
        f"/api/datasets/{rng.choice(atlas.dataset_ids)}/related?k=10&direction="
        + ("contained_in" if i % 2 else "contains")
        for i in range(_RELATED_PATHS)
    ]
    place = []
    for _ in range(_PLACE_BODIES):
        labels = list(rng.choice(atlas.label_sets))
        body = {"labels": rng.sample(labels, min(_PLACE_CLASSES, len(labels))), "k": 10}
        place.append(f"POST /api/place {json.dumps(body)}")
    return {
        "/healthz": (["/healthz"], {}),
        "/api/datasets/{id}/related": (related, {}),
        PLACE: (place, {}),
        "/api/maps/{id}/boxes": (
            [f"/api/maps/{atlas.picture_map}/boxes"],
            {"Accept-Encoding": "gzip"},
        ),
    }


def payload_sizes(base: str, map_id: int) -> dict[str, int]:
    """Bytes of the `/boxes` body, plain and gzipped."""
    url = f"{base}/api/maps/{map_id}/boxes"
    plain = httpx.get(url, headers={"Accept-Encoding": "identity"}, timeout=60)
    with httpx.stream("GET", url, headers={"Accept-Encoding": "gzip"}, timeout=60) as response:
        gzipped = b"".join(response.iter_raw())
    return {"plain": len(plain.content), "gzip": len(gzipped)}


def run_api_bench(
    workdir: Path, config: ApiBenchConfig, *, reuse: bool = False, seed: int = 0
) -> dict[str, Any]:
    """Builds (or reuses) the atlas, serves it and loads each endpoint in turn."""
    workdir.mkdir(parents=True, exist_ok=True)
    db = workdir / "atlas.db"
    started = time.perf_counter()
    if reuse and db.exists():
        atlas = _reuse(db)
    else:
        atlas = build_atlas(
            db,
            config.datasets,
            seed,
            neighbor_table=config.neighbor_table,
            cache_dir=workdir / "data" / "cache",
        )
    build_s = time.perf_counter() - started
    tool = config.tool if config.tool != "auto" else ("wrk" if wrk_available() else "python")
    results: list[LoadResult] = []
    cpu_ms: dict[str, float | None] = {}
    host: dict[str, dict[str, float | None]] = {}
    with serve(workdir, atlas, config) as (base, pid):
        sizes = payload_sizes(base, atlas.picture_map)
        for endpoint, (paths, headers) in _endpoints(atlas, seed).items():
            _load(tool, base, endpoint, paths, headers, config, _WARMUP_S)  # warm every worker
            before = _cpu_seconds(pid)
            host_before = host_times()
            result = _load(tool, base, endpoint, paths, headers, config, config.duration_s)
            host[endpoint] = host_shares(host_before, host_times())
            after = _cpu_seconds(pid)
            results.append(result)
            cpu_ms[endpoint] = (
                None
                if before is None or after is None or not result.requests
                else round((after - before) * 1000 / result.requests, 3)
            )
    return {
        "server_cpu_ms_per_request": cpu_ms,
        "host": host,
        "config": config.__dict__,
        "tool": tool,
        "build_s": round(build_s, 1),
        "label_slots": atlas.label_slots,
        "boxes_bytes": sizes,
        "results": [r.as_dict() for r in results],
    }


def _load(
    tool: str,
    base: str,
    endpoint: str,
    paths: list[str],
    headers: dict[str, str],
    config: ApiBenchConfig,
    duration_s: float,
) -> LoadResult:
    if endpoint == PLACE:
        config = dataclasses.replace(config, concurrency=config.place_concurrency)
    if tool == "wrk":
        return run_wrk(
            base,
            endpoint,
            paths,
            concurrency=config.concurrency,
            duration_s=duration_s,
            threads=config.wrk_threads,
            headers=headers,
        )
    return run_python(
        base,
        endpoint,
        paths,
        concurrency=config.concurrency,
        duration_s=duration_s,
        max_requests=config.max_requests,
        headers=headers,
    )


def _reuse(db: Path) -> BenchAtlas:
    from backend.db import migrate, repository
    from backend.db.engine import make_engine, make_session_factory, session_scope

    url = f"sqlite:///{db}"
    migrate.upgrade(url)  # an atlas kept from an older checkout gets this schema first
    with session_scope(make_session_factory(make_engine(url))) as session:
        maps = repository.get_published_map_ids(session, relation="containment")
        boxes = repository.get_map_boxes(session, map_id=maps[0][0])
        label_sets = [s.labels for s in repository.get_label_sets(session)]
    assert boxes is not None
    return BenchAtlas(
        url=url,
        dataset_ids=boxes.dataset_ids,
        picture_map=maps[0][0],
        score_map=maps[-1][0],
        label_slots=int(boxes.num_labels.sum()),
        label_sets=label_sets,
    )
