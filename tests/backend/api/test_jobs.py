"""Job endpoints: the admin token, 409 on a concurrent job, progress, interrupted jobs."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from backend.db import repository
from backend.db.engine import session_factory_for, session_scope
from backend.deps import get_job_factories
from backend.jobs.factories import Job, JobFactories
from backend.jobs.runner import JobContext
from backend.jobs.train import TrainRequest, containment
from tests.atlas_fixtures import SeededAtlas, hub_catalog, hub_overrides, serving_hub
from tests.backend.api.helpers import assert_error

TOKEN = "s3cret-admin-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
WAIT_S = 600.0  # an upper bound for a slow shared machine, not a speed assertion


def _wait_for(client: TestClient, job_id: int) -> dict[str, Any]:
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        job: dict[str, Any] = client.get(f"/api/jobs/{job_id}").json()
        if job["status"] in ("succeeded", "failed"):
            return job
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} did not end")


@pytest.mark.parametrize("kind", ["crawl", "train", "estimate-transfer"])
def test_jobs_are_off_without_an_admin_token(client: TestClient, kind: str) -> None:
    body = assert_error(client.post(f"/api/jobs/{kind}", headers=AUTH), 403, "forbidden")
    assert "T2B_ADMIN_TOKEN" in body["detail"]


@pytest.mark.parametrize("kind", ["crawl", "train", "estimate-transfer"])
@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer wrong"},
        {"Authorization": TOKEN},
        {"Authorization": f"Basic {TOKEN}"},
    ],
)
def test_jobs_need_the_right_token(make_client: Any, kind: str, headers: dict[str, str]) -> None:
    client, _ = make_client(admin_token=TOKEN)
    response = client.post(f"/api/jobs/{kind}", headers=headers, json={})
    assert_error(response, 401, "unauthorized")
    assert response.headers["www-authenticate"] == "Bearer"
    assert client.get("/api/jobs").json()["items"] == []


def test_train_job_publishes_new_maps_off_the_request_path(
    make_client: Any, seeded_atlas: SeededAtlas
) -> None:
    client, _settings = make_client(admin_token=TOKEN)
    old = seeded_atlas.map_ids
    response = client.post("/api/jobs/train", headers=AUTH, json={"dim": 2, "epochs": 3})
    assert response.status_code == 202, response.text
    queued = response.json()
    assert queued["kind"] == "train" and queued["status"] in ("queued", "running")
    assert queued["params"] == {
        "relation": "containment",
        "dims": [2],
        "representation": "label-text",
        "epochs": 3,
    }
    job = _wait_for(client, queued["id"])
    assert job["status"] == "succeeded", job
    assert job["progress"] == job["total"] > 0 and job["finished_at"]
    (outcome,) = job["result"]["maps"]
    new_id = outcome["map_id"]
    assert outcome["dim"] == 2 and outcome["status"] == "published" and new_id not in old.values()
    statuses = {m["id"]: m["status"] for m in client.get("/api/maps").json()["items"]}
    assert statuses[new_id] == "published"
    assert statuses[old[2]] == "retired" and statuses[old[3]] == "published"
    assert client.get("/healthz").json()["published_maps"]["containment"] == new_id
    related = client.get("/api/datasets/ylecun/mnist/related", params={"map": new_id}).json()
    assert related["map"]["id"] == new_id


def test_a_second_job_of_a_kind_gets_409(make_client: Any) -> None:
    client, settings = make_client(admin_token=TOKEN)
    with session_scope(session_factory_for(settings.database_url)) as session:
        other = repository.create_job(session, kind="train")  # as another process would
        repository.claim_job(
            session, job_id=other.id, owner=repository.JobOwner("elsewhere", 1, "abcd"), lease_s=60
        )
    body = assert_error(client.post("/api/jobs/train", headers=AUTH), 409, "conflict")
    assert f"job {other.id}" in body["detail"]


class _Blocking(JobFactories):
    """Train jobs that report progress, then wait until released."""

    def __init__(self, base: JobFactories) -> None:
        super().__init__(base.settings, base.sessions)
        self.release = threading.Event()
        self.started = threading.Event()

    def train(self, request: TrainRequest, progress: Callable[..., None] | None = None) -> Job:
        def run(ctx: JobContext) -> Mapping[str, Any]:
            ctx.progress(1, 4, "one of four")
            self.started.set()
            assert self.release.wait(WAIT_S)
            return {"dims": list(request.dims)}

        return {"dims": list(request.dims)}, run


def test_concurrent_jobs_conflict_and_running_jobs_are_listed(make_client: Any) -> None:
    holder: dict[str, _Blocking] = {}

    def hook(app: FastAPI) -> None:
        blocking = holder.setdefault("f", _Blocking(app.state.job_factories))
        app.dependency_overrides[get_job_factories] = lambda: blocking

    client, _ = make_client(app_hook=hook, admin_token=TOKEN)
    blocking = holder["f"]
    first = client.post("/api/jobs/train", headers=AUTH, json={"dim": 3})
    assert first.status_code == 202
    assert blocking.started.wait(WAIT_S)
    assert_error(client.post("/api/jobs/train", headers=AUTH), 409, "conflict")
    running = client.get("/api/jobs", params={"status": "running"}).json()["items"]
    assert [j["id"] for j in running] == [first.json()["id"]]
    assert running[0]["progress"] == 1 and running[0]["total"] == 4
    assert running[0]["message"] == "one of four"
    blocking.release.set()
    job = _wait_for(client, first.json()["id"])
    assert job["status"] == "succeeded" and job["result"] == {"dims": [3]}
    assert client.get("/api/jobs", params={"status": "running"}).json()["items"] == []
    assert client.get("/api/jobs", params={"kind": "train"}).json()["items"][0]["id"] == job["id"]


def test_job_errors(client: TestClient) -> None:
    assert_error(client.get("/api/jobs/424242"), 404, "not_found")
    assert_error(client.get("/api/jobs", params={"status": "sleeping"}), 422, "invalid_request")
    assert_error(client.get("/api/jobs", params={"limit": 1000}), 422, "invalid_request")


def test_train_job_body_is_validated(make_client: Any) -> None:
    client, _ = make_client(admin_token=TOKEN)
    for body in ({"dim": 0}, {"dim": 17}, {"epochs": 0}, {"relation": "x"}, {"extra": 1}):
        response = client.post("/api/jobs/train", headers=AUTH, json=body)
        assert_error(response, 422, "invalid_request")
    response = client.post("/api/jobs/crawl", headers=AUTH, json={"limit": 0})
    assert_error(response, 422, "invalid_request")


def test_restart_shows_interrupted_jobs_as_failed(seeded_atlas: SeededAtlas) -> None:
    settings = seeded_atlas.copy(seeded_atlas.db_path.parent / "interrupted")
    now = datetime.now(UTC)
    with session_scope(session_factory_for(settings.database_url)) as session:
        dead = repository.create_job(session, kind="train")
        # A process of this host that has exited: pid 2**22 + 1 exceeds the kernel's pid_max.
        here = repository.JobOwner(socket.gethostname(), 4194305, "x")
        repository.claim_job(session, job_id=dead.id, owner=here)
        stale = repository.create_job(session, kind="crawl")
        repository.claim_job(
            session, job_id=stale.id, owner=repository.JobOwner("otherhost", 7, "y")
        )
    # The other host's job last beat an hour ago.
    _age_heartbeat(settings.database_url, stale.id, now - timedelta(hours=1))

    from backend.main import create_app

    with TestClient(create_app(settings)) as client:
        for job_id in (dead.id, stale.id):
            job = client.get(f"/api/jobs/{job_id}").json()
            assert job["status"] == "failed"
            assert job["error"].startswith("interrupted: owner process ")
        assert client.get("/api/jobs", params={"status": "running"}).json()["items"] == []


def test_a_job_whose_process_died_fails_on_the_next_poll_with_its_map(make_client: Any) -> None:
    client, settings = make_client(admin_token=TOKEN)
    here = repository.JobOwner(socket.gethostname(), 4194305, "x")  # a pid that cannot run
    with session_scope(session_factory_for(settings.database_url)) as session:
        # As a `task2box train` killed with -9 leaves it, after the server started.
        dead = repository.create_job(session, kind="train", owner=here, lease_s=3600)
        repository.claim_job(session, job_id=dead.id, owner=here, lease_s=3600)
        training = repository.create_map(
            session, relation="containment", dim=2, representation="label-text", job_id=dead.id
        )
    maps = {m["id"]: m for m in client.get("/api/maps").json()["items"]}
    assert maps[training.id]["status"] == "failed"
    assert "owner process 4194305" in maps[training.id]["error"]
    assert client.get("/api/jobs", params={"status": "running"}).json()["items"] == []
    job = client.get(f"/api/jobs/{dead.id}").json()
    assert job["status"] == "failed"
    assert job["error"].startswith(
        f"interrupted: owner process 4194305 on host {socket.gethostname()[:120]} stopped "
        "heartbeating at "
    )


def test_a_train_job_submitted_after_a_dead_one_is_accepted(make_client: Any) -> None:
    client, settings = make_client(admin_token=TOKEN)
    here = repository.JobOwner(socket.gethostname(), 4194305, "x")
    with session_scope(session_factory_for(settings.database_url)) as session:
        dead = repository.create_job(session, kind="train", owner=here, lease_s=3600)
        repository.claim_job(session, job_id=dead.id, owner=here, lease_s=3600)
    response = client.post("/api/jobs/train", headers=AUTH, json={"dim": 2, "epochs": 2})
    assert response.status_code == 202, response.text
    assert _wait_for(client, response.json()["id"])["status"] == "succeeded"


def _age_heartbeat(url: str, job_id: int, when: datetime) -> None:
    import sqlite3

    path = url.removeprefix("sqlite:///")
    naive = when.replace(tzinfo=None).isoformat(sep=" ")
    with sqlite3.connect(path) as conn:
        conn.execute(
            "UPDATE jobs SET heartbeat_at = ?, created_at = ? WHERE id = ?",
            (naive, naive, job_id),
        )


def test_crawl_job_reads_the_hub_in_the_background(make_client: Any, tmp_path: Path) -> None:
    repos = hub_catalog()
    repos[0].sha = "f" * 40  # one dataset changed on the Hub since the seed crawl
    with serving_hub(tmp_path, repos) as hub:
        client, _ = make_client(admin_token=TOKEN, **hub_overrides(hub))
        response = client.post("/api/jobs/crawl", headers=AUTH, json={"limit": 6})
        assert response.status_code == 202, response.text
        assert response.json()["params"] == {"limit": 6} and response.json()["total"] == 6
        job = _wait_for(client, response.json()["id"])
    assert job["status"] == "succeeded", job
    assert job["result"]["fetched"] + job["result"]["unchanged"] <= 6
    assert job["result"]["fetched"] >= 1  # the changed one was read again
    assert job["progress"] == 6
    assert client.get(f"/api/datasets/{repos[0].id}").json()["sha"] == "f" * 40


def _database_error() -> OperationalError:
    """A real SQLAlchemy error, whose text holds the statement (as a failed commit's does)."""
    engine = create_engine("sqlite://")
    try:
        with engine.connect() as connection:
            connection.execute(text("UPDATE maps SET status='x' WHERE secret_column = 1"))
    except OperationalError as e:
        return e
    finally:
        engine.dispose()
    raise AssertionError("the statement should have failed")


def test_public_job_and_map_errors_hold_no_sql(
    make_client: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    error = _database_error()
    assert "[SQL:" in str(error)  # what used to reach the public lists

    def broken_fit(*_a: Any, **_k: Any) -> Any:
        raise error

    monkeypatch.setattr(containment, "fit", broken_fit)
    client, _ = make_client(admin_token=TOKEN)
    started = client.post("/api/jobs/train", headers=AUTH, json={"dim": 2, "epochs": 2})
    assert started.status_code == 202, started.text
    job = _wait_for(client, started.json()["id"])
    assert job["status"] == "failed"
    failed_maps = client.get("/api/maps", params={"status": "failed"}).json()["items"]
    assert len(failed_maps) == 1
    reason = "database error (OperationalError): no such table: maps"
    assert failed_maps[0]["error"] == reason
    assert reason in job["error"]
    # Nothing anyone can read without a token shows the statement.
    for url in ("/api/jobs", "/api/maps", f"/api/jobs/{job['id']}"):
        body = client.get(url).text
        assert "secret_column" not in body and "[SQL" not in body, url
    assert "secret_column" in caplog.text  # the server log keeps the full error
