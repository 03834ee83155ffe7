"""`/healthz`, the docs, the error shape of every failure and the request log line."""

from __future__ import annotations

import json
import logging
import socket
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
from tests.live_server import live_server


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


@pytest.mark.parametrize(
    ("body", "says"),
    [
        (b"{not json", "body: not valid JSON at character 1"),
        (b'{"labels": ["\xff\xfe"]}', "body: not valid UTF-8 (byte 0xff at 13)"),
        (b"\xff", "body: not valid UTF-8"),
        (b"[" * 100_000 + b"]" * 100_000, "body: not valid JSON: nested too deeply"),
    ],
)
def test_unreadable_bodies_are_one_422(client: TestClient, body: bytes, says: str) -> None:
    # Malformed JSON was a 422 with a list-shaped detail's text ("1: JSON decode error"),
    # invalid UTF-8 a 400, and deep nesting a 500 from the /place fast lane.
    headers = {"Content-Type": "application/json"}
    for path in ("/api/place", "/api/jobs/crawl", "/api/transfer-scores"):
        response = client.post(path, content=body, headers=headers)
        assert says in assert_error(response, 422, "invalid_request")["detail"], path


def test_405_lists_every_method_of_the_path(client: TestClient) -> None:
    response = client.request("OPTIONS", "/api/transfer-scores")
    assert_error(response, 405, "method_not_allowed")
    assert response.headers["Allow"] == "GET, POST"
    # A job route name is not a job id: 405 (only POST), not a 422 about the id.
    response = client.get("/api/jobs/crawl")
    assert_error(response, 405, "method_not_allowed")
    assert response.headers["Allow"] == "POST"
    assert_error(client.get("/api/jobs/not-a-number"), 404, "not_found")


def test_openapi_documents_the_real_error_bodies(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    schemas = spec["components"]["schemas"]
    assert "HTTPValidationError" not in schemas and "ValidationError" not in schemas
    assert schemas["ErrorPublic"]["required"] == ["error", "detail"]
    assert schemas["ErrorPublic"]["properties"]["detail"]["type"] == "string"
    expected = {
        ("get", "/healthz"): {"200", "503"},
        ("get", "/api/datasets"): {"200", "422"},
        ("get", "/api/datasets/{dataset_id}"): {"200", "404", "422"},
        ("get", "/api/datasets/{dataset_id}/related"): {"200", "404", "409", "422"},
        ("get", "/api/maps"): {"200", "422"},
        ("get", "/api/maps/{map_id}"): {"200", "404", "422"},
        ("get", "/api/maps/{map_id}/boxes"): {"200", "304", "404", "409", "422"},
        ("post", "/api/place"): {"200", "404", "409", "413", "422"},
        ("get", "/api/jobs"): {"200", "422"},
        ("get", "/api/jobs/{job_id}"): {"200", "404", "422"},
        ("post", "/api/jobs/crawl"): {"202", "401", "403", "409", "413", "422"},
        ("post", "/api/jobs/train"): {"202", "401", "403", "409", "413", "422"},
        ("post", "/api/transfer-scores"): {"201", "401", "403", "413", "422"},
    }
    for (method, path), statuses in expected.items():
        responses = spec["paths"][path][method]["responses"]
        assert set(responses) == statuses, (method, path)
        for status in statuses - {"200", "201", "202", "304", "503"}:
            ref = responses[status]["content"]["application/json"]["schema"]["$ref"]
            assert ref == "#/components/schemas/ErrorPublic", (method, path, status)
    # The admin routes say how they authenticate.
    assert spec["components"]["securitySchemes"]["adminToken"]["scheme"] == "bearer"
    assert spec["paths"]["/api/jobs/train"]["post"]["security"] == [{"adminToken": []}]


def _raw_exchange(base_url: str, request: bytes) -> tuple[str, dict[str, str], bytes]:
    """Sends `request` as raw bytes; the status line, headers and body of the answer."""
    host, port = base_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        sock.sendall(request)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status, *lines = head.decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines)}
    return status, headers, body


def test_a_websocket_handshake_gets_the_json_error_body(seeded_atlas: SeededAtlas) -> None:
    # Starlette closed it, and uvicorn answered a bare 403 with an empty text/plain body.
    handshake = (
        b"GET /api/maps HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\n"
        b"Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\n"
        b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
    )
    with live_server(create_app(seeded_atlas.settings)) as url:
        status, headers, body = _raw_exchange(url, handshake)
        # What uvicorn refuses before the app sees it stays its own text/plain 400
        # (documented in the README's API section).
        bad_status, bad_headers, bad_body = _raw_exchange(url, b"GARBAGE\r\n\r\n")
    assert status.startswith("HTTP/1.1 404"), status
    assert headers["content-type"] == "application/json"
    assert json.loads(body)["error"] == "not_found"
    assert bad_status.startswith("HTTP/1.1 400") and bad_headers["content-type"].startswith(
        "text/plain"
    )
    assert bad_body == b"Invalid HTTP request received."
