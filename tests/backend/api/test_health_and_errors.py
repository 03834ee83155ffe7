"""`/healthz`, the docs, the error shape of every failure and the request log line."""

from __future__ import annotations

import logging
from collections.abc import Generator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from backend.config import Settings
from backend.db import migrate
from backend.db.engine import make_engine, make_session_factory
from backend.deps import get_map_store, get_session
from backend.main import create_app
from tests.atlas_fixtures import SeededAtlas, settings_for
from tests.backend.api.helpers import assert_error


def test_healthz_with_published_maps(client: TestClient, seeded_atlas: SeededAtlas) -> None:
    body = client.get("/healthz").json()
    assert body == {
        "status": "ok",
        "database": True,
        "published_maps": {"containment": seeded_atlas.map_ids[2], "transfer": None},
    }


def test_healthz_is_degraded_before_any_map(tmp_path: Path) -> None:
    settings = settings_for(tmp_path / "empty.db", tmp_path / "data")
    with TestClient(create_app(settings)) as client:  # startup migrates the empty file
        response = client.get("/healthz")
        assert response.status_code == 200
        assert response.json() == {
            "status": "degraded",
            "database": True,
            "published_maps": {"containment": None, "transfer": None},
        }
        assert_error(client.get("/api/datasets/a/b/related"), 404, "no_published_map")
        assert client.get("/api/maps").json() == {"items": []}


def test_healthz_is_503_when_the_database_is_unreachable(tmp_path: Path) -> None:
    settings = settings_for(tmp_path / "ok.db", tmp_path / "data")
    migrate.upgrade(settings.database_url)
    (tmp_path / "gone").mkdir()
    # A directory is not a database: every statement on this engine fails.
    broken = make_session_factory(make_engine(f"sqlite:///{tmp_path / 'gone'}"))

    def session() -> Generator[Session, None, None]:
        with broken() as s:
            yield s

    app = create_app(settings)
    app.dependency_overrides[get_session] = session
    with TestClient(app) as client:
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "database": False, "published_maps": {}}


def test_openapi_docs_are_served(client: TestClient) -> None:
    assert client.get("/docs").status_code == 200
    spec = client.get("/openapi.json").json()
    paths = set(spec["paths"])
    assert {
        "/healthz",
        "/api/datasets",
        "/api/datasets/{dataset_id}",
        "/api/datasets/{dataset_id}/related",
        "/api/maps",
        "/api/maps/{map_id}/boxes",
        "/api/place",
        "/api/jobs/crawl",
        "/api/jobs/train",
        "/api/jobs",
        "/api/jobs/{job_id}",
    } <= paths


def test_unknown_routes_and_methods_answer_json(client: TestClient) -> None:
    assert_error(client.get("/api/nothing-here"), 404, "not_found")
    assert_error(client.delete("/api/maps"), 405, "method_not_allowed")
    assert_error(
        client.post(
            "/api/place", content=b"{not json", headers={"Content-Type": "application/json"}
        ),
        422,
        "invalid_request",
    )


def test_unexpected_errors_are_a_json_500_without_internals(
    seeded_atlas: SeededAtlas, caplog: pytest.LogCaptureFixture
) -> None:
    app = create_app(seeded_atlas.settings)

    def broken() -> Any:
        raise RuntimeError("secret internal state")

    app.dependency_overrides[get_map_store] = broken
    with TestClient(app, raise_server_exceptions=False) as client:
        # An extra query key sends the request past the fast lane (which answers from the
        # store the startup warm-up may have filled by now) to the route and its dependency.
        url = "/api/datasets/ylecun/mnist/related?via=route"
        body = assert_error(client.get(url), 500, "internal_error")
    assert "secret" not in body["detail"]
    assert "secret internal state" in caplog.text  # but the log keeps it


def test_one_log_line_per_request(
    seeded_atlas: SeededAtlas, caplog: pytest.LogCaptureFixture
) -> None:
    settings: Settings = seeded_atlas.settings.model_copy(update={"log_level": "INFO"})
    app: FastAPI = create_app(settings)
    with TestClient(app) as client, caplog.at_level(logging.INFO, "backend.api.access"):
        client.get("/api/datasets/ylecun/mnist/related", params={"k": 3, "q": "private"})
        client.get("/api/maps/424242")
    lines = [r.getMessage() for r in caplog.records if r.name == "backend.api.access"]
    assert len(lines) == 2
    method, path, status, ms = lines[0].split(" ")
    assert (method, path, status) == ("GET", "/api/datasets/ylecun/mnist/related", "200")
    assert ms.endswith("ms") and float(ms[:-2]) >= 0
    assert lines[1].startswith("GET /api/maps/424242 404 ")
    assert all("private" not in line for line in lines)  # no query strings in the log
