"""`GET /api/datasets` and `GET /api/datasets/{id}`."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from backend.db import repository
from backend.db.engine import session_factory_for, session_scope
from tests.atlas_fixtures import SeededAtlas
from tests.backend.api.helpers import assert_error


def test_list_datasets_pages_with_a_total(client: TestClient, seeded_atlas: SeededAtlas) -> None:
    first = client.get("/api/datasets", params={"limit": 5}).json()
    second = client.get("/api/datasets", params={"limit": 5, "offset": 5}).json()
    with session_scope(session_factory_for(seeded_atlas.settings.database_url)) as session:
        total = repository.count_datasets(session).ok
    assert first["total"] == second["total"] == total > 10
    assert len(first["items"]) == len(second["items"]) == 5
    assert {d["id"] for d in first["items"]}.isdisjoint(d["id"] for d in second["items"])
    assert (first["limit"], first["offset"], second["offset"]) == (5, 0, 5)


def test_list_datasets_filters(client: TestClient) -> None:
    body = client.get("/api/datasets", params={"q": "MNIST", "limit": 50}).json()
    ids = {d["id"] for d in body["items"]}
    assert "ylecun/mnist" in ids and "zalando-datasets/fashion_mnist" in ids
    # By id or by name (the catalog holds an MNIST copy under another id).
    for other in (i for i in ids if "mnist" not in i.lower()):
        detail = client.get(f"/api/datasets/{other}").json()
        assert "mnist" in (detail.get("pretty_name") or "").lower(), detail
    assert body["total"] == len(ids)

    few = client.get("/api/datasets", params={"max_classes": 2, "limit": 50}).json()
    assert few["items"] and all(d["num_labels"] <= 2 for d in few["items"])
    many = client.get("/api/datasets", params={"min_classes": 10, "limit": 50}).json()
    assert many["items"] and all(d["num_labels"] >= 10 for d in many["items"])
    assert few["total"] + many["total"] <= client.get("/api/datasets").json()["total"]

    mit = client.get("/api/datasets", params={"license": "mit", "limit": 50}).json()
    assert mit["items"] and all(d["license"] == "mit" for d in mit["items"])
    big = client.get("/api/datasets", params={"min_examples": 50_000, "limit": 50}).json()
    assert big["items"] and all(d["num_examples"] >= 50_000 for d in big["items"])


def test_list_datasets_by_class_name(client: TestClient, seeded_atlas: SeededAtlas) -> None:
    body = client.get("/api/datasets", params={"label": "retriever"}).json()
    hits = {d["id"]: d["matched_labels"] for d in body["items"]}
    assert hits.get("frgfm/imagewoof") == ["golden retriever"]
    assert body["total"] == len(hits)
    # Every hit holds the class, and every dataset holding it is found.
    with session_scope(session_factory_for(seeded_atlas.settings.database_url)) as session:
        sets = {s.dataset_id: s.labels for s in repository.get_label_sets(session)}
    holders = {d for d, labels in sets.items() if any("retriever" in x.lower() for x in labels)}
    assert set(hits) == holders
    # Normalized: plural, case and separators; the last word may be partial (as typed).
    for query in ("Golden Retrievers", "golden_retr", "GOLDEN-RETRIEVER"):
        again = client.get("/api/datasets", params={"label": query}).json()["items"]
        assert "frgfm/imagewoof" in {d["id"] for d in again}, query
    # Whole words: "ever" is inside "retriever" but is no word of it.
    assert "frgfm/imagewoof" not in {
        d["id"] for d in client.get("/api/datasets", params={"label": "ever"}).json()["items"]
    }
    # Combined with the other filters; no class matched without `label`.
    none = client.get("/api/datasets", params={"label": "retriever", "max_classes": 2}).json()
    assert none["total"] == 0 and none["items"] == []
    plain = client.get("/api/datasets", params={"limit": 3}).json()["items"]
    assert all(d["matched_labels"] == [] for d in plain)
    nothing = client.get("/api/datasets", params={"label": "--"}).json()
    assert nothing["total"] == 0


def test_list_datasets_bounds_are_422(client: TestClient) -> None:
    assert_error(client.get("/api/datasets", params={"limit": 201}), 422, "invalid_request")
    assert_error(client.get("/api/datasets", params={"limit": 0}), 422, "invalid_request")
    assert_error(client.get("/api/datasets", params={"offset": -1}), 422, "invalid_request")
    assert_error(client.get("/api/datasets", params={"q": "x" * 201}), 422, "invalid_request")
    assert_error(client.get("/api/datasets", params={"status": "nope"}), 422, "invalid_request")
    assert_error(client.get("/api/datasets", params={"label": ""}), 422, "invalid_request")
    assert_error(client.get("/api/datasets", params={"label": "x" * 201}), 422, "invalid_request")


@pytest.mark.parametrize("param", ["q", "label", "license"])
@pytest.mark.parametrize("value", ["10%00zzz", "%00", "mnist%0A", "a%1Fb", "%7F", "x%C2%85"])
def test_list_datasets_refuses_control_characters(
    client: TestClient, param: str, value: str
) -> None:
    # A NUL reached the LIKE pattern and cut it short there: `q=10%00zzz` searched for "10",
    # and `q=%00` matched every dataset.
    body = assert_error(client.get(f"/api/datasets?{param}={value}"), 422, "invalid_request")
    assert f"query.{param}" in body["detail"] and "control character" in body["detail"]


def test_list_datasets_still_takes_plain_text(client: TestClient) -> None:
    # Spaces, punctuation and non-ASCII letters are text, not control characters.
    for q in ("fashion mnist", "mnist%", "ünïcode"):
        assert client.get("/api/datasets", params={"q": q}).status_code == 200, q
    assert client.get("/api/datasets", params={"q": "fashion_mnist"}).json()["total"] == 1


def test_read_dataset_with_labels_and_boxes(client: TestClient, seeded_atlas: SeededAtlas) -> None:
    body = client.get("/api/datasets/uoft-cs/cifar10").json()
    assert body["id"] == "uoft-cs/cifar10"
    assert body["labels"][:3] == ["airplane", "automobile", "bird"]
    assert body["num_labels"] == len(body["labels"]) == 10
    assert body["labels_truncated"] is False
    assert body["status"] == "ok" and body["source"] == "hub"
    assert body["hub_url"] == "https://huggingface.co/datasets/uoft-cs/cifar10"
    assert set(body["boxes"]) == {str(i) for i in seeded_atlas.map_ids.values()}
    for dim, map_id in seeded_atlas.map_ids.items():
        box = body["boxes"][str(map_id)]
        assert len(box["lo"]) == len(box["hi"]) == dim
        assert all(lo < hi for lo, hi in zip(box["lo"], box["hi"], strict=True))


def test_read_dataset_not_found(client: TestClient) -> None:
    body = assert_error(client.get("/api/datasets/nobody/nothing"), 404, "not_found")
    assert "nobody/nothing" in body["detail"]


def test_read_dataset_bad_ids_are_422(client: TestClient) -> None:
    for bad in ("bad%20id", "a/b/c", "-lead/x", "owner/" + "x" * 120):
        assert_error(client.get(f"/api/datasets/{bad}"), 422, "invalid_parameter")
    # A dot segment that reaches the server encoded must not pass as a name.
    assert_error(client.get("/api/datasets/a/%2E%2E"), 422, "invalid_parameter")


def test_skipped_datasets_are_listed_on_request_with_their_reason(client: TestClient) -> None:
    ok = client.get("/api/datasets", params={"limit": 200}).json()
    every = client.get("/api/datasets", params={"limit": 200, "status": "all"}).json()
    skipped = client.get("/api/datasets", params={"limit": 200, "status": "skipped"}).json()
    assert (
        every["total"]
        == ok["total"]
        + skipped["total"]
        + client.get("/api/datasets", params={"status": "failed"}).json()["total"]
    )
    reasons = {d["id"]: d["skip_reason"] for d in skipped["items"]}
    assert reasons["ILSVRC/imagenet-1k"] == "gated"
    assert reasons["fixture/loading-script"] == "script"
    gated = client.get("/api/datasets/ILSVRC/imagenet-1k").json()
    assert (gated["status"], gated["skip_reason"], gated["boxes"]) == ("skipped", "gated", {})


def test_numbered_class_names_are_flagged(client: TestClient) -> None:
    assert client.get("/api/datasets/ylecun/mnist").json()["opaque_labels"] is True
    assert client.get("/api/datasets/uoft-cs/cifar10").json()["opaque_labels"] is False
