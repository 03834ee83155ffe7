"""`task2box bench soak`: readers on loopback while a crawl runs and two fits happen, one of
them killed with -9.

Everything is a real process on 127.0.0.1: `task2box serve` (one worker), the fake Hub
(`tests/fakehub_serve.py`, so this needs a source checkout) and `task2box train` for the fit
that is killed. Concurrent readers keep `/api/datasets/{id}/related`, `/api/maps/{id}/boxes`
and `POST /api/place` busy for the whole run, while:

1. a CLI fit starts (an epoch budget it cannot finish) and reaches its epochs;
2. a crawl of the fake Hub starts through `POST /api/jobs/crawl`;
3. once the crawl has committed a batch, the CLI fit is killed with SIGKILL;
4. when the crawl is done, a second fit starts through `POST /api/jobs/train`, at once (the
   killed fit's job is failed by its lease, not left blocking), and publishes.

It reports each endpoint's requests, errors, p50 and p99, and the rows lost: datasets the
atlas or the crawl committed that are missing at the end, plus boxes missing from published
maps. Label vectors are synthetic and seeded into the embedding cache, so no model is loaded.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import secrets
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select

from backend.db import repository
from backend.db.engine import session_factory_for, session_scope
from backend.db.tables import Box, Dataset
from benchmarks.api_db import BenchAtlas, build_atlas, seed_embeddings
from benchmarks.serve_process import serving
from models.targets import unique_labels

ROOT = Path(__file__).resolve().parents[1]
_START_TIMEOUT_S = 180.0
_STEP_TIMEOUT_S = 600.0
_REQUEST_TIMEOUT_S = 30.0
RELATED = "/api/datasets/{id}/related"
BOXES = "/api/maps/{id}/boxes"
PLACE = "POST /api/place"


@dataclass(frozen=True)
class SoakConfig:
    """How big the soak is; the defaults finish in a few minutes on 2 cores."""

    datasets: int = 300  # in the atlas before the soak (full-batch fits below ~500)
    crawl_datasets: int = 150  # listed by the fake Hub
    hub_latency_s: float = 0.02  # added to every fake Hub request, so the crawl takes a while
    fit_epochs: int = 60  # the second (API) fit
    readers: int = 6  # concurrent clients, spread over the three endpoints
    max_requests: int = 500_000  # a cap on reader requests, whatever happens
    seed: int = 0


@dataclass
class EndpointStats:
    """What the readers saw of one endpoint."""

    endpoint: str
    requests: int = 0
    errors: int = 0
    p50_ms: float | None = None
    p99_ms: float | None = None
    error_samples: list[str] = field(default_factory=list)


@dataclass
class SoakReport:
    """One soak run."""

    config: dict[str, Any]
    seconds: float
    endpoints: list[EndpointStats]
    requests: int
    errors: int
    rows_lost: int
    killed_job: dict[str, Any]
    crawl_job: dict[str, Any]
    fit_job: dict[str, Any]
    fit_submit_status: int
    maps_left_training: int

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _fake_hub_catalog() -> Any:
    """The fake Hub's `synthetic_catalog`, from the checkout's `tests/` (the soak runs that fake
    Hub from there too); `task2box bench` is an installed script, so the checkout is not on
    the import path by itself."""
    import importlib

    if str(ROOT) not in sys.path:
        sys.path.append(str(ROOT))
    return importlib.import_module("tests.fakehub_catalog").synthetic_catalog


@contextmanager
def _fake_hub(config: SoakConfig, log: Path) -> Iterator[str]:
    if not (ROOT / "tests" / "fakehub_serve.py").exists():
        raise RuntimeError(
            "`bench soak` needs a source checkout: tests/fakehub_serve.py is missing"
        )
    args = [
        f"--synthetic={config.crawl_datasets}",
        f"--latency={config.hub_latency_s}",
        f"--seed={config.seed}",
    ]
    with log.open("wb") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "tests.fakehub_serve", *args, "--page-size=10"],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=err,
            text=True,
        )
        assert proc.stdin is not None and proc.stdout is not None
        try:
            line = proc.stdout.readline()
            if not line.startswith("URL "):
                raise RuntimeError(f"the fake Hub did not start: {line!r}; see {log}")
            yield line.split()[1]
        finally:
            proc.stdin.close()  # it reports its request counts and exits
            proc.stdout.read()
            proc.wait(timeout=30)


@contextmanager
def _server(env: dict[str, str], log: Path) -> Iterator[str]:
    with serving(env, log, start_timeout_s=_START_TIMEOUT_S) as up:
        yield up.base


@contextmanager
def _cli_fit(env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """`task2box train` with an epoch budget it cannot finish; killed on the way out if the
    soak stopped before killing it, so no fit outlives the run."""
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "backend.cli", "train", "--epochs", "100000"],
            cwd=ROOT,
            env=env | {"HF_HUB_OFFLINE": "1"},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        try:
            yield proc
        finally:
            if proc.poll() is None:
                proc.kill()
            proc.wait()


class _Readers:
    """Concurrent readers of the three endpoints, in one background thread, until `stop()`."""

    def __init__(self, base: str, atlas: BenchAtlas, config: SoakConfig) -> None:
        rng = random.Random(config.seed)
        self._base = base
        self._config = config
        self._related = [
            f"/api/datasets/{rng.choice(atlas.dataset_ids)}/related?k=10&direction="
            + ("contained_in" if i % 2 else "contains")
            for i in range(1000)
        ]
        self._boxes = f"/api/maps/{atlas.picture_map}/boxes"
        self._place = []
        for _ in range(200):
            labels = list(rng.choice(atlas.label_sets))
            self._place.append({"labels": rng.sample(labels, min(4, len(labels))), "k": 10})
        self._latencies: dict[str, list[float]] = {RELATED: [], BOXES: [], PLACE: []}
        self.stats = {name: EndpointStats(name) for name in self._latencies}
        self._stopping = threading.Event()
        self._issued = 0
        self._thread = threading.Thread(target=lambda: asyncio.run(self._run()), daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> list[EndpointStats]:
        self._stopping.set()
        self._thread.join(_REQUEST_TIMEOUT_S * 2)
        for name, stats in self.stats.items():
            lat = sorted(self._latencies[name])
            if lat:
                stats.p50_ms = round(lat[len(lat) // 2] * 1000, 2)
                stats.p99_ms = round(lat[min(len(lat) - 1, int(0.99 * len(lat)))] * 1000, 2)
        return list(self.stats.values())

    async def _run(self) -> None:
        limits = httpx.Limits(max_connections=self._config.readers)
        async with httpx.AsyncClient(
            base_url=self._base, limits=limits, timeout=_REQUEST_TIMEOUT_S
        ) as client:
            endpoints = (RELATED, BOXES, PLACE)
            workers = [self._worker(client, endpoints[i % 3]) for i in range(self._config.readers)]
            await asyncio.gather(*workers)

    async def _worker(self, client: httpx.AsyncClient, endpoint: str) -> None:
        rng = random.Random(f"{self._config.seed}-{endpoint}-{id(client)}")
        stats = self.stats[endpoint]
        while not self._stopping.is_set() and self._issued < self._config.max_requests:
            self._issued += 1
            started = time.perf_counter()
            try:
                if endpoint == PLACE:
                    response = await client.post("/api/place", json=rng.choice(self._place))
                elif endpoint == BOXES:
                    response = await client.get(self._boxes, headers={"Accept-Encoding": "gzip"})
                else:
                    response = await client.get(rng.choice(self._related))
                await response.aread()
                problem = None if response.status_code < 300 else f"HTTP {response.status_code}"
            except httpx.HTTPError as e:
                problem = f"{type(e).__name__}: {e}"
            stats.requests += 1
            if problem is None:
                self._latencies[endpoint].append(time.perf_counter() - started)
            else:
                stats.errors += 1
                if len(stats.error_samples) < 5:
                    stats.error_samples.append(problem[:200])


def _wait(what: str, check: Any, timeout: float = _STEP_TIMEOUT_S) -> Any:
    deadline = time.monotonic() + timeout
    while not (value := check()):
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}")
        time.sleep(0.1)
    return value


def _job(client: httpx.Client, job_id: int) -> dict[str, Any]:
    response = client.get(f"/api/jobs/{job_id}")
    response.raise_for_status()
    job: dict[str, Any] = response.json()
    return job


def _ended(client: httpx.Client, job_id: int) -> dict[str, Any] | None:
    job = _job(client, job_id)
    return job if job["status"] in ("succeeded", "failed") else None


def _running_fit(client: httpx.Client) -> int | None:
    """The running train job's id once it is stepping through epochs."""
    jobs = client.get("/api/jobs", params={"kind": "train", "status": "running"}).json()["items"]
    return next((j["id"] for j in jobs if "epoch" in (j.get("message") or "")), None)


def _dataset_ids(url: str) -> set[str]:
    with session_scope(session_factory_for(url)) as session:
        return set(session.scalars(select(Dataset.id)))


def _missing_boxes(url: str) -> int:
    """Boxes a published map counts that are not stored."""
    missing = 0
    with session_scope(session_factory_for(url)) as session:
        for m in repository.get_published_maps(session):
            stored = session.scalar(select(func.count()).where(Box.map_id == m.id)) or 0
            missing += max(0, m.num_boxes - stored)
    return missing


def _seed_new_labels(url: str, cache_dir: Path, known: set[str], seed: int) -> None:
    """Synthetic vectors for the labels the crawl brought, so the next fit loads no model."""
    with session_scope(session_factory_for(url)) as session:
        sets = repository.get_label_sets(session)
    vocab = [label for label in unique_labels([s.labels for s in sets]) if label not in known]
    if vocab:
        seed_embeddings(cache_dir, vocab, seed)


def run_soak(config: SoakConfig, workdir: Path | None = None) -> SoakReport:
    """Runs the soak in `workdir` (default: a temporary directory) and reports it."""
    if workdir is None:
        with tempfile.TemporaryDirectory(prefix="t2b-soak-") as tmp:
            return run_soak(config, Path(tmp))
    workdir.mkdir(parents=True, exist_ok=True)
    data = workdir / "data"
    atlas = build_atlas(
        workdir / "atlas.db", config.datasets, config.seed, cache_dir=data / "cache"
    )
    known = set(unique_labels(atlas.label_sets))
    token = secrets.token_urlsafe(16)
    auth = {"Authorization": f"Bearer {token}"}
    started = time.perf_counter()
    with _fake_hub(config, workdir / "fakehub.log") as hub:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("T2B_", "HF_"))}
        env |= {
            "T2B_DATABASE_URL": atlas.url,
            "T2B_DATA_DIR": str(data),
            "T2B_ADMIN_TOKEN": token,
            "T2B_LOG_LEVEL": "WARNING",
            "T2B_MAP_MODEL": "vector",
            "T2B_MAP_DIMS": "[2]",
            "T2B_HUB_ENDPOINT": hub,
            "T2B_VIEWER_ENDPOINT": f"{hub}/viewer",
            "T2B_CRAWL_BATCH_SIZE": "10",
            "T2B_CRAWL_CONCURRENCY": "4",
            "HF_ENDPOINT": hub,
            "HF_HOME": str(workdir / "hf"),
        }
        with (
            _server(env, workdir / "server.log") as base,
            httpx.Client(base_url=base, timeout=_REQUEST_TIMEOUT_S) as client,
        ):
            readers = _Readers(base, atlas, config)
            readers.start()
            try:
                with _cli_fit(env, workdir / "killed-fit.log") as fit:

                    def fitting() -> int | None:
                        if fit.poll() is not None:
                            raise RuntimeError(f"the CLI fit exited early; see {workdir}")
                        return _running_fit(client)

                    killed_id = _wait("the CLI fit to reach its epochs", fitting)
                    crawl = client.post(
                        "/api/jobs/crawl", headers=auth, json={"limit": config.crawl_datasets}
                    )
                    crawl.raise_for_status()
                    crawl_id = int(crawl.json()["id"])
                    _wait(
                        "the crawl's first batch",
                        lambda: _job(client, crawl_id)["progress"] > 0 or _ended(client, crawl_id),
                    )
                    fit.send_signal(signal.SIGKILL)
                    fit.wait()
                crawl_job = _wait("the crawl", lambda: _ended(client, crawl_id))
                _seed_new_labels(atlas.url, data / "cache", known, config.seed + 1)
                submit = client.post(
                    "/api/jobs/train", headers=auth, json={"dim": 2, "epochs": config.fit_epochs}
                )
                fit_job: dict[str, Any] = {"status": "not started", "error": submit.text[:500]}
                if submit.status_code == 202:
                    fit_job = _wait("the second fit", lambda: _ended(client, submit.json()["id"]))
                killed = _job(client, killed_id)
                maps = client.get("/api/maps").json()["items"]
            finally:
                endpoints = readers.stop()
    seconds = time.perf_counter() - started
    synthetic_catalog = _fake_hub_catalog()  # what the fake Hub listed
    listed = {d.id for d in synthetic_catalog(config.crawl_datasets, seed=config.seed)}
    expected = set(atlas.dataset_ids) | listed
    lost = len(expected - _dataset_ids(atlas.url)) + _missing_boxes(atlas.url)

    def brief(job: dict[str, Any]) -> dict[str, Any]:
        keys = ("id", "kind", "status", "error", "progress", "total")
        return {k: job.get(k) for k in keys}

    return SoakReport(
        config=asdict(config),
        seconds=round(seconds, 1),
        endpoints=endpoints,
        requests=sum(e.requests for e in endpoints),
        errors=sum(e.errors for e in endpoints),
        rows_lost=lost,
        killed_job=brief(killed),
        crawl_job=brief(crawl_job),
        fit_job=brief(fit_job),
        fit_submit_status=submit.status_code,
        maps_left_training=sum(1 for m in maps if m["status"] == "training"),
    )


def report_json(report: SoakReport) -> str:
    """The report as indented JSON."""
    return json.dumps(report.as_dict(), indent=2) + "\n"
