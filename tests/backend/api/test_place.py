"""`POST /api/place` and `task2box place`: one forward pass, nothing stored."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from backend.cli.app import build_cli
from backend.config import get_settings
from backend.db import repository
from backend.db.engine import session_factory_for, session_scope
from tests.atlas_fixtures import SeededAtlas
from tests.backend.api.helpers import assert_error, assert_measured_first

app = build_cli()


def _counts(atlas: SeededAtlas) -> tuple[int, int, int]:
    with session_scope(session_factory_for(atlas.settings.database_url)) as session:
        return (
            repository.count_datasets(session).total,
            len(repository.list_maps(session)),
            len(repository.list_jobs(session, limit=500)),
        )


def test_place_labels_predicts_a_box_in_every_published_map(
    client: TestClient, seeded_atlas: SeededAtlas
) -> None:
    before = _counts(seeded_atlas)
    body = client.post("/api/place", json={"labels": ["cat", "dog"], "k": 4}).json()
    top = max(seeded_atlas.map_ids)
    assert body["map"]["id"] == seeded_atlas.map_ids[top] and body["map"]["dim"] == top
    assert set(body["boxes"]) == {str(i) for i in seeded_atlas.map_ids.values()}
    assert body["boxes"][str(body["map"]["id"])] == body["box"]
    for dim, map_id in seeded_atlas.map_ids.items():
        box = body["boxes"][str(map_id)]
        assert len(box["lo"]) == dim
        assert all(a < b for a, b in zip(box["lo"], box["hi"], strict=True))
    for key, column in (("contained_in", "p_in"), ("contains", "p_contains")):
        assert len(body[key]) == 4
        assert_measured_first(body[key], column)
    # {cat, dog} is covered by the CIFAR-like sets that hold both classes: they come first.
    top = body["contained_in"][0]
    assert set(top["shared_labels"]) == {"cat", "dog"} and top["measured_score"] == 1.0
    assert _counts(seeded_atlas) == before  # nothing stored


def test_dog_breeds_find_the_dataset_that_holds_them(client: TestClient) -> None:
    labels = ["golden retriever", "labrador", "poodle", "tabby cat"]
    items = client.post("/api/place", json={"labels": labels, "k": 10}).json()["contained_in"]
    woof = next(it for it in items if it["id"] == "frgfm/imagewoof")
    assert woof["measured"] is True and "golden retriever" in woof["shared_labels"]
    assert woof["measured_score"] == pytest.approx(0.25)
    assert_measured_first(items, "p_in")
    # Every dataset sharing none of the four classes ranks below Imagewoof.
    position = items.index(woof)
    assert all(it["shared_labels"] for it in items[:position])


def test_place_rejects_labels_without_letters_or_digits(client: TestClient) -> None:
    body = assert_error(
        client.post("/api/place", json={"labels": ["cat", "--", "__"]}), 422, "invalid_request"
    )
    assert "'--'" in body["detail"]


def test_place_of_a_dataset_without_labels_is_422(
    client: TestClient, seeded_atlas: SeededAtlas
) -> None:
    gated = "ILSVRC/imagenet-1k"  # skipped at crawl time: no labels stored
    with session_scope(session_factory_for(seeded_atlas.settings.database_url)) as session:
        assert not repository.get_label_sets(session, dataset_ids=[gated], status=None)
    body = assert_error(
        client.post("/api/place", json={"dataset_id": gated}), 422, "invalid_parameter"
    )
    assert "no labels" in body["detail"]


def test_place_known_dataset_lands_on_its_own_box(
    client: TestClient, seeded_atlas: SeededAtlas
) -> None:
    dataset = "ylecun/mnist"
    body = client.post("/api/place", json={"dataset_id": dataset, "k": 5}).json()
    boxes = client.get(f"/api/datasets/{dataset}").json()["boxes"]
    for map_id, box in body["boxes"].items():
        assert box["lo"] == pytest.approx(boxes[map_id]["lo"], abs=1e-4)
        assert box["hi"] == pytest.approx(boxes[map_id]["hi"], abs=1e-4)
    assert dataset not in {it["id"] for it in body["contained_in"] + body["contains"]}
    # Other digit datasets have the same ten names, but digits name nothing on their own:
    # none is counted as sharing MNIST's classes unless its description corroborates it.
    top = seeded_atlas.map_ids[max(seeded_atlas.map_ids)]
    with session_scope(session_factory_for(seeded_atlas.settings.database_url)) as session:
        matches = repository.get_map_label_matches(session, map_id=top)
    assert matches is not None
    copies = {b if a == dataset else a for a, b in matches.corroborated if dataset in (a, b)}
    for item in body["contained_in"] + body["contains"]:
        assert item["measured"] is (item["id"] in copies), item


def test_place_with_a_chosen_map(client: TestClient, seeded_atlas: SeededAtlas) -> None:
    two_d = seeded_atlas.map_ids[2]
    body = client.post("/api/place", json={"labels": ["tulip"], "map": two_d}).json()
    assert body["map"]["id"] == two_d and len(body["box"]["lo"]) == 2


@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"labels": ["cat"], "dataset_id": "uoft-cs/cifar10"},
        {"labels": []},
        {"labels": ["   "]},
        {"labels": ["x" * 201]},
        {"labels": ["cat"] * 10_001},
        {"labels": ["cat"], "k": 0},
        {"labels": ["cat"], "k": 101},
        {"labels": ["cat"], "relation": "similarity"},
        {"labels": ["cat"], "colour": "red"},
        {"dataset_id": "not an id"},
    ],
)
def test_place_rejects_bad_requests(client: TestClient, payload: dict[str, Any]) -> None:
    assert_error(client.post("/api/place", json=payload), 422, "invalid_request")


def test_place_accepts_the_largest_allowed_request(client: TestClient) -> None:
    # 10,000 labels of 200 characters (~2 MB) is within the contract and the byte cap;
    # 50 distinct texts keep the embedding work of this test small.
    labels = [f"class {i % 50:03d} ".ljust(200, "y") for i in range(10_000)]
    assert max(map(len, labels)) == 200
    response = client.post("/api/place", json={"labels": labels, "k": 1})
    assert response.status_code == 200, response.text


def test_place_unknown_dataset_or_transfer(client: TestClient) -> None:
    assert_error(client.post("/api/place", json={"dataset_id": "no/such"}), 404, "not_found")
    assert_error(
        client.post("/api/place", json={"labels": ["cat"], "relation": "transfer"}),
        404,
        "no_published_map",
    )
    assert_error(
        client.post("/api/place", json={"labels": ["cat"], "map": 424242}), 404, "not_found"
    )


def test_place_rejects_oversized_bodies_with_413(make_client: Any) -> None:
    client, _ = make_client(max_body_bytes=2048)
    big = {"labels": ["z" * 150] * 20}
    body = assert_error(client.post("/api/place", json=big), 413, "payload_too_large")
    assert "2048" in body["detail"]

    def chunks() -> Iterator[bytes]:  # no Content-Length: the cap must still hold
        yield b'{"labels": ['
        for _ in range(40):
            yield b'"' + b"z" * 100 + b'",'
        yield b'"z"]}'

    response = client.post(
        "/api/place", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert_error(response, 413, "payload_too_large")
    assert client.post("/api/place", json={"labels": ["cat"]}).status_code == 200


@pytest.fixture
def cli_env(seeded_atlas: SeededAtlas, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("T2B_DATABASE_URL", seeded_atlas.settings.database_url)
    monkeypatch.setenv("T2B_DATA_DIR", str(seeded_atlas.settings.data_dir))
    monkeypatch.setenv("T2B_LOG_LEVEL", "WARNING")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.mark.usefixtures("cli_env")
@pytest.mark.parametrize(
    ("args", "payload"),
    [
        (
            ["--labels", "cat, dog,airplane", "--k", "6"],
            {"labels": ["cat", "dog", "airplane"], "k": 6},
        ),
        (["--dataset", "ylecun/mnist"], {"dataset_id": "ylecun/mnist"}),
    ],
)
def test_cli_place_equals_the_endpoint(
    client: TestClient, args: list[str], payload: dict[str, Any]
) -> None:
    result = CliRunner().invoke(app, ["place", *args, "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == client.post("/api/place", json=payload).json()


@pytest.mark.usefixtures("cli_env")
def test_cli_place_reports_errors() -> None:
    result = CliRunner().invoke(app, ["place", "--dataset", "no/such"])
    assert result.exit_code == 1 and "not_found" in result.output
    result = CliRunner().invoke(app, ["place"])
    assert result.exit_code == 2 and "exactly one" in result.output


def test_cosine_matches_show_both_names(client: TestClient, seeded_atlas: SeededAtlas) -> None:
    # A pair of different class names that MiniLM matched when the map was trained: placing
    # one finds the datasets that hold only the other, and says which name matched.
    from models.coverage import MATCH_SEPARATOR
    from models.targets import normalize_label

    top = seeded_atlas.map_ids[max(seeded_atlas.map_ids)]
    with session_scope(session_factory_for(seeded_atlas.settings.database_url)) as session:
        matches = repository.get_map_label_matches(session, map_id=top)
        sets = {s.dataset_id: s.labels for s in repository.get_label_sets(session)}
    assert matches is not None
    keys = {d: {normalize_label(x) for x in labels} for d, labels in sets.items()}
    for a, b in matches.pairs:
        holders = [
            d for d in sets if normalize_label(b) in keys[d] and normalize_label(a) not in keys[d]
        ]
        if normalize_label(a) != normalize_label(b) and holders:
            break
    else:
        pytest.skip("the seeded atlas has no cosine-only label match")
    body = client.post("/api/place", json={"labels": [a], "k": 100}).json()
    items = {it["id"]: it for it in body["contained_in"]}
    for dataset in holders:
        assert items[dataset]["measured"] is True, dataset
        shown = items[dataset]["shared_labels"]
        assert len(shown) == 1 and shown[0].startswith(f"{a}{MATCH_SEPARATOR}"), shown
        assert normalize_label(shown[0].split(MATCH_SEPARATOR)[1]) in keys[dataset]
