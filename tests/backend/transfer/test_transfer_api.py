"""The transfer relation over HTTP: import, train, related to/from, place, and empty states."""

from __future__ import annotations

import time
from collections.abc import Callable, Generator
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from backend.db import repository
from backend.db.engine import session_factory_for, session_scope
from backend.main import create_app
from models.scoring import containment_to_all
from tests.atlas_fixtures import SeededAtlas
from tests.backend.api.helpers import assert_error
from tests.transfer_fixtures import TASKS, TransferAtlas, descriptions_csv, matrix_rows, scores_csv

TOKEN = "transfer-admin-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
WAIT_S = 600.0  # an upper bound for a slow shared machine, not a speed assertion
MEASURED = {(s, t): v for s, t, v in matrix_rows()}


@pytest.fixture(scope="module")
def client(transfer_atlas: TransferAtlas) -> Generator[TestClient, None, None]:
    """A read-only client over the atlas with trained transfer maps."""
    with TestClient(create_app(transfer_atlas.settings)) as c:
        yield c


@pytest.fixture
def fresh_client(
    seeded_atlas: SeededAtlas, tmp_path: Path
) -> Generator[Callable[..., TestClient], None, None]:
    """Clients over private copies of the atlas before any transfer import."""
    with ExitStack() as stack:

        def make(**overrides: Any) -> TestClient:
            settings = seeded_atlas.copy(tmp_path / f"copy{len(overrides)}", **overrides)
            return stack.enter_context(TestClient(create_app(settings)))

        yield make


def _wait_for(client: TestClient, job_id: int) -> dict[str, Any]:
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        job: dict[str, Any] = client.get(f"/api/jobs/{job_id}").json()
        if job["status"] in ("succeeded", "failed"):
            return job
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} did not end")


def test_without_scores_the_api_says_how_to_get_a_transfer_map(
    fresh_client: Callable[..., TestClient],
) -> None:
    client = fresh_client()
    assert client.get("/healthz").json()["published_maps"]["transfer"] is None
    assert client.get("/api/maps", params={"relation": "transfer"}).json()["items"] == []
    assert client.get("/api/transfer-scores").json() == {
        "scores": 0,
        "tasks": 0,
        "imported_at": None,
        "estimated": 0,
        "items": [],
    }
    response = client.get("/api/datasets/ylecun/mnist/related", params={"relation": "transfer"})
    body = assert_error(response, 404, "no_published_map")
    assert "task2box import-transfer" in body["detail"] and "--relation transfer" in body["detail"]
    response = client.post("/api/place", json={"labels": ["cat"], "relation": "transfer"})
    assert_error(response, 404, "no_published_map")


def test_the_upload_needs_the_admin_token(fresh_client: Callable[..., TestClient]) -> None:
    body = {"scores": scores_csv()}
    assert_error(fresh_client().post("/api/transfer-scores", json=body), 403, "forbidden")
    client = fresh_client(admin_token=TOKEN)
    response = client.post("/api/transfer-scores", json=body, headers={"Authorization": "Bearer x"})
    assert_error(response, 401, "unauthorized")
    assert client.get("/api/transfer-scores").json()["scores"] == 0


def test_a_bad_upload_names_its_lines_and_imports_nothing(
    fresh_client: Callable[..., TestClient],
) -> None:
    client = fresh_client(admin_token=TOKEN)
    scores = "source,target,score\na,b,0.1\nc,c,0.2\nd,e,lots\n"
    response = client.post("/api/transfer-scores", json={"scores": scores}, headers=AUTH)
    body = assert_error(response, 422, "invalid_transfer_csv")
    assert "line 3: 'c' is both source and target" in body["detail"]
    assert "line 4: score 'lots' is not a number" in body["detail"]
    assert client.get("/api/transfer-scores").json()["scores"] == 0
    assert_error(client.get("/api/datasets/a"), 404, "not_found")  # no task was created
    response = client.post("/api/transfer-scores", json={"scores": 1}, headers=AUTH)
    assert_error(response, 422, "invalid_request")


def test_an_oversized_upload_is_refused_before_parsing(
    fresh_client: Callable[..., TestClient],
) -> None:
    client = fresh_client(admin_token=TOKEN, max_body_bytes=2048)
    big = "source,target,score\n" + "a,b,1\n" * 1000
    response = client.post("/api/transfer-scores", json={"scores": big}, headers=AUTH)
    assert_error(response, 413, "payload_too_large")


def test_import_then_train_through_the_api(fresh_client: Callable[..., TestClient]) -> None:
    client = fresh_client(admin_token=TOKEN)
    body = {"scores": scores_csv(), "descriptions": descriptions_csv()}
    response = client.post("/api/transfer-scores", json=body, headers=AUTH)
    assert response.status_code == 201, response.text
    report = response.json()
    assert report["rows"] == report["total_scores"] == len(MEASURED)
    assert "rgb2depth" in report["created"] and "ylecun/mnist" not in report["created"]
    summary = client.get("/api/transfer-scores").json()
    assert (summary["scores"], summary["tasks"]) == (len(MEASURED), len(TASKS))
    queued = client.post(
        "/api/jobs/train", headers=AUTH, json={"relation": "transfer", "dim": 2, "epochs": 5}
    )
    assert queued.status_code == 202, queued.text
    assert queued.json()["params"]["relation"] == "transfer"
    job = _wait_for(client, queued.json()["id"])
    assert job["status"] == "succeeded", job
    (outcome,) = job["result"]["maps"]
    assert client.get("/healthz").json()["published_maps"]["transfer"] == outcome["map_id"]
    (listed,) = client.get("/api/maps", params={"relation": "transfer"}).json()["items"]
    assert listed["id"] == outcome["map_id"] and listed["status"] == "published"
    assert listed["params"]["measured_tasks"] == len(TASKS)


def test_scores_are_listed_by_kind_and_estimates_never_hide_a_measurement(
    fresh_client: Callable[..., TestClient],
) -> None:
    client = fresh_client(admin_token=TOKEN)
    response = client.post("/api/transfer-scores", json={"scores": scores_csv()}, headers=AUTH)
    assert response.status_code == 201, response.text
    measured_to = ("rgb2mist", "rgb2depth")
    assert measured_to in MEASURED
    settings = client.app.state.settings  # type: ignore[attr-defined]
    with session_scope(session_factory_for(settings.database_url)) as session:
        repository.replace_transfer_estimates(
            session,
            estimator="leep",
            feature_model="clip-test",
            estimates=[(*measured_to, 0.9, -0.01), ("edge2d", "rgb2depth", 0.004, -2.5)],
            estimated_at=datetime.now(UTC),
        )
    body = client.get("/api/transfer-scores", params={"dataset": "rgb2depth"}).json()
    assert body["estimated"] == 2 and body["scores"] == len(MEASURED)
    kinds = [item["kind"] for item in body["items"]]
    assert kinds == sorted(kinds, key=lambda k: k != "measured") and kinds[-1] == "estimated"
    by_pair = {(i["source"], i["target"]): i for i in body["items"]}
    assert by_pair[measured_to]["kind"] == "measured"
    assert by_pair[measured_to]["score"] == pytest.approx(MEASURED[measured_to])
    assert by_pair[measured_to]["estimator"] is None
    assert ("edge2d", "rgb2depth") not in MEASURED  # a pair the matrix leaves out
    estimated = by_pair[("edge2d", "rgb2depth")]
    assert (estimated["kind"], estimated["estimator"], estimated["feature_model"]) == (
        "estimated",
        "leep",
        "clip-test",
    )
    assert estimated["raw"] == -2.5
    nce_only = client.get(
        "/api/transfer-scores", params={"dataset": "rgb2depth", "estimator": "nce"}
    ).json()
    assert {i["kind"] for i in nce_only["items"]} == {"measured"}
    bad = client.get("/api/transfer-scores", params={"dataset": "rgb2depth", "estimator": "x"})
    assert_error(bad, 422, "invalid_request")


def _expected(atlas: TransferAtlas, map_id: int, dataset: str) -> dict[str, tuple[float, float]]:
    with session_scope(session_factory_for(atlas.settings.database_url)) as session:
        boxes = repository.get_map_boxes(session, map_id=map_id)
        record = repository.get_map(session, map_id=map_id)
    assert boxes is not None and record is not None
    a = boxes.dataset_ids.index(dataset)
    p_in, p_contains = containment_to_all(
        boxes.lo[a], boxes.hi[a], boxes.lo, boxes.hi,
        beta=record.params["beta"], gumbel_beta=record.params["gumbel_beta"],
    )  # fmt: skip
    return {
        i: (float(x), float(y)) for i, x, y in zip(boxes.dataset_ids, p_in, p_contains, strict=True)
    }


@pytest.mark.parametrize(("direction", "column"), [("to", 0), ("from", 1)])
def test_related_transfer_ranks_and_flags_measured_pairs(
    client: TestClient, transfer_atlas: TransferAtlas, direction: str, column: int
) -> None:
    query = "rgb2depth"
    body = client.get(
        f"/api/datasets/{query}/related",
        params={"relation": "transfer", "direction": direction, "k": 100},
    ).json()
    top = transfer_atlas.map_ids[3]
    assert body["map"]["id"] == top and body["map"]["relation"] == "transfer"
    expected = _expected(transfer_atlas, top, query)
    items = body["items"]
    assert len(items) == len(expected) - 1 and query not in {it["id"] for it in items}
    scores = [it["score"] for it in items]
    assert scores == sorted(scores, reverse=True)
    for it in items:
        # to: P(query ⊆ B), query as the source; from: P(B ⊆ query), query as the target.
        assert it["score"] == pytest.approx(expected[it["id"]][column], abs=2e-6)
        pair = (query, it["id"]) if direction == "to" else (it["id"], query)
        assert it["measured"] is (pair in MEASURED)
        assert it["measured_score"] == MEASURED.get(pair)
        assert it["kind"] == ("measured" if pair in MEASURED else "predicted")
    flags = {it["id"]: it["measured"] for it in items}
    assert flags["uoft-cs/cifar10"] is False and flags["rgb2mist"] is True
    assert ("edge2d" in flags) and flags["edge2d"] is (direction == "to")  # a missing pair


def test_related_transfer_defaults_and_bad_directions(client: TestClient) -> None:
    body = client.get("/api/datasets/rgb2mist/related", params={"relation": "transfer"}).json()
    assert body["direction"] == "from"
    response = client.get(
        "/api/datasets/rgb2mist/related", params={"relation": "transfer", "direction": "contains"}
    )
    assert_error(response, 422, "invalid_parameter")
    # A Hub dataset with no measured score still has a predicted box in the transfer map.
    body = client.get("/api/datasets/uoft-cs/cifar10/related", params={"relation": "transfer"})
    assert body.status_code == 200 and not any(it["measured"] for it in body.json()["items"])


def test_place_in_a_transfer_map(client: TestClient, transfer_atlas: TransferAtlas) -> None:
    body = client.post(
        "/api/place", json={"labels": ["digit zero", "digit one"], "relation": "transfer", "k": 5}
    ).json()
    assert body["map"]["relation"] == "transfer"
    assert set(body["boxes"]) == {str(i) for i in transfer_atlas.map_ids.values()}
    for key in ("contained_in", "contains"):
        assert all(not it["measured"] and it["measured_score"] is None for it in body[key])
    # A task without labels is placed from its stored text features, onto its own box.
    body = client.post(
        "/api/place", json={"dataset_id": "rgb2depth", "relation": "transfer", "k": 100}
    ).json()
    own = client.get("/api/datasets/rgb2depth").json()["boxes"]
    for map_id, box in body["boxes"].items():
        np.testing.assert_allclose(box["lo"], own[map_id]["lo"], atol=1e-4)
    for key, pair in (
        ("contained_in", lambda b: ("rgb2depth", b)),
        ("contains", lambda b: (b, "rgb2depth")),
    ):
        for it in body[key]:
            assert it["measured"] is (pair(it["id"]) in MEASURED)
            assert it["measured_score"] == MEASURED.get(pair(it["id"]))


def test_an_imported_task_reads_like_a_dataset(client: TestClient) -> None:
    body = client.get("/api/datasets/rgb2depth").json()
    assert body["source"] == "import" and body["hub_url"] is None and body["num_labels"] == 0
    assert body["description"] == "z-buffer depth of each pixel"
    scores = client.get("/api/transfer-scores", params={"dataset": "rgb2depth"}).json()
    assert len(scores["items"]) == sum(1 for pair in MEASURED if "rgb2depth" in pair)
    assert_error(
        client.get("/api/transfer-scores", params={"dataset": "a b"}), 422, "invalid_parameter"
    )


def test_the_boxes_payload_marks_boxes_fitted_to_measured_scores(
    client: TestClient, transfer_atlas: TransferAtlas
) -> None:
    body = client.get(f"/api/maps/{transfer_atlas.map_ids[2]}/boxes").json()
    fitted = {i for i, m in zip(body["ids"], body["measured"], strict=True) if m}
    assert fitted == set(TASKS)
