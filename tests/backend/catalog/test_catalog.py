"""The built-in catalog: real ids, full label lists, and seeding."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from backend.catalog import load_catalog, seed_catalog, seed_if_empty
from backend.db import repository as repo
from tests.factories import T0, dataset_record

ROOT = Path(__file__).resolve().parents[3]
SHARED_HF = ROOT.parent / "shared" / "data" / "hf"

# Class counts from the datasets' papers and documentation.
KNOWN_COUNTS = {
    "uoft-cs/cifar10": 10,
    "uoft-cs/cifar100": 100,
    "ylecun/mnist": 10,
    "zalando-datasets/fashion_mnist": 10,
    "ethz/food101": 101,
    "dpdl-benchmark/oxford_flowers102": 102,
    "timm/oxford-iiit-pet": 37,
    "blanchon/EuroSAT_RGB": 10,
    "blanchon/RESISC45": 45,
    "tanganke/dtd": 47,
    "tanganke/gtsrb": 43,
    "flwrlabs/caltech101": 101,
    "HuggingFaceM4/FGVC-Aircraft": 100,
    "AI-Lab-Makerere/beans": 3,
    "Matthijs/snacks": 20,
    "flwrlabs/office-home": 65,
    "flwrlabs/femnist": 62,
}


def test_catalog_is_large_unique_and_well_formed() -> None:
    records = load_catalog()
    assert len(records) >= 40
    assert len({r.id for r in records}) == len(records)
    for r in records:
        assert r.source == "catalog" and r.status == "ok"
        assert "/" in r.id, r.id
        assert len(set(r.labels)) == len(r.labels), f"{r.id} repeats a label"
        assert all(label == label.strip() and label for label in r.labels), r.id
        assert r.num_examples is None or r.num_examples > 0


@pytest.mark.parametrize(("dataset_id", "count"), sorted(KNOWN_COUNTS.items()))
def test_label_counts_match_known_facts(dataset_id: str, count: int) -> None:
    by_id = {r.id: r for r in load_catalog()}
    assert len(by_id[dataset_id].labels) == count


def test_known_label_orders() -> None:
    by_id = {r.id: r for r in load_catalog()}
    assert by_id["uoft-cs/cifar10"].labels[:3] == ("airplane", "automobile", "bird")
    assert by_id["zalando-datasets/fashion_mnist"].labels[0] == "T - shirt / top"
    assert by_id["ethz/food101"].labels[-1] == "waffles"
    assert by_id["AI-Lab-Makerere/beans"].labels == ("angular_leaf_spot", "bean_rust", "healthy")


@pytest.mark.shared_data
def test_agrees_with_the_shared_hub_fixtures_where_they_overlap() -> None:
    path = SHARED_HF / "datasets.jsonl"
    if not path.exists():
        pytest.skip("../shared/data is absent")
    by_id = {r.id: r for r in load_catalog()}
    checked = 0
    for line in path.read_text(encoding="utf-8").splitlines():
        ref = json.loads(line)
        hub_id = ref.get("hub_id_current") or ref["id"]
        if hub_id in by_id and hub_id != "uoft-cs/cifar100":  # the card's "cra" typo
            assert list(by_id[hub_id].labels) == ref["labels"], hub_id
            checked += 1
    assert checked >= 5


def test_seed_is_idempotent_and_never_overwrites_hub_data(session: Session) -> None:
    repo.save_crawl_batch(
        session, records=[dataset_record("ylecun/mnist", downloads=123)], crawled_at=T0
    )
    first = seed_catalog(session)
    assert first == len(load_catalog()) - 1
    second = seed_catalog(session)
    assert second == first
    assert repo.count_datasets(session).ok == len(load_catalog())
    mnist = repo.get_dataset(session, dataset_id="ylecun/mnist")
    assert mnist is not None and mnist.summary.source == "hub" and mnist.summary.downloads == 123
    food = repo.get_dataset(session, dataset_id="ethz/food101")
    assert food is not None and food.num_labels == 101 and food.summary.num_examples == 101000


def test_seed_if_empty_only_seeds_an_empty_database(session: Session) -> None:
    assert seed_if_empty(session) >= 40
    assert repo.count_datasets(session).total >= 40
    assert seed_if_empty(session) == 0


@pytest.mark.shared_data
def test_holds_every_shared_dataset_with_usable_labels() -> None:
    path = SHARED_HF / "datasets.jsonl"
    if not path.exists():
        pytest.skip("../shared/data is absent")
    by_id = {r.id: r for r in load_catalog()}
    usable = 0
    for line in path.read_text(encoding="utf-8").splitlines():
        ref = json.loads(line)
        hub_id = ref.get("hub_id_current") or ref["id"]
        labels = ref["labels"] or []
        tagged = "image-classification" in (ref.get("task_categories") or [])
        if tagged and "/" in hub_id and len(set(labels)) == len(labels) >= 2:
            usable += 1
            assert hub_id in by_id, hub_id
            if hub_id != "uoft-cs/cifar100":  # the card's "cra" typo, corrected by hand
                assert list(by_id[hub_id].labels) == labels, hub_id
    assert usable >= 50 and len(by_id) >= usable


def test_counts_come_only_with_the_date_they_were_read() -> None:
    from backend.catalog.loader import _record

    base = {"id": "o/n", "labels": ["a", "b"]}
    assert (_record(base).downloads, _record(base).likes) == (0, 0)
    dated = _record({**base, "downloads": 1200, "likes": 7, "counts_read_on": "2026-11-30"})
    assert (dated.downloads, dated.likes) == (1200, 7)
    with pytest.raises(ValueError, match="must give all of"):
        _record({**base, "downloads": 1200})
    with pytest.raises(ValueError, match="counts_read_on must be YYYY-MM-DD, got 'last week'"):
        _record({**base, "downloads": 1, "likes": 1, "counts_read_on": "last week"})
    with pytest.raises(ValueError, match="downloads must be an int >= 0, got -5"):
        _record({**base, "downloads": -5, "likes": 1, "counts_read_on": "2026-11-30"})


def test_no_catalog_count_is_undated() -> None:
    raw = json.loads((ROOT / "backend" / "catalog" / "datasets.json").read_text("utf-8"))
    for entry in raw["datasets"]:
        assert ("downloads" in entry) == ("counts_read_on" in entry), entry["id"]
