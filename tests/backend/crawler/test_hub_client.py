"""The crawler against the fake Hub on 127.0.0.1: listing, skip reasons, label fallbacks."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from backend.config import Settings
from backend.crawler import HubClient
from backend.records import DatasetRecord
from tests.fakehub import FakeHub
from tests.fakehub_catalog import FakeDataset, card_info, sha_of, viewer_body

SettingsFactory = Callable[..., Settings]


def crawl(client: HubClient, limit: int | None = None) -> dict[str, DatasetRecord]:
    return {r.id: r for r in client.resolve_many(client.list_datasets(limit=limit))}


class TestListing:
    def test_is_lazy_until_iterated(self, fake_hub: FakeHub, hub_settings: SettingsFactory) -> None:
        client = HubClient(hub_settings())
        listing = client.list_datasets()
        assert fake_hub.requests("/api/datasets") == []
        first = next(listing)
        assert first["id"] == "ylecun/mnist"  # most downloads first
        assert len(fake_hub.requests("^/api/datasets$")) >= 1

    def test_follows_link_pagination_with_filter_sort_and_expand(
        self, fake_hub: FakeHub, hub_settings: SettingsFactory
    ) -> None:
        ids = [raw["id"] for raw in HubClient(hub_settings()).list_datasets()]
        expected = sorted(fake_hub.datasets.values(), key=lambda d: -d.downloads)
        assert ids == [d.id for d in expected]
        pages = fake_hub.requests("^/api/datasets$")
        assert len(pages) == 4  # 15 datasets, 4 per page
        assert all("cursor" in p.query for p in pages[1:])
        first = pages[0].query
        assert first["filter"] == ["task_categories:image-classification"]
        assert first["sort"] == ["downloads"]
        assert set(first["expand"]) == {
            "cardData",
            "downloads",
            "likes",
            "tags",
            "gated",
            "disabled",
            "lastModified",
            "sha",
            "siblings",
        }

    def test_limit_stops_requesting_pages(
        self, fake_hub: FakeHub, hub_settings: SettingsFactory
    ) -> None:
        ids = [raw["id"] for raw in HubClient(hub_settings()).list_datasets(limit=5)]
        assert len(ids) == 5
        assert len(fake_hub.requests("^/api/datasets$")) == 2
        assert fake_hub.requests("^/api/datasets$")[0].query["limit"] == ["5"]

    def test_invalid_ids_are_dropped(
        self, fake_hub: FakeHub, hub_settings: SettingsFactory
    ) -> None:
        fake_hub.add(FakeDataset(id="../../etc", sha=sha_of("x"), downloads=10**9))
        client = HubClient(hub_settings())
        ids = [raw["id"] for raw in client.list_datasets()]
        assert "../../etc" not in ids and len(ids) == 15
        assert client.stats().rejected_ids == 1

    def test_agent_harness_registry_is_fetched_once(
        self, fake_hub: FakeHub, hub_settings: SettingsFactory
    ) -> None:
        client = HubClient(hub_settings())
        crawl(client)
        crawl(client)
        assert len(fake_hub.requests("^/api/agent-harnesses$")) == 1

    def test_token_is_sent_only_when_configured(
        self, fake_hub: FakeHub, hub_settings: SettingsFactory, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("HF_TOKEN", "hf_from_environment")  # must not leak past settings
        list(HubClient(hub_settings()).list_datasets(limit=1))
        list(HubClient(hub_settings(hf_token="hf_secret")).list_datasets(limit=1))
        first, second = (r.auth for r in fake_hub.requests("^/api/datasets$"))
        assert first is None
        assert second == "Bearer hf_secret"


class TestRecords:
    def test_every_fixture_gets_its_outcome(
        self, fake_hub: FakeHub, hub_settings: SettingsFactory
    ) -> None:
        records = crawl(HubClient(hub_settings()))
        outcome = {i: (r.status, r.skip_reason) for i, r in records.items()}
        assert outcome == {
            "ylecun/mnist": ("ok", None),
            "ILSVRC/imagenet-1k": ("skipped", "gated"),
            "uoft-cs/cifar10": ("ok", None),
            "uoft-cs/cifar100": ("ok", None),
            "zalando-datasets/fashion_mnist": ("ok", None),
            "AI-Lab-Makerere/beans": ("ok", None),
            "ufldl-stanford/svhn": ("ok", None),
            "Matthijs/snacks": ("ok", None),
            "fixture/loading-script": ("skipped", "script"),
            "fixture/disabled": ("skipped", "disabled"),
            "fixture/captions-only": ("skipped", "no_labels"),
            "fixture/viewer-no-labels": ("skipped", "no_labels"),
            "fixture/imagefolder-beans": ("ok", None),
            "fixture/legacy-infos": ("ok", None),
            "fixture/helper-script": ("ok", None),
        }

    def test_card_labels_need_no_request(
        self, fake_hub: FakeHub, hub_settings: SettingsFactory
    ) -> None:
        crawl(HubClient(hub_settings()))
        asked = {r.query["dataset"][0] for r in fake_hub.requests("^/viewer/info$")}
        assert asked == {
            "Matthijs/snacks",
            "fixture/viewer-no-labels",
            "fixture/imagefolder-beans",
            "fixture/legacy-infos",
        }
        resolved = {"/".join(r.path.split("/")[2:4]) for r in fake_hub.requests("/resolve/")}
        assert resolved == {"fixture/imagefolder-beans", "fixture/legacy-infos"}  # the builder

    def test_viewer_fallback(self, fake_hub: FakeHub, hub_settings: SettingsFactory) -> None:
        records = crawl(HubClient(hub_settings(crawl_builder_fallback=False)))
        snacks = records["Matthijs/snacks"]
        assert len(snacks.labels) == 20 and snacks.labels[8] == "hot dog"
        assert snacks.splits == {"train": 4838, "validation": 955, "test": 952}
        assert snacks.license == "cc-by-4.0"

    def test_builder_fallback_reads_folders_and_legacy_infos(
        self, fake_hub: FakeHub, hub_settings: SettingsFactory
    ) -> None:
        records = crawl(HubClient(hub_settings()))
        folder = records["fixture/imagefolder-beans"]
        assert folder.labels == ("angular_leaf_spot", "bean_rust", "healthy")
        assert folder.splits == {"train": 6, "test": 3}
        legacy = records["fixture/legacy-infos"]
        assert legacy.labels == ("cat", "dog") and legacy.splits == {"train": 20}
        # The builder read the card at the listed commit, which the Hub served with its headers.
        sha = fake_hub.datasets["fixture/legacy-infos"].sha
        assert fake_hub.requests(f"^/datasets/fixture/legacy-infos/resolve/{sha}/README.md$")

    def test_without_the_builder_those_have_no_labels(
        self, fake_hub: FakeHub, hub_settings: SettingsFactory
    ) -> None:
        records = crawl(HubClient(hub_settings(crawl_builder_fallback=False)))
        assert records["fixture/imagefolder-beans"].skip_reason == "no_labels"
        assert not fake_hub.requests("/resolve/")

    def test_huge_label_sets_are_skipped(
        self, fake_hub: FakeHub, hub_settings: SettingsFactory
    ) -> None:
        names = [f"class {i}" for i in range(6000)]
        fake_hub.add(
            FakeDataset(
                id="big/card",
                sha=sha_of("c"),
                card_data={"dataset_info": card_info({"label": names}, {})},
            ),
            FakeDataset(
                id="big/viewer", sha=sha_of("v"), viewer_info=viewer_body({"label": names}, {})
            ),
        )
        records = crawl(HubClient(hub_settings(max_labels=5000, crawl_builder_fallback=False)))
        for dataset_id in ("big/card", "big/viewer"):
            assert (records[dataset_id].skip_reason, records[dataset_id].labels) == (
                "too_many_labels",
                (),
            )
        assert records["uoft-cs/cifar100"].status == "ok"

    def test_long_and_hostile_label_text_is_bounded(
        self, fake_hub: FakeHub, hub_settings: SettingsFactory
    ) -> None:
        names = ["<img src=x onerror=alert(1)>", "a" * 10_000, "tab\there\x00"]
        fake_hub.add(
            FakeDataset(
                id="evil/labels",
                sha=sha_of("e"),
                card_data={"dataset_info": card_info({"label": names}, {})},
            )
        )
        record = crawl(HubClient(hub_settings()))["evil/labels"]
        assert (
            record.labels[0] == "<img src=x onerror=alert(1)>"
        )  # kept as text; the page escapes it
        assert len(record.labels[1]) == 200
        assert record.labels[2] == "tab here"
