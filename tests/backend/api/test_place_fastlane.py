"""The `/place` fast lane answers exactly what the FastAPI route answers, or passes on."""

from __future__ import annotations

import json
from collections.abc import Generator
from typing import Any

import anyio
import pytest
from fastapi.testclient import TestClient
from starlette.types import Message, Receive, Scope, Send

from backend import schemas
from backend.api.fastlane import PlaceFastLane
from backend.db import repository
from backend.db.engine import session_factory_for, session_scope
from tests.atlas_fixtures import SeededAtlas
from tests.backend.api.helpers import middlewares_of, served_without_lane


@pytest.fixture(scope="module")
def reference(seeded_atlas: SeededAtlas) -> Generator[TestClient, None, None]:
    """The same atlas served with the lane switched off: every request takes the route."""
    with served_without_lane(seeded_atlas.settings, PlaceFastLane) as c:
        yield c


@pytest.fixture(scope="module")
def label_sets(seeded_atlas: SeededAtlas) -> list[tuple[str, ...]]:
    with session_scope(session_factory_for(seeded_atlas.settings.database_url)) as session:
        return [s.labels for s in repository.get_label_sets(session) if s.labels]


def _same(client: TestClient, reference: TestClient, body: bytes, content_type: str) -> None:
    headers = {"content-type": content_type}
    # Twice: the first call may be cold (the route warms the caches), the second is warm.
    for _ in range(2):
        ours = client.post("/api/place", content=body, headers=headers)
        theirs = reference.post("/api/place", content=body, headers=headers)
        assert ours.status_code == theirs.status_code, body
        assert ours.content == theirs.content, body
        for header in ("content-type", "content-length", "content-encoding"):
            assert ours.headers.get(header) == theirs.headers.get(header), (body, header)


def test_the_app_has_one_lane(client: TestClient) -> None:
    assert len(middlewares_of(client.app, PlaceFastLane)) == 1


def test_the_lane_and_the_route_agree_on_label_lists(
    client: TestClient, reference: TestClient, label_sets: list[tuple[str, ...]]
) -> None:
    for i, labels in enumerate(label_sets):
        for k in (1, 10, 100):
            body = {"labels": list(labels[: 1 + i % 5]), "k": k}
            _same(client, reference, json.dumps(body).encode(), "application/json")


@pytest.mark.parametrize(
    "body",
    [
        {"labels": ["cat", "dog"]},
        {"labels": ["cat", "dog"], "relation": "containment", "k": 3},
        {"labels": ["tulip", "sunflower", "no such class ever"], "k": 5},
        {"labels": ["0", "1", "2"]},
        {"labels": ["cat"], "relation": "transfer"},
        {"labels": ["cat"], "map": 424242},
        {"labels": ["cat"], "map": 1},
        {"labels": ["cat"], "k": 0},
        {"labels": ["cat"], "k": "5"},
        {"labels": ["cat"], "extra": 1},
        {"labels": []},
        {"labels": ["--"]},
        {"labels": "cat"},
        {"dataset_id": "microsoft/cats_vs_dogs", "k": 4},
        {"dataset_id": "no/such"},
        {},
        [],
        "cat",
    ],
)
def test_the_lane_and_the_route_agree(client: TestClient, reference: TestClient, body: Any) -> None:
    _same(client, reference, json.dumps(body).encode(), "application/json")


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b'{"labels": ["cat"]', "application/json"),
        (b"", "application/json"),
        (b'{"labels": ["cat"]}', "text/plain"),
        (b'{"labels": ["cat"]}', "application/json; charset=utf-8"),
        (b'{"labels": ["cat"], "labels": ["dog"]}', "application/json"),
        (b'{"labels": ["caf\\u00e9", "\xc3\xa9t\xc3\xa9"]}', "application/json"),
    ],
)
def test_they_agree_on_odd_bodies(
    client: TestClient, reference: TestClient, body: bytes, content_type: str
) -> None:
    _same(client, reference, body, content_type)


def test_warm_label_lists_are_answered_in_the_lane(client: TestClient) -> None:
    """Once warm, the lane answers itself with `place`'s exact bytes; anything that needs the
    database or the model reaches the route, body intact."""
    placer = client.app.state.placer  # type: ignore[attr-defined]
    passed: list[bytes] = []

    async def route(scope: Scope, receive: Receive, send: Send) -> None:
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body", False):
                break
        passed.append(body)

    lane = PlaceFastLane(route, placer)
    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    def post(body: bytes, content_type: bytes = b"application/json", path: str = "") -> None:
        chunks = [body[: len(body) // 2], body[len(body) // 2 :]]

        async def receive() -> Message:
            chunk = chunks.pop(0)
            return {"type": "http.request", "body": chunk, "more_body": bool(chunks)}

        scope = {
            "type": "http",
            "method": "POST",
            "path": path or "/api/place",
            "root_path": "",
            "headers": [(b"content-type", content_type)],
        }
        anyio.run(lane, scope, receive, send)

    warm = json.dumps({"labels": ["cat", "dog"], "k": 3}).encode()
    assert client.post("/api/place", content=warm, headers={"content-type": "application/json"})
    post(warm)
    assert passed == []
    with session_scope(client.app.state.sessions) as session:  # type: ignore[attr-defined]
        expected = placer.place(session, schemas.PlaceRequest.model_validate_json(warm))
    assert sent[0]["status"] == 200
    assert sent[1]["body"] == expected.model_dump_json().encode()
    others = [
        json.dumps({"dataset_id": "microsoft/cats_vs_dogs"}).encode(),  # read from the db
        json.dumps({"labels": ["an unheard-of class name"]}).encode(),  # not embedded yet
        json.dumps({"labels": ["cat"], "k": 0}).encode(),
        b"not json",
    ]
    for body in others:
        post(body)
    post(warm, content_type=b"text/plain")
    post(warm, path="/api/place/")
    assert passed == [*others, warm, warm]


def test_an_oversized_body_is_refused_alike(
    client: TestClient, reference: TestClient, seeded_atlas: SeededAtlas
) -> None:
    # The lane reads bodies through the app's size limit, as the route does.
    limit = seeded_atlas.settings.max_body_bytes
    body = json.dumps({"labels": ["cat"], "pad": "x" * limit}).encode()
    assert (
        client.post(
            "/api/place", content=body, headers={"content-type": "application/json"}
        ).status_code
        == 413
    )
    _same(client, reference, body, "application/json")
