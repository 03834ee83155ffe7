"""kill -9 of a fit and of a crawl, from the CLI and from the API: the next run proceeds at once.

Every process is real: the server runs as `python -m backend.cli serve` on 127.0.0.1, the
fits and crawls as `python -m backend.cli train|crawl`, the Hub is the fake one on loopback.
A job is killed with SIGKILL mid-way (nothing of its process runs afterwards: no `finally`, no
shutdown hook), then the next run is started straight away, with no restart and no wait for a
lease to run out: the dead owner is noticed at once because it was a process of this host.
Each test checks that the next run is accepted (no "already running", no 409), that the killed
job reads as failed with its owner named, that no map is left `training`, and that what was
committed (the published map, the crawled batches) is still there.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from backend.config import Settings
from backend.db import migrate, repository
from backend.db.engine import session_factory_for, session_scope
from benchmarks.api_db import seed_embeddings, synthetic_records
from models.targets import unique_labels
from tests.atlas_fixtures import settings_for
from tests.factories import T0
from tests.fakehub import FakeHub
from tests.fakehub_catalog import synthetic_catalog

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[3]
TOKEN = "kill-test-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
WAIT_S = 240.0
DATASETS = 120  # full-batch fits: an epoch is quick, 100,000 of them are not
CRAWL_N = 60
BATCH = 5


# --- processes ----------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _env(settings: Settings, hub: FakeHub | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("T2B_", "HF_"))}
    env |= {
        "T2B_DATABASE_URL": settings.database_url,
        "T2B_DATA_DIR": str(settings.data_dir),
        "T2B_MAP_MODEL": "vector",
        "T2B_MAP_DIMS": "[2]",
        "T2B_ADMIN_TOKEN": TOKEN,
        "T2B_LOG_LEVEL": "WARNING",
        "T2B_CRAWL_BATCH_SIZE": str(BATCH),
        "T2B_CRAWL_CONCURRENCY": "2",
        "HF_HOME": str(settings.data_dir / "hf"),
    }
    if hub is None:
        env["HF_HUB_OFFLINE"] = "1"
    else:
        env |= {
            "HF_ENDPOINT": hub.url,
            "T2B_HUB_ENDPOINT": hub.url,
            "T2B_VIEWER_ENDPOINT": hub.viewer_url,
        }
    return env


def _cli(env: dict[str, str], *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "backend.cli", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def _finish(proc: subprocess.Popen[bytes]) -> tuple[int, str, str]:
    out, err = proc.communicate(timeout=WAIT_S)
    return proc.returncode, out.decode(), err.decode()


@contextmanager
def _server(env: dict[str, str]) -> Iterator[tuple[subprocess.Popen[bytes], httpx.Client]]:
    """`task2box serve` as a real process; yields it and a client on its base URL."""
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "backend.cli", "serve", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30)
    try:
        deadline = time.monotonic() + WAIT_S
        while True:
            assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
            assert time.monotonic() < deadline, "the server did not start"
            try:
                if client.get("/healthz").status_code in (200, 503):
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        yield proc, client
    finally:
        client.close()
        if proc.poll() is None:
            proc.terminate()
            proc.wait(60)


def _kill_9(proc: subprocess.Popen[bytes]) -> None:
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL


def _wait_until(what: str, ready: Any, proc: subprocess.Popen[bytes] | None = None) -> Any:
    deadline = time.monotonic() + WAIT_S
    while not (value := ready()):
        if proc is not None:
            assert proc.poll() is None, proc.stderr.read().decode()[-3000:] if proc.stderr else ""
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)
    return value


# --- database reads (read-only, as a bystander) -------------------------------------------


def _rows(settings: Settings, query: str) -> list[tuple[Any, ...]]:
    db = settings.database_url.removeprefix("sqlite:///")
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
            return conn.execute(query).fetchall()
    except sqlite3.OperationalError:  # not created or not migrated yet
        return []


def _fitting(settings: Settings) -> int | None:
    """The id of the running train job once its fit is stepping through epochs."""
    rows = _rows(
        settings, "SELECT id, message FROM jobs WHERE kind = 'train' AND status = 'running'"
    )
    return next((i for i, message in rows if message and "epoch" in message), None)


def _committed(settings: Settings) -> dict[str, str | None]:
    return dict(_rows(settings, "SELECT id, sha FROM datasets"))  # type: ignore[arg-type]


def _job(settings: Settings, job_id: int) -> repository.JobRecord:
    with session_scope(session_factory_for(settings.database_url)) as session:
        job = repository.get_job(session, job_id=job_id)
    assert job is not None
    return job


def _maps(settings: Settings) -> dict[int, repository.MapRecord]:
    with session_scope(session_factory_for(settings.database_url)) as session:
        return {m.id: m for m in repository.list_maps(session)}


def _assert_killed(job: repository.JobRecord, pid: int) -> None:
    assert job.status == "failed", job
    assert job.error is not None
    assert job.error.startswith(f"interrupted: owner process {pid} on host "), job.error
    assert "stopped heartbeating at" in job.error and "no longer running" in job.error


def _wait_job(client: httpx.Client, job_id: int) -> dict[str, Any]:
    def ended() -> dict[str, Any] | None:
        job: dict[str, Any] = client.get(f"/api/jobs/{job_id}").json()
        return job if job["status"] in ("succeeded", "failed") else None

    result: dict[str, Any] = _wait_until(f"job {job_id}", ended)
    return result


# --- fits ---------------------------------------------------------------------------------


@pytest.fixture
def atlas(tmp_path: Path) -> Settings:
    """Synthetic Hub-like datasets with their label vectors cached, and a published 2-D map."""
    from backend.jobs.train import TrainRequest, run_train

    settings = settings_for(
        tmp_path / "atlas.db", tmp_path / "data", map_model="vector", map_dims=[2]
    )
    migrate.upgrade(settings.database_url)
    records = synthetic_records(DATASETS, seed=0)
    with session_scope(session_factory_for(settings.database_url)) as session:
        repository.save_crawl_batch(session, records, crawled_at=T0)
    seed_embeddings(settings.cache_dir, unique_labels([r.labels for r in records]), seed=0)
    run_train(settings, TrainRequest(dims=(2,), epochs=2))
    return settings


def _published(settings: Settings) -> set[int]:
    return {i for i, m in _maps(settings).items() if m.status == "published"}


def test_a_cli_fit_killed_with_9_is_failed_on_the_next_poll_and_the_api_fits_at_once(
    atlas: Settings,
) -> None:
    env = _env(atlas)
    before = _published(atlas)
    with _server(env) as (_, client):
        fit = _cli(env, "train", "--dim", "2", "--epochs", "100000")
        job_id = _wait_until("the CLI fit", lambda: _fitting(atlas), fit)
        killed_map = next(i for i, m in _maps(atlas).items() if m.status == "training")
        _kill_9(fit)

        # The page's poll shows nothing running, and the job failed with its owner named.
        assert client.get("/api/jobs", params={"status": "running"}).json()["items"] == []
        _assert_killed(_job(atlas, job_id), fit.pid)
        listed = {m["id"]: m for m in client.get("/api/maps").json()["items"]}
        assert listed[killed_map]["status"] == "failed"
        assert "training" not in {m["status"] for m in listed.values()}
        assert _published(atlas) == before  # the killed fit published nothing

        response = client.post("/api/jobs/train", headers=AUTH, json={"dim": 2, "epochs": 2})
        assert response.status_code == 202, response.text
        assert _wait_job(client, response.json()["id"])["status"] == "succeeded"
    after = _maps(atlas)
    (published,) = _published(atlas)
    assert published not in before and after[published].num_boxes == DATASETS
    assert {after[i].status for i in before} == {"retired"}  # replaced, not lost
    assert "training" not in {m.status for m in after.values()}


def test_a_server_killed_with_9_mid_fit_blocks_no_cli_fit(atlas: Settings) -> None:
    env = _env(atlas)
    before = _published(atlas)
    with _server(env) as (server, client):
        response = client.post("/api/jobs/train", headers=AUTH, json={"dim": 2, "epochs": 100000})
        assert response.status_code == 202, response.text
        job_id = _wait_until("the API fit", lambda: _fitting(atlas), server)
        _kill_9(server)
    assert _published(atlas) == before

    code, out, err = _finish(_cli(env, "train", "--dim", "2", "--epochs", "2", "--json"))
    assert code == 0, err[-3000:]
    assert "already" not in err
    _assert_killed(_job(atlas, job_id), server.pid)
    (outcome,) = json.loads(out)["maps"]
    maps = _maps(atlas)
    assert maps[outcome["map_id"]].status == "published"
    assert "training" not in {m.status for m in maps.values()}
    assert [m.status for m in maps.values() if m.job_id == job_id] == ["failed"]


# --- crawls -------------------------------------------------------------------------------


@contextmanager
def _slow_hub() -> Iterator[FakeHub]:
    with FakeHub(
        synthetic_catalog(CRAWL_N, viewer_fraction=0.5, skipped_fraction=0.1), page_size=10
    ) as hub:
        hub.latency_s = 0.1  # every request is slow, so the crawl is caught halfway
        yield hub


def _assert_all_crawled_once(settings: Settings, hub: FakeHub, before: dict[str, Any]) -> None:
    after = _committed(settings)
    assert set(after) == {d.id for d in hub.datasets.values()}
    assert all(after[i] == sha for i, sha in before.items() if sha is not None)  # kept
    rows = _rows(
        settings,
        "SELECT d.id, d.num_labels, COUNT(l.position) FROM datasets d "
        "LEFT JOIN labels l ON l.dataset_id = d.id GROUP BY d.id",
    )
    assert len(rows) == CRAWL_N and all(num == count for _, num, count in rows)


def _crawl_settings(tmp_path: Path) -> Settings:
    settings = settings_for(tmp_path / "atlas.db", tmp_path / "data")
    migrate.upgrade(settings.database_url)
    return settings


def _crawled_some(settings: Settings) -> bool:
    return len(_committed(settings)) >= 2 * BATCH


def test_a_cli_crawl_killed_with_9_is_failed_and_the_api_crawl_resumes_at_once(
    tmp_path: Path,
) -> None:
    settings = _crawl_settings(tmp_path)
    with _slow_hub() as hub:
        env = _env(settings, hub)
        with _server(env) as (_, client):
            crawl = _cli(env, "crawl", "--json")
            _wait_until("the CLI crawl", lambda: _crawled_some(settings), crawl)
            _kill_9(crawl)
            before = _committed(settings)
            assert 2 * BATCH <= len(before) < CRAWL_N

            (killed,) = client.get("/api/jobs", params={"kind": "crawl"}).json()["items"]
            _assert_killed(_job(settings, killed["id"]), crawl.pid)
            response = client.post("/api/jobs/crawl", headers=AUTH, json={"limit": CRAWL_N})
            assert response.status_code == 202, response.text
            job = _wait_job(client, response.json()["id"])
            assert job["status"] == "succeeded", job
        assert job["result"]["unchanged"] == sum(1 for sha in before.values() if sha is not None)
        _assert_all_crawled_once(settings, hub, before)


def test_a_server_killed_with_9_mid_crawl_blocks_no_cli_crawl(tmp_path: Path) -> None:
    settings = _crawl_settings(tmp_path)
    with _slow_hub() as hub:
        env = _env(settings, hub)
        with _server(env) as (server, client):
            response = client.post("/api/jobs/crawl", headers=AUTH, json={"limit": CRAWL_N})
            assert response.status_code == 202, response.text
            _wait_until("the API crawl", lambda: _crawled_some(settings), server)
            _kill_9(server)
        before = _committed(settings)
        assert 2 * BATCH <= len(before) < CRAWL_N

        code, out, err = _finish(_cli(env, "crawl", "--json"))
        assert code == 0, err[-3000:]
        summary = json.loads(out.strip().splitlines()[-1])
        assert summary["unchanged"] == sum(1 for sha in before.values() if sha is not None)
        _assert_killed(_job(settings, response.json()["id"]), server.pid)
        _assert_all_crawled_once(settings, hub, before)
