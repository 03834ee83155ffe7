"""A label-set map served end to end: placement, label points, and the subset property."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from backend.config import Settings
from backend.db import repository
from backend.db.engine import session_factory_for, session_scope
from backend.jobs.train import TrainRequest, run_train
from models.opaque import opaque_keys
from models.targets import normalize_label
from tests.backend.api.helpers import assert_error


@pytest.fixture
def set_map(make_client: Callable[..., tuple[TestClient, Settings]]) -> tuple[TestClient, int]:
    client, settings = make_client(map_model="set")
    (outcome,) = run_train(settings, TrainRequest(dims=(2,), epochs=40)).maps
    return client, outcome.map_id


def test_label_points_lie_inside_their_dataset_box(set_map: tuple[TestClient, int]) -> None:
    client, map_id = set_map
    dataset = "uoft-cs/cifar10"
    body = client.get(f"/api/maps/{map_id}/label-points/{dataset}").json()
    assert body["map"]["id"] == map_id and body["dataset"] == dataset
    detail = client.get(f"/api/datasets/{dataset}").json()
    assert sorted(body["labels"]) == sorted(detail["labels"])
    box = detail["boxes"][str(map_id)]
    points = np.asarray(body["points"])
    assert points.shape == (len(body["labels"]), 2)
    # The box is the points' bounding box plus a margin (corners stored as float32).
    assert (points >= np.asarray(box["lo"]) - 1e-4).all()
    assert (points <= np.asarray(box["hi"]) + 1e-4).all()


def test_a_placed_label_subset_lands_inside_its_dataset(set_map: tuple[TestClient, int]) -> None:
    client, map_id = set_map
    box = client.get("/api/datasets/uoft-cs/cifar10").json()["boxes"][str(map_id)]
    placed = client.post(
        "/api/place", json={"labels": ["cat", "dog", "ship"], "map": map_id}
    ).json()
    lo, hi = np.asarray(placed["box"]["lo"]), np.asarray(placed["box"]["hi"])
    assert (np.asarray(box["lo"]) <= lo + 1e-4).all() and (hi <= np.asarray(box["hi"]) + 1e-4).all()


def test_label_points_errors(
    set_map: tuple[TestClient, int], make_client: Callable[..., Any]
) -> None:
    client, map_id = set_map
    assert_error(client.get(f"/api/maps/{map_id}/label-points/no/such"), 404, "not_found")
    assert_error(client.get("/api/maps/424242/label-points/uoft-cs/cifar10"), 404, "not_found")
    assert_error(client.get(f"/api/maps/{map_id}/label-points/bad id"), 422, "invalid_parameter")
    vector_client, settings = make_client(map_model="vector")
    (outcome,) = run_train(settings, TrainRequest(dims=(2,), epochs=4)).maps
    body = assert_error(
        vector_client.get(f"/api/maps/{outcome.map_id}/label-points/uoft-cs/cifar10"),
        409,
        "invalid_state",
    )
    assert "vector model" in body["detail"]


def test_every_subset_pair_is_contained_in_the_published_set_map(
    set_map: tuple[TestClient, int],
) -> None:
    # P(A ⊆ B) = 1 under the hard intersection whenever A's (capped) labels ⊆ B's, as the
    # server reads it: through /related's p_in on the stored boxes.
    client, map_id = set_map
    settings_url = client.app.state.settings.database_url  # type: ignore[attr-defined]
    with session_scope(session_factory_for(settings_url)) as session:
        raw = {s.dataset_id: s.labels for s in repository.get_label_sets(session)}
    # Opaque names ("0".."9") are no points: a digit set is placed from its description.
    hidden = opaque_keys(list(raw.values()))
    sets = {d: {x for x in labels if normalize_label(x) not in hidden} for d, labels in raw.items()}
    checked = 0
    for a, labels_a in sets.items():
        if not labels_a:
            continue
        supersets = {b for b, labels_b in sets.items() if b != a and labels_a <= labels_b}
        if not supersets:
            continue
        items = client.get(f"/api/datasets/{a}/related", params={"map": map_id, "k": 100}).json()[
            "items"
        ]
        for item in items:
            if item["id"] in supersets:
                checked += 1
                assert item["p_in"] == pytest.approx(1.0, abs=1e-5), (a, item["id"])
    assert checked >= 5
