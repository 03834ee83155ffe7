"""Crawl throughput: `run_crawl` against a synthetic fake Hub with latency on every request.

The fake Hub (`tests/fakehub.py`) runs in its own process, so this benchmark needs a source
checkout. The crawl is the real job: listing pages, viewer lookups with bounded concurrency,
the rate-limit gate, and batched commits to a fresh SQLite file.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from backend.config import Settings

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class CrawlBenchResult:
    """One benchmark run; `requests` and latencies are measured by the client."""

    datasets: int
    latency_ms: float
    concurrency: int
    viewer_fraction: float
    quota: str
    seconds: float
    datasets_per_s: float
    fetched: int
    skipped: int
    failed: int
    requests: int
    retries: int
    retryable_responses: int
    throttled_s: float
    p50_latency_ms: float | None
    server: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def run_crawl_bench(
    *,
    datasets: int = 5000,
    latency_s: float = 0.05,
    concurrency: int = 8,
    viewer_fraction: float = 0.25,
    quota: int = 0,
    window_s: int = 10,
    page_size: int = 100,
    batch_size: int = 50,
) -> CrawlBenchResult:
    """Crawls `datasets` synthetic datasets from a fake Hub and times it.

    Args:
        datasets: how many datasets the fake Hub lists.
        latency_s: delay the fake Hub adds to every request.
        concurrency: `crawl_concurrency` (parallel per-dataset lookups).
        viewer_fraction: share of datasets whose labels are only in the viewer (one request each).
        quota: requests per `window_s` the fake Hub allows, announced in `RateLimit` headers
            (0: unlimited).
        window_s: the rate-limit window.
        page_size: datasets per listing page.
        batch_size: datasets per commit.
    """
    from backend.db import migrate
    from backend.db.engine import session_factory_for
    from backend.jobs.crawl_job import run_crawl

    if not (ROOT / "tests" / "fakehub.py").exists():
        raise RuntimeError("`bench crawl` needs a source checkout: tests/fakehub.py is missing")
    args = [
        f"--synthetic={datasets}",
        f"--latency={latency_s}",
        f"--viewer-fraction={viewer_fraction}",
        f"--page-size={page_size}",
        f"--quota={quota}",
        f"--window={window_s}",
    ]
    with tempfile.TemporaryDirectory() as tmp, _fake_hub(args) as (url, server_report):
        db_url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        migrate.upgrade(db_url)
        settings = Settings(
            _env_file=None,
            hub_endpoint=url,
            viewer_endpoint=f"{url}/viewer",
            hf_token=None,
            database_url=db_url,
            data_dir=Path(tmp) / "data",
            crawl_concurrency=concurrency,
            crawl_batch_size=batch_size,
        )
        with _hub_constants(url, Path(tmp)):
            summary = run_crawl(settings, sessions=session_factory_for(db_url))
    stats = summary.stats
    assert stats is not None
    if summary.error:
        raise RuntimeError(f"the benchmark crawl broke off: {summary.error}")
    return CrawlBenchResult(
        datasets=summary.seen,
        latency_ms=latency_s * 1000,
        concurrency=concurrency,
        viewer_fraction=viewer_fraction,
        quota=f"{quota}/{window_s}s" if quota else "none",
        seconds=summary.seconds,
        datasets_per_s=summary.seen / summary.seconds,
        fetched=summary.fetched,
        skipped=sum(summary.skipped.values()),
        failed=summary.failed,
        requests=stats.requests,
        retries=stats.retries,
        retryable_responses=stats.retryable_responses,
        throttled_s=stats.throttled_s,
        p50_latency_ms=None if stats.p50_latency_s is None else stats.p50_latency_s * 1000,
        server=" ".join(server_report),
    )


@contextmanager
def _fake_hub(args: list[str]) -> Iterator[tuple[str, list[str]]]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.fakehub_serve", *args],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdin is not None and proc.stdout is not None
    report: list[str] = []
    try:
        line = proc.stdout.readline()
        if not line.startswith("URL "):
            raise RuntimeError(f"fake Hub did not start: {line!r}")
        yield line.split()[1], report
    finally:
        proc.stdin.close()  # the server prints its request counts and exits
        report.extend(proc.stdout.read().split())
        proc.wait(timeout=30)


@contextmanager
def _hub_constants(url: str, home: Path) -> Iterator[None]:
    # huggingface_hub sends its one-time agent-harness lookup to the endpoint it read from
    # HF_ENDPOINT at import; point it (and its caches) at the fake Hub for the run.
    from huggingface_hub import constants
    from huggingface_hub.utils import _detect_agent

    saved = {
        "ENDPOINT": constants.ENDPOINT,
        "HUGGINGFACE_CO_URL_TEMPLATE": constants.HUGGINGFACE_CO_URL_TEMPLATE,
        "AGENT_HARNESSES_PATH": constants.AGENT_HARNESSES_PATH,
        "HF_HUB_CACHE": constants.HF_HUB_CACHE,
    }
    constants.ENDPOINT = url
    constants.HUGGINGFACE_CO_URL_TEMPLATE = url + "/{repo_id}/resolve/{revision}/{filename}"
    constants.AGENT_HARNESSES_PATH = str(home / "agents.json")
    constants.HF_HUB_CACHE = str(home / "hub")
    registry = _detect_agent._registry
    _detect_agent._registry = None
    try:
        yield
    finally:
        for name, value in saved.items():
            setattr(constants, name, value)
        _detect_agent._registry = registry
