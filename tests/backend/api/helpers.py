"""Assertions shared by the API tests."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from fastapi.testclient import TestClient

from backend.config import Settings
from backend.main import create_app

Lane = TypeVar("Lane")


def assert_error(response: Any, status: int, code: str) -> dict[str, Any]:
    """The response is an error of this status and code, in the one JSON error shape."""
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert set(body) == {"error", "detail"}, body
    assert body["error"] == code, body
    assert isinstance(body["detail"], str) and body["detail"]
    return body


def assert_measured_first(items: list[dict[str, Any]], column: str) -> None:
    """A containment list: the datasets sharing counted classes first, by their coverage,
    then the map's predictions by `column`; no predicted item shares a class."""
    measured = [it for it in items if it["measured"]]
    assert items[: len(measured)] == measured, "a predicted item ranks above a measured one"
    for it in measured:
        assert it["score"] == it["measured_score"] and 0 < it["score"] <= 1
        assert it["shared_labels"], it
    scores = [it["score"] for it in measured]
    assert scores == sorted(scores, reverse=True)
    predicted = items[len(measured) :]
    for it in predicted:
        assert it["score"] == it[column] and it["measured_score"] is None
        assert it["shared_labels"] == []
    scores = [it["score"] for it in predicted]
    assert scores == sorted(scores, reverse=True)


def middlewares_of(app: Any, kind: type[Lane]) -> list[Lane]:
    """The instances of middleware `kind` in a started app's middleware stack."""
    found, layer = [], app.middleware_stack
    while layer is not None:
        if isinstance(layer, kind):
            found.append(layer)
        layer = getattr(layer, "app", None)
    return found


@contextmanager
def served_without_lane(settings: Settings, kind: type[Any]) -> Iterator[TestClient]:
    """The app over `settings` with its fast lane `kind` switched off: every request takes
    the FastAPI route, the reference the lane's answers are compared with."""
    app = create_app(settings)
    with TestClient(app) as client:
        (lane,) = middlewares_of(app, kind)
        lane._answer = lambda _request: None
        yield client
