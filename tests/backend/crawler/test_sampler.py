"""The image sampler against the fake viewer on 127.0.0.1: faults, spread pages, bounds."""

from __future__ import annotations

import random
from collections.abc import Callable

import pytest

from backend.config import Settings
from backend.crawler._retry import RetryPolicy
from backend.crawler.images import BrokenImage, download_image
from backend.crawler.sampler import RowsSampler, SamplerConfig
from tests.fakehub import FakeHub, Fault, RateLimit
from tests.fakehub_fixtures import SleepRecorder
from tests.fakehub_rows import FakeRows, rows_catalog, rows_dataset

SettingsFactory = Callable[..., Settings]


def _sampler(
    hub: FakeHub, *, token: str | None = None, per_class: int = 3, max_pages: int = 4
) -> tuple[RowsSampler, SleepRecorder]:
    sleep = SleepRecorder()
    config = SamplerConfig(
        viewer_endpoint=hub.viewer_url,
        hub_endpoint=hub.url,
        token=token,
        timeout_s=10.0,
        per_class=per_class,
        per_dataset=300,
        max_pages=max_pages,
        policy=RetryPolicy(2, base_s=0.01),
        concurrency=2,
        streaming_fallback=False,
    )
    return RowsSampler(config, sleep=sleep, rng=random.Random(0)), sleep


@pytest.fixture
def hub(fake_hub: FakeHub) -> FakeHub:
    fake_hub.datasets.clear()
    fake_hub.add(*rows_catalog())
    return fake_hub


def test_transient_viewer_and_image_errors_are_retried(hub: FakeHub) -> None:
    hub.faults += [
        Fault("^/viewer/splits$", status=429, retry_after="0"),
        Fault("^/viewer/rows$", status=503),
        Fault("^/viewer/assets/image.png$", status=502, query="row=3$"),
    ]
    sampler, sleep = _sampler(hub)
    sample = sampler.sample("rows/colors")
    assert sample.skip_reason is None
    assert len(sample.images) == 9 and sample.failed_images == 4  # the broken ones only
    assert len(sleep.waits) == 3
    assert len(hub.requests("^/viewer/rows$")) == 2


def test_malformed_answers_past_the_retries_skip_the_dataset(hub: FakeHub) -> None:
    hub.faults.append(Fault("^/viewer/splits$", malformed=True, times=None))
    sampler, _ = _sampler(hub)
    sample = sampler.sample("rows/colors")
    assert sample.skip_reason == "rows_unavailable" and sample.images == []
    assert len(hub.requests("^/viewer/splits$")) == 3  # the first try and two retries


def test_pages_spread_over_a_split_sorted_by_class(hub: FakeHub) -> None:
    five = ("a", "b", "c", "d", "e")
    hub.add(rows_dataset("rows/sorted", 1, FakeRows(10_000, five), five))
    sampler, _ = _sampler(hub, per_class=2, max_pages=8)
    sample = sampler.sample("rows/sorted")
    # 2,000 rows per class: only pages spread over the whole split reach every class.
    assert sorted({s.label for s in sample.images}) == [0, 1, 2, 3, 4]
    offsets = [int(r.query["offset"][0]) for r in hub.requests("^/viewer/rows$")]
    assert offsets[0] == 0 and len(offsets) <= 8 and max(offsets) > 5_000


def test_the_token_goes_to_the_viewer_but_never_to_image_urls(hub: FakeHub) -> None:
    sampler, _ = _sampler(hub, token="hf_secret")
    assert sampler.sample("rows/shapes").skip_reason is None
    assert {r.auth for r in hub.requests("^/viewer/(rows|splits)$")} == {"Bearer hf_secret"}
    assert {r.auth for r in hub.requests("^/viewer/assets/")} == {None}


def test_a_known_image_is_not_decoded(hub: FakeHub) -> None:
    sampler, _ = _sampler(hub)
    first = sampler.sample("rows/shapes")
    digests = {s.sha256 for s in first.images}
    again = sampler.sample("rows/shapes", known=digests.__contains__)
    assert {s.sha256 for s in again.images} == digests
    assert all(s.image is None for s in again.images)
    assert all(s.image is not None for s in first.images)


def test_image_bodies_are_bounded(hub: FakeHub) -> None:
    url = f"{hub.viewer_url}/assets/image.png?dataset=rows/shapes&row=1"
    assert download_image(url, timeout_s=5.0).startswith(b"\x89PNG")
    with pytest.raises(BrokenImage, match="exceeds 10"):
        download_image(url, timeout_s=5.0, max_bytes=10)
    with pytest.raises(BrokenImage, match="404"):
        download_image(
            f"{hub.viewer_url}/assets/image.png?dataset=rows/colors&row=21", timeout_s=5.0
        )
    with pytest.raises(BrokenImage, match="http"):
        download_image("file:///etc/passwd", timeout_s=5.0)


def test_labels_missing_from_the_rows_and_gated_datasets_have_reasons(hub: FakeHub) -> None:
    sampler, _ = _sampler(hub)
    assert sampler.sample("rows/no-labels").skip_reason == "no_label_column"
    assert sampler.sample("rows/no-images").skip_reason == "no_image_column"
    assert sampler.sample("rows/gated").skip_reason == "gated"
    assert sampler.sample("rows/missing").skip_reason == "not_found"
    assert sampler.sample("nobody/nothing").skip_reason == "not_found"
    assert sampler.sample("rows/tiny").skip_reason == "too_few_images"


def test_a_page_that_keeps_failing_costs_only_its_rows(hub: FakeHub) -> None:
    five = ("a", "b", "c", "d", "e")
    hub.add(rows_dataset("rows/sorted", 1, FakeRows(10_000, five), five))
    second = round(4 * (10_000 - 100) / 7)  # the second page read: the middle of the split
    hub.faults.append(Fault("^/viewer/rows$", status=500, times=None, query=f"offset={second}&"))
    sampler, _ = _sampler(hub, per_class=2, max_pages=8)
    sample = sampler.sample("rows/sorted")
    assert sample.skip_reason is None
    assert sorted({s.label for s in sample.images}) == [0, 1, 2, 3, 4]
    failed = [r for r in hub.requests("^/viewer/rows$") if r.query["offset"] == [str(second)]]
    assert len(failed) == 3 and all(r.status == 500 for r in failed)


def test_the_hosts_rate_limit_gate_holds_rows_and_image_requests(hub: FakeHub) -> None:
    # The sampler's requests go through the crawler's shared client: the gate reads the
    # announced quota and waits, so no request comes back 429.
    from backend.crawler import _http

    hub.rate_limit = RateLimit(quota=6, window_s=1)
    before = _http.STATE.counters()
    sampler, _ = _sampler(hub)
    sample = sampler.sample("rows/shapes")
    assert sample.skip_reason is None and len(sample.images) == 12
    assert [r.path for r in hub.log if r.status == 429] == []
    assert (_http.STATE.counters() - before).throttled_s > 0
