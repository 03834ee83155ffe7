"""`GET /api/datasets/{id}/related`: scores from the published map's boxes."""

from __future__ import annotations

import numpy as np
import pytest
from fastapi.testclient import TestClient

from backend.db import repository
from backend.db.engine import session_factory_for, session_scope
from models.coverage import MATCH_SEPARATOR
from models.opaque import opaque_keys
from models.scoring import containment_to_all
from models.targets import containment_targets, shared_labels
from tests.atlas_fixtures import SeededAtlas
from tests.backend.api.helpers import assert_error, assert_measured_first

QUERY = "microsoft/cats_vs_dogs"


def _expected(atlas: SeededAtlas, map_id: int, dataset_id: str) -> tuple[list[str], np.ndarray]:
    """Every other dataset and P(A ⊆ B), P(B ⊆ A), straight from the stored boxes."""
    with session_scope(session_factory_for(atlas.settings.database_url)) as session:
        boxes = repository.get_map_boxes(session, map_id=map_id)
        record = repository.get_map(session, map_id=map_id)
    assert boxes is not None and record is not None
    a = boxes.dataset_ids.index(dataset_id)
    p_in, p_contains = containment_to_all(
        boxes.lo[a],
        boxes.hi[a],
        boxes.lo,
        boxes.hi,
        beta=record.params["beta"],
        gumbel_beta=record.params["gumbel_beta"],
    )
    return boxes.dataset_ids, np.stack([p_in, p_contains])


def _labels(atlas: SeededAtlas, *ids: str) -> dict[str, tuple[str, ...]]:
    with session_scope(session_factory_for(atlas.settings.database_url)) as session:
        sets = repository.get_label_sets(session, dataset_ids=list(ids))
    return {s.dataset_id: s.labels for s in sets}


def _coverage(atlas: SeededAtlas, map_id: int, ids: list[str]) -> np.ndarray:
    """y(A ⊆ B) of every pair of the map's rows, as the training targets count it (with the
    cosine pairs and corroborated datasets the map kept, opaque names hidden)."""
    with session_scope(session_factory_for(atlas.settings.database_url)) as session:
        sets = {s.dataset_id: s.labels for s in repository.get_label_sets(session)}
        matches = repository.get_map_label_matches(session, map_id=map_id)
    pairs = matches.pairs if matches is not None else []
    row = {d: i for i, d in enumerate(ids)}
    corroborated = [(row[a], row[b]) for a, b in (matches.corroborated if matches else [])]
    label_sets = [sets[i] for i in ids]
    return containment_targets(
        label_sets, label_pairs=pairs, opaque=opaque_keys(label_sets), corroborated=corroborated
    ).to_dense()


def _expected_order(
    coverage: np.ndarray, scores: np.ndarray, a: int, column: int, k: int
) -> list[int]:
    """Rows sharing a counted class by coverage (ties by the map's score, then row), then
    the others by the map's score (ties by row)."""
    cov = coverage[a] if column == 0 else coverage[:, a]
    others = [i for i in range(len(cov)) if i != a]
    measured = sorted(
        (i for i in others if cov[i] > 0), key=lambda i: (-cov[i], -scores[column, i], i)
    )
    predicted = sorted((i for i in others if cov[i] <= 0), key=lambda i: (-scores[column, i], i))
    return (measured + predicted)[:k]


@pytest.mark.parametrize(("direction", "column"), [("contained_in", 0), ("contains", 1)])
def test_related_lists_measured_coverage_then_the_map(
    client: TestClient, seeded_atlas: SeededAtlas, direction: str, column: int
) -> None:
    body = client.get(
        f"/api/datasets/{QUERY}/related", params={"direction": direction, "k": 8}
    ).json()
    top_map = seeded_atlas.map_ids[max(seeded_atlas.map_ids)]
    assert body["map"] == {
        "id": top_map,
        "relation": "containment",
        "dim": max(seeded_atlas.map_ids),
        "representation": "label-text",
    }
    assert (body["dataset"], body["relation"], body["direction"]) == (
        QUERY,
        "containment",
        direction,
    )
    ids, scores = _expected(seeded_atlas, top_map, QUERY)
    coverage = _coverage(seeded_atlas, top_map, ids)
    a = ids.index(QUERY)
    items = body["items"]
    assert [it["id"] for it in items] == [
        ids[i] for i in _expected_order(coverage, scores, a, column, 8)
    ]
    assert_measured_first(items, "p_in" if column == 0 else "p_contains")
    assert {it["kind"] for it in items} == {None}  # a transfer list's field
    assert QUERY not in {it["id"] for it in items}
    labels = _labels(seeded_atlas, QUERY, *(it["id"] for it in items))
    for it in items:
        i = ids.index(it["id"])
        assert it["p_in"] == pytest.approx(scores[0, i], abs=2e-6)
        assert it["p_contains"] == pytest.approx(scores[1, i], abs=2e-6)
        counted = coverage[a, i] if column == 0 else coverage[i, a]
        assert it["measured"] is bool(counted > 0)
        if it["measured"]:
            assert it["measured_score"] == pytest.approx(counted, abs=1e-6)
            # Text matches show the queried dataset's own label; all are its labels.
            texts = {label.split(MATCH_SEPARATOR)[0] for label in it["shared_labels"]}
            assert texts <= set(labels[QUERY])
            assert set(shared_labels(labels[QUERY], labels[it["id"]])) <= set(it["shared_labels"])


def test_cats_and_dogs_sit_inside_datasets_with_cats_and_dogs(client: TestClient) -> None:
    # The fit is short, but a 2-class subset of CIFAR-like sets is the clearest containment.
    items = client.get(f"/api/datasets/{QUERY}/related", params={"k": 5}).json()["items"]
    assert any(set(it["shared_labels"]) >= {"cat", "dog"} for it in items[:3])


def test_related_reads_the_requested_map(client: TestClient, seeded_atlas: SeededAtlas) -> None:
    two_d = seeded_atlas.map_ids[2]
    body = client.get(f"/api/datasets/{QUERY}/related", params={"map": two_d, "k": 3}).json()
    assert body["map"]["id"] == two_d and body["map"]["dim"] == 2
    ids, scores = _expected(seeded_atlas, two_d, QUERY)
    first = body["items"][0]
    assert first["p_in"] == pytest.approx(scores[0].max(where=np.array(ids) != QUERY, initial=0))


def test_related_validates_direction_per_relation(client: TestClient) -> None:
    url = f"/api/datasets/{QUERY}/related"
    body = assert_error(client.get(url, params={"direction": "to"}), 422, "invalid_parameter")
    assert "containment" in body["detail"]
    assert_error(
        client.get(url, params={"relation": "transfer", "direction": "contains"}),
        422,
        "invalid_parameter",
    )
    assert_error(client.get(url, params={"direction": "sideways"}), 422, "invalid_request")
    assert_error(client.get(url, params={"relation": "likes"}), 422, "invalid_request")


def test_related_without_a_transfer_map_is_404(client: TestClient) -> None:
    url = f"/api/datasets/{QUERY}/related"
    body = assert_error(
        client.get(url, params={"relation": "transfer", "direction": "from"}),
        404,
        "no_published_map",
    )
    assert "transfer" in body["detail"]


def test_related_bounds_k(client: TestClient) -> None:
    url = f"/api/datasets/{QUERY}/related"
    for k in (0, 101, -3):
        assert_error(client.get(url, params={"k": k}), 422, "invalid_request")
    body = client.get(url, params={"k": 100}).json()
    assert len(body["items"]) == client.get("/api/maps").json()["items"][0]["size"] - 1


def test_related_unknown_dataset_or_map(client: TestClient, seeded_atlas: SeededAtlas) -> None:
    assert_error(client.get("/api/datasets/nobody/nothing/related"), 404, "not_found")
    assert_error(client.get(f"/api/datasets/{QUERY}/related?map=9999"), 404, "not_found")
    assert_error(client.get("/api/datasets/bad id/related"), 422, "invalid_parameter")


def test_related_of_a_skipped_dataset_is_409(client: TestClient) -> None:
    body = assert_error(
        client.get("/api/datasets/ILSVRC/imagenet-1k/related"), 409, "invalid_state"
    )
    assert "gated" in body["detail"] and "/api/place" in body["detail"]


def test_related_works_for_ids_without_owner(client: TestClient) -> None:
    # `owner/name` and bare `name` ids both route to /related (the path converter).
    assert_error(client.get("/api/datasets/mnist/related"), 404, "not_found")


def test_trained_maps_answer_from_their_neighbour_tables_exactly(
    client: TestClient, seeded_atlas: SeededAtlas
) -> None:
    # The train job ranked every dataset once (`map_neighbors`); each answer must still be
    # what counting coverage and scoring every box gives, ties broken by the server's row
    # order.
    from backend.serving.map_store import MapStore

    store = MapStore(session_factory_for(seeded_atlas.settings.database_url))
    top_map = seeded_atlas.map_ids[max(seeded_atlas.map_ids)]
    assert store.get(top_map).neighbors is not None
    ids, scores = _expected(seeded_atlas, top_map, QUERY)
    coverage = _coverage(seeded_atlas, top_map, ids)
    for dataset_id in ids:
        _, scores = _expected(seeded_atlas, top_map, dataset_id)
        for direction, column in (("contained_in", 0), ("contains", 1)):
            for k in (3, 100):
                body = client.get(
                    f"/api/datasets/{dataset_id}/related", params={"direction": direction, "k": k}
                ).json()
                best = _expected_order(coverage, scores, ids.index(dataset_id), column, k)
                assert [it["id"] for it in body["items"]] == [ids[i] for i in best]
