"""`POST /api/jobs/estimate-transfer` over the real app and the fake Hub on loopback: the admin
token, the body's bounds, 409 while it runs, and a job that samples the crawled datasets'
images (a tiny random-weight CLIP), estimates every pair, and publishes a transfer map whose
`/related` lists say `estimated`."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from backend.config import Settings
from backend.jobs.crawl_job import run_crawl
from backend.main import create_app
from backend.schemas import MAX_ESTIMATE_DATASETS
from tests.backend.api.helpers import assert_error
from tests.clip_fixtures import clip_dir
from tests.fakehub import FakeHub, Fault
from tests.fakehub_fixtures import fake_hub, hub_settings
from tests.fakehub_rows import mixed_colour_datasets
from tests.transfer_settings import OFFLINE_TRANSFER

__all__ = ["clip_dir", "fake_hub", "hub_settings"]

SettingsFactory = Callable[..., Settings]
TOKEN = "estimate-admin-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
DATASETS = 4
WAIT_S = 600.0  # an upper bound for a slow shared machine, not a speed assertion


@pytest.fixture
def settings(
    fake_hub: FakeHub, hub_settings: SettingsFactory, db_url: str, clip_dir: Path
) -> Settings:
    fake_hub.datasets.clear()
    # The least downloaded is left out by `limit`.
    fake_hub.add(*mixed_colour_datasets(DATASETS + 1))
    made = hub_settings(
        database_url=db_url,
        admin_token=TOKEN,
        clip_model=str(clip_dir),
        transfer_estimator="leep",
        **OFFLINE_TRANSFER,
    )
    assert run_crawl(made).fetched == DATASETS + 1
    return made


def _wait_for(client: TestClient, job_id: int) -> dict[str, Any]:
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        job: dict[str, Any] = client.get(f"/api/jobs/{job_id}").json()
        if job["status"] in ("succeeded", "failed"):
            return job
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} did not end")


def _wait_for_request(hub: FakeHub, path: str) -> None:
    deadline = time.monotonic() + WAIT_S
    while not any(p == path for _, p in hub.arrivals):
        assert time.monotonic() < deadline, f"no request for {path}"
        time.sleep(0.05)


def test_the_job_estimates_hub_transfer_and_publishes_a_map_of_it(
    settings: Settings, fake_hub: FakeHub
) -> None:
    held = threading.Event()
    # The job's first viewer request waits until released: it is running meanwhile.
    fake_hub.faults.append(Fault(path="^/viewer/splits$", hold=held))
    with TestClient(create_app(settings)) as client:
        body = {"limit": DATASETS, "estimator": "nce"}
        response = client.post("/api/jobs/estimate-transfer", headers=AUTH, json=body)
        assert response.status_code == 202, response.text
        queued = response.json()
        assert queued["kind"] == "train" and queued["status"] in ("queued", "running")
        assert queued["params"] == {
            "relation": "transfer",
            "images_of": DATASETS,
            "estimates": True,
            "estimator": "nce",
        }
        try:
            _wait_for_request(fake_hub, "/viewer/splits")
            again = client.post("/api/jobs/estimate-transfer", headers=AUTH)
            assert f"job {queued['id']}" in assert_error(again, 409, "conflict")["detail"]
            # A fit may not start beside it either.
            assert_error(client.post("/api/jobs/train", headers=AUTH), 409, "conflict")
        finally:
            held.set()
        job = _wait_for(client, queued["id"])
        assert job["status"] == "succeeded", job
        pairs = DATASETS * (DATASETS - 1)
        assert job["result"]["image_features"]["ready"] == DATASETS
        assert job["result"]["estimated"] == {"leep": pairs, "nce": pairs, "logme": pairs}
        (outcome,) = job["result"]["maps"]
        assert outcome["status"] == "published"
        transfer_map = client.get(f"/api/maps/{outcome['map_id']}").json()
        assert transfer_map["relation"] == "transfer"
        assert transfer_map["params"]["estimator"] == "nce"  # the body's, not the setting's
        assert transfer_map["params"]["estimated_pairs"] == pairs

        related = client.get(
            "/api/datasets/colours/set-0/related",
            params={"relation": "transfer", "direction": "to", "k": 10},
        ).json()
    kinds = {item["id"]: item["kind"] for item in related["items"]}
    sampled = {f"colours/set-{i}" for i in range(1, DATASETS)}
    assert sampled <= set(kinds) and {kinds[i] for i in sampled} == {"estimated"}
    assert kinds.get(f"colours/set-{DATASETS}") != "estimated"  # beyond `limit`: no images
    assert not any(item["measured"] for item in related["items"])


def test_the_default_estimator_is_the_configured_one(settings: Settings) -> None:
    with TestClient(create_app(settings.model_copy(update={"transfer_estimator": "logme"}))) as c:
        response = c.post("/api/jobs/estimate-transfer", headers=AUTH)
        assert response.status_code == 202, response.text
        assert response.json()["params"]["estimator"] == "logme"
        assert response.json()["params"]["images_of"] is None
        job = _wait_for(c, response.json()["id"])
    assert job["status"] == "succeeded", job
    assert job["result"]["image_features"]["ready"] == DATASETS + 1


@pytest.mark.parametrize(
    "body",
    [
        {"estimator": "accuracy"},
        {"estimator": "LEEP"},
        {"estimator": 1},
        {"limit": 0},
        {"limit": MAX_ESTIMATE_DATASETS + 1},
        {"limit": "ten"},
        {"dim": 2},
        [],
    ],
)
def test_a_bad_body_is_refused_before_any_job(settings: Settings, body: Any) -> None:
    with TestClient(create_app(settings)) as client:
        response = client.post("/api/jobs/estimate-transfer", headers=AUTH, json=body)
        assert_error(response, 422, "invalid_request")
        assert client.get("/api/jobs").json()["items"] == []


def test_the_job_needs_the_admin_token(settings: Settings) -> None:
    with TestClient(create_app(settings)) as client:
        for headers in ({}, {"Authorization": "Bearer wrong"}):
            response = client.post("/api/jobs/estimate-transfer", headers=headers, json={})
            assert_error(response, 401, "unauthorized")
        assert client.get("/api/jobs").json()["items"] == []
    with TestClient(create_app(settings.model_copy(update={"admin_token": None}))) as client:
        response = client.post("/api/jobs/estimate-transfer", headers=AUTH)
        assert "T2B_ADMIN_TOKEN" in assert_error(response, 403, "forbidden")["detail"]
