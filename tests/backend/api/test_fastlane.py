"""The `/related` fast lane answers exactly what the FastAPI route answers, or passes on."""

from __future__ import annotations

from collections.abc import Generator
from typing import Any
from urllib.parse import quote

import anyio
import pytest
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.types import Receive, Scope, Send

from backend.api.fastlane import RelatedFastLane, parse_related_query
from backend.db import repository
from backend.db.engine import session_factory_for, session_scope
from backend.schemas import RelatedQuery
from backend.serving.map_store import MapStore
from backend.serving.related import related_for_dataset
from tests.atlas_fixtures import SeededAtlas
from tests.backend.api.helpers import middlewares_of, served_without_lane

QUERY = "microsoft/cats_vs_dogs"


@pytest.fixture(scope="module")
def reference(seeded_atlas: SeededAtlas) -> Generator[TestClient, None, None]:
    """The same atlas served with the lane switched off: every request takes the route."""
    with served_without_lane(seeded_atlas.settings, RelatedFastLane) as c:
        yield c


def test_the_app_has_one_lane(client: TestClient) -> None:
    assert len(middlewares_of(client.app, RelatedFastLane)) == 1


@pytest.fixture(scope="module")
def dataset_ids(seeded_atlas: SeededAtlas) -> list[str]:
    with session_scope(session_factory_for(seeded_atlas.settings.database_url)) as session:
        boxes = repository.get_map_boxes(session, map_id=max(seeded_atlas.map_ids.values()))
    assert boxes is not None
    return list(boxes.dataset_ids)


def _same(client: TestClient, reference: TestClient, url: str) -> None:
    ours, theirs = client.get(url), reference.get(url)
    assert ours.status_code == theirs.status_code, url
    assert ours.content == theirs.content, url
    for header in ("content-type", "content-length", "content-encoding"):
        assert ours.headers.get(header) == theirs.headers.get(header), (url, header)


def test_parse_accepts_only_canonical_queries() -> None:
    assert parse_related_query(b"") == RelatedQuery()
    assert parse_related_query(
        b"relation=transfer&direction=to&k=100&map=7"
    ) == RelatedQuery.model_validate(
        {"relation": "transfer", "direction": "to", "k": 100, "map": 7}
    )
    assert parse_related_query(b"k=1%30") == RelatedQuery(k=10)  # percent-decoding as usual
    for odd in (
        b"k=0",
        b"k=101",
        b"k=010",
        b"k=+1",
        b"k=1e1",
        b"k=",
        b"map=0",
        b"relation=Containment",
        b"direction=up",
        b"k=1&k=2",
        b"q=cat",
        b"k=\xff",
        b"k=" + b"1" * 600,
    ):
        assert parse_related_query(odd) is None, odd


def test_common_requests_are_answered_in_the_lane(seeded_atlas: SeededAtlas) -> None:
    """The lane answers a warm request itself, with the route's exact bytes."""
    store = MapStore(session_factory_for(seeded_atlas.settings.database_url))
    store.published("containment")  # warm
    passed: list[str] = []

    async def route(scope: Scope, receive: Receive, send: Send) -> None:
        passed.append(scope["path"])

    lane = RelatedFastLane(route, store)
    sent: list[dict[str, Any]] = []

    async def send(message: Any) -> None:
        sent.append(message)

    async def receive() -> Any:
        return {"type": "http.request", "body": b"", "more_body": False}

    scope = {
        "type": "http",
        "method": "GET",
        "path": f"/api/datasets/{QUERY}/related",
        "root_path": "",
        "query_string": b"direction=contains&k=3",
        "headers": [],
    }
    anyio.run(lane, scope, receive, send)
    assert passed == []
    expected = related_for_dataset(store, dataset_id=QUERY, direction="contains", k=3)
    assert sent[0]["status"] == 200
    assert sent[1]["body"] == expected.model_dump_json().encode()
    assert len(expected.items) == 3
    # Anything else reaches the route: a POST, another path, an unknown dataset, a bad query.
    for method, path, query in (
        ("POST", f"/api/datasets/{QUERY}/related", b""),
        ("GET", f"/api/datasets/{QUERY}", b""),
        ("GET", "/api/datasets/nobody/nothing/related", b""),
        ("GET", f"/api/datasets/{QUERY}/related", b"k=500"),
        ("GET", f"/api/datasets/{QUERY}/related", b"relation=transfer"),  # none published
        ("GET", "/api/datasets/../x/related", b""),
    ):
        anyio.run(
            lane, {**scope, "method": method, "path": path, "query_string": query}, receive, send
        )
    assert len(passed) == 6


@pytest.mark.parametrize(
    "query",
    [
        "",
        "k=5",
        "direction=contains&k=100",
        "direction=contained_in&k=1",
        "relation=containment&direction=to",
        "relation=transfer",
        "k=0",
        "k=101",
        "k=abc",
        "k=1&k=2",
        "map=999999",
        "map=1",
        "q=cat&k=3",
    ],
)
def test_the_lane_and_the_route_agree(
    client: TestClient, reference: TestClient, query: str
) -> None:
    _same(client, reference, f"/api/datasets/{QUERY}/related?{query}")


def test_they_agree_on_every_dataset_and_on_odd_ids(
    client: TestClient, reference: TestClient, dataset_ids: list[str]
) -> None:
    for dataset_id in dataset_ids:
        _same(client, reference, f"/api/datasets/{dataset_id}/related?direction=contains&k=7")
    for odd in ("nobody/nothing", "a/b/c", "..", "-x", "x" * 300, "<script>"):
        _same(client, reference, f"/api/datasets/{quote(odd)}/related")


_VALUES = st.sampled_from(
    [
        "",
        "0",
        "1",
        "5",
        "10",
        "100",
        "101",
        "010",
        "containment",
        "transfer",
        "contains",
        "contained_in",
        "to",
        "from",
        "%20",
        "-1",
        "1.0",
    ]
)


@given(
    pairs=st.lists(
        st.tuples(st.sampled_from(["relation", "direction", "k", "map", "x"]), _VALUES),
        max_size=4,
    ),
    pick=st.integers(min_value=0, max_value=10_000),
)
@settings(max_examples=120, deadline=None)
def test_they_agree_on_random_queries(
    client: TestClient,
    reference: TestClient,
    dataset_ids: list[str],
    pairs: list[tuple[str, str]],
    pick: int,
) -> None:
    query = "&".join(f"{k}={v}" for k, v in pairs)
    _same(
        client, reference, f"/api/datasets/{dataset_ids[pick % len(dataset_ids)]}/related?{query}"
    )
