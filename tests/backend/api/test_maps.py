"""`GET /api/maps`, `/api/maps/{id}` and `/api/maps/{id}/boxes` (ETag, gzip, 304)."""

from __future__ import annotations

import gzip
import json

import numpy as np
import pytest
from fastapi.testclient import TestClient

from backend.db import repository
from backend.db.engine import session_factory_for, session_scope
from tests.atlas_fixtures import EPOCHS, SeededAtlas
from tests.backend.api.helpers import assert_error


def test_list_maps_shows_both_published_maps(client: TestClient, seeded_atlas: SeededAtlas) -> None:
    items = client.get("/api/maps").json()["items"]
    published = {m["dim"]: m for m in items if m["status"] == "published"}
    assert {d: m["id"] for d, m in published.items()} == seeded_atlas.map_ids
    for m in published.values():
        assert m["relation"] == "containment" and m["representation"] == "label-text"
        assert m["size"] > 10 and m["has_network"] is True and m["published_at"]
        assert m["params"]["epochs"] == EPOCHS and m["params"]["beta"] > 0
        assert 0.0 <= m["metrics"]["val_f1"] <= 1.0 and m["metrics"]["val_datasets"] >= 1
    only = client.get("/api/maps", params={"relation": "transfer"}).json()["items"]
    assert only == []
    assert_error(client.get("/api/maps", params={"status": "shiny"}), 422, "invalid_request")


def test_read_one_map(client: TestClient, seeded_atlas: SeededAtlas) -> None:
    map_id = seeded_atlas.map_ids[2]
    assert client.get(f"/api/maps/{map_id}").json()["dim"] == 2
    assert_error(client.get("/api/maps/424242"), 404, "not_found")
    assert_error(client.get("/api/maps/0"), 422, "invalid_request")
    assert_error(client.get("/api/maps/two"), 422, "invalid_request")


def test_boxes_are_aligned_columns_equal_to_the_stored_boxes(
    client: TestClient, seeded_atlas: SeededAtlas
) -> None:
    map_id = seeded_atlas.map_ids[2]
    body = client.get(f"/api/maps/{map_id}/boxes").json()
    n = len(body["ids"])
    assert body["map"]["id"] == map_id and body["map"]["size"] == n
    for key in ("lo", "hi", "num_labels", "num_examples", "downloads", "license", "measured"):
        assert len(body[key]) == n, key
    with session_scope(session_factory_for(seeded_atlas.settings.database_url)) as session:
        stored = repository.get_map_boxes(session, map_id=map_id)
    assert stored is not None
    assert body["ids"] == stored.dataset_ids
    extent = float(stored.hi.max() - stored.lo.min())
    np.testing.assert_allclose(body["lo"], stored.lo, atol=extent * 1e-5)
    np.testing.assert_allclose(body["hi"], stored.hi, atol=extent * 1e-5)
    assert body["num_labels"] == stored.num_labels.tolist()
    assert all(body["measured"])
    licenses = body["licenses"]
    assert licenses == sorted(set(licenses))
    for i, lic in enumerate(body["license"]):
        expected = stored.licenses[i]
        assert (lic is None and expected is None) or licenses[lic] == expected


def test_boxes_etag_gives_304(client: TestClient, seeded_atlas: SeededAtlas) -> None:
    url = f"/api/maps/{seeded_atlas.map_ids[2]}/boxes"
    first = client.get(url)
    etag = first.headers["etag"]
    assert etag.startswith('"') and first.headers["cache-control"] == "no-cache"
    again = client.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["etag"] == etag
    assert client.get(url, headers={"If-None-Match": f'"x", W/{etag}'}).status_code == 304
    assert client.get(url, headers={"If-None-Match": '"stale"'}).status_code == 200
    other = client.get(f"/api/maps/{seeded_atlas.map_ids[3]}/boxes").headers["etag"]
    assert other != etag


@pytest.mark.parametrize("accept", ["gzip", "deflate, gzip;q=0.5"])
def test_boxes_are_gzipped_when_accepted(
    client: TestClient, seeded_atlas: SeededAtlas, accept: str
) -> None:
    url = f"/api/maps/{seeded_atlas.map_ids[2]}/boxes"
    with client.stream("GET", url, headers={"Accept-Encoding": accept}) as response:
        raw = b"".join(response.iter_raw())
        assert response.headers["content-encoding"] == "gzip"
        assert "Accept-Encoding" in response.headers["vary"]
    assert json.loads(gzip.decompress(raw)) == client.get(url).json()


@pytest.mark.parametrize("accept", ["identity", "br"])
def test_boxes_are_plain_when_gzip_is_refused(
    client: TestClient, seeded_atlas: SeededAtlas, accept: str
) -> None:
    url = f"/api/maps/{seeded_atlas.map_ids[2]}/boxes"
    with client.stream("GET", url, headers={"Accept-Encoding": accept}) as response:
        raw = b"".join(response.iter_raw())
        assert "content-encoding" not in response.headers
    assert json.loads(raw)["map"]["id"] == seeded_atlas.map_ids[2]


def test_boxes_of_unknown_or_unfinished_maps(make_client: object) -> None:
    client, settings = make_client()  # type: ignore[operator]
    assert_error(client.get("/api/maps/424242/boxes"), 404, "not_found")
    with session_scope(session_factory_for(settings.database_url)) as session:
        training = repository.create_map(
            session, relation="containment", dim=2, representation="label-text"
        )
    body = assert_error(client.get(f"/api/maps/{training.id}/boxes"), 409, "invalid_state")
    assert "training" in body["detail"]
