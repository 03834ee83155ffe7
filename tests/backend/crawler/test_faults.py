"""Faults injected by the fake Hub: 429 with Retry-After, 5xx, timeouts, malformed JSON, bad items.

Waiting is asserted on what the server saw (the gap between a 429 and the retry) and on the waits
the client recorded, never on how fast anything ran.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from backend.config import Settings
from backend.crawler import HubClient, viewer
from backend.errors import CrawlError
from backend.records import DatasetRecord
from tests.fakehub import FakeHub, Fault, RateLimit
from tests.fakehub_catalog import FakeDataset, card_info, sha_of, synthetic_catalog
from tests.fakehub_fixtures import SleepRecorder

SettingsFactory = Callable[..., Settings]
VIEWER = r"^/viewer/info$"
SNACKS = "dataset=Matthijs/snacks"


def crawl(client: HubClient) -> dict[str, DatasetRecord]:
    return {r.id: r for r in client.resolve_many(client.list_datasets())}


def snacks_calls(hub: FakeHub) -> list[int]:
    return [r.status for r in hub.requests(VIEWER) if r.query["dataset"] == ["Matthijs/snacks"]]


class TestViewerRetries:
    def test_429_waits_at_least_retry_after(
        self, fake_hub: FakeHub, hub_settings: SettingsFactory
    ) -> None:
        fake_hub.faults.append(Fault(path=VIEWER, query=SNACKS, status=429, retry_after="1"))
        sleep = SleepRecorder()
        client = HubClient(
            hub_settings(crawl_builder_fallback=False, crawl_concurrency=1), sleep=sleep
        )
        records = crawl(client)
        assert records["Matthijs/snacks"].status == "ok"
        throttled, retried = fake_hub.requests(VIEWER)[:2]
        assert throttled.status == 429 and retried.status == 200
        assert retried.started - throttled.ended >= 1.0
        assert len(sleep.waits) == 1 and sleep.waits[0] >= 1.0
        assert client.stats().retries == 1

    def test_http_date_retry_after_is_honoured(
        self, fake_hub: FakeHub, hub_settings: SettingsFactory
    ) -> None:
        import time
        from email.utils import formatdate

        fake_hub.faults.append(
            Fault(
                path=VIEWER,
                query=SNACKS,
                status=503,
                retry_after=formatdate(time.time() + 2, usegmt=True),
            )
        )
        sleep = SleepRecorder()
        crawl(HubClient(hub_settings(crawl_builder_fallback=False), sleep=sleep))
        assert len(sleep.waits) == 1 and sleep.waits[0] >= 0.9  # a date has 1 s resolution

    def test_5xx_is_retried_with_growing_backoff(
        self, fake_hub: FakeHub, hub_settings: SettingsFactory
    ) -> None:
        fake_hub.faults.append(Fault(path=VIEWER, query=SNACKS, status=502, times=2))
        sleep = SleepRecorder()
        records = crawl(
            HubClient(hub_settings(crawl_builder_fallback=False, crawl_backoff_s=0.2), sleep=sleep)
        )
        assert records["Matthijs/snacks"].status == "ok"
        assert snacks_calls(fake_hub) == [502, 502, 200]
        first, second = sleep.waits
        assert 0.1 <= first <= 0.2 and 0.2 <= second <= 0.4  # equal jitter around 0.2·2^k

    def test_a_dataset_that_keeps_failing_is_marked_failed_and_the_crawl_goes_on(
        self, fake_hub: FakeHub, hub_settings: SettingsFactory
    ) -> None:
        fake_hub.faults.append(Fault(path=VIEWER, query=SNACKS, status=500, times=None))
        client = HubClient(hub_settings(crawl_builder_fallback=False, crawl_max_retries=2))
        records = crawl(client)
        failed = {i for i, r in records.items() if r.status == "failed"}
        assert failed == {"Matthijs/snacks"}
        snacks = records["Matthijs/snacks"]
        assert snacks.sha is None and "HTTP 500" in (snacks.error or "")
        assert snacks_calls(fake_hub) == [500, 500, 500]  # the try plus two retries
        assert records["uoft-cs/cifar10"].status == "ok" and len(records) == 15

    def test_timeouts_are_retried(self, fake_hub: FakeHub, hub_settings: SettingsFactory) -> None:
        fake_hub.faults.append(Fault(path=VIEWER, query=SNACKS, delay_s=3.0))
        client = HubClient(hub_settings(crawl_builder_fallback=False, http_timeout_s=0.5))
        assert crawl(client)["Matthijs/snacks"].status == "ok"
        assert client.stats().retries == 1


class TestMalformed:
    def test_malformed_viewer_json_once_is_retried(
        self, fake_hub: FakeHub, hub_settings: SettingsFactory
    ) -> None:
        fake_hub.faults.append(Fault(path=VIEWER, query=SNACKS, malformed=True))
        assert (
            crawl(HubClient(hub_settings(crawl_builder_fallback=False)))["Matthijs/snacks"].status
            == "ok"
        )

    def test_malformed_viewer_json_always_fails_the_dataset(
        self, fake_hub: FakeHub, hub_settings: SettingsFactory
    ) -> None:
        fake_hub.faults.append(Fault(path=VIEWER, query=SNACKS, malformed=True, times=None))
        record = crawl(HubClient(hub_settings(crawl_builder_fallback=False)))["Matthijs/snacks"]
        assert record.status == "failed" and "malformed JSON" in (record.error or "")

    def test_oversized_viewer_body_is_refused(
        self, fake_hub: FakeHub, hub_settings: SettingsFactory, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(viewer, "MAX_VIEWER_BYTES", 200)
        record = crawl(HubClient(hub_settings(crawl_builder_fallback=False)))["Matthijs/snacks"]
        assert record.status == "failed" and "exceeds 200" in (record.error or "")

    def test_malformed_listing_page_is_read_again(
        self, fake_hub: FakeHub, hub_settings: SettingsFactory
    ) -> None:
        fake_hub.faults.append(Fault(path=r"^/api/datasets$", malformed=True))
        ids = [raw["id"] for raw in HubClient(hub_settings()).list_datasets()]
        assert sorted(ids) == sorted(fake_hub.datasets) and len(ids) == len(set(ids))

    def test_a_card_the_library_cannot_read_does_not_stop_the_listing(
        self, fake_hub: FakeHub, hub_settings: SettingsFactory
    ) -> None:
        # huggingface_hub builds DatasetCardData(**cardData, ignore_metadata_errors=True): a card
        # with that key raises TypeError inside list_datasets' generator.
        card = {
            "ignore_metadata_errors": True,
            "dataset_info": card_info({"label": ["a", "b"]}, {}),
        }
        fake_hub.add(FakeDataset(id="odd/card", sha=sha_of("odd"), card_data=card, downloads=5_000))
        records = crawl(HubClient(hub_settings(crawl_builder_fallback=False)))
        assert len(records) == 16
        assert records["odd/card"].labels == ("a", "b")


class TestListingFaults:
    def test_listing_429_honours_retry_after(
        self, fake_hub: FakeHub, hub_settings: SettingsFactory
    ) -> None:
        fake_hub.faults.append(Fault(path=r"^/api/datasets$", status=429, retry_after="1"))
        ids = [raw["id"] for raw in HubClient(hub_settings()).list_datasets()]
        assert len(ids) == 15
        throttled, retried = fake_hub.requests(r"^/api/datasets$")[:2]
        assert throttled.status == 429 and retried.started - throttled.ended >= 1.0

    def test_listing_timeout_is_bounded_and_retried(
        self, fake_hub: FakeHub, hub_settings: SettingsFactory
    ) -> None:
        # The library pages with timeout=None; our hook bounds it, so a stalled page is retried.
        fake_hub.faults.append(Fault(path=r"^/api/datasets$", delay_s=5.0))
        ids = [
            raw["id"] for raw in HubClient(hub_settings(http_timeout_s=0.5)).list_datasets(limit=2)
        ]
        assert len(ids) == 2
        assert fake_hub.arrivals.count(("GET", "/api/datasets")) == 2

    def test_a_refused_listing_raises_crawl_error(
        self, fake_hub: FakeHub, hub_settings: SettingsFactory
    ) -> None:
        fake_hub.faults.append(Fault(path=r"^/api/datasets$", status=403, times=None))
        with pytest.raises(CrawlError, match="listing failed after 0 datasets"):
            list(HubClient(hub_settings()).list_datasets())

    def test_rate_limit_headers_pause_before_the_quota_runs_out(
        self, fake_hub: FakeHub, hub_settings: SettingsFactory
    ) -> None:
        # Four threads look labels up in the viewer while the listing pages on: the gate must
        # count requests in flight against the announced quota, or some come back 429.
        catalog = synthetic_catalog(20, viewer_fraction=0.8, skipped_fraction=0)
        fake_hub.datasets = {d.id: d for d in catalog}
        fake_hub.page_size = 5
        fake_hub.rate_limit = RateLimit(quota=6, window_s=1)
        client = HubClient(hub_settings(crawl_concurrency=4))
        records = crawl(client)
        assert len(records) == 20 and all(r.status == "ok" for r in records.values())
        assert [r.path for r in fake_hub.log if r.status == 429] == []
        assert client.stats().throttled_s > 0
