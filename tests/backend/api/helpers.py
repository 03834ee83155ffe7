"""Assertions shared by the API tests."""

from __future__ import annotations

from typing import Any


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
