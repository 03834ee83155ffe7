"""`GET /api/samples/{id}`: a stored dataset's images from the fake viewer's rows on
loopback, the CSP that lets the page load them, and the empty answer when the viewer is off."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from backend.config import Settings
from backend.crawler.rows import RowCell, RowsPage
from backend.jobs.crawl_job import run_crawl
from backend.main import create_app
from backend.serving.samples import MAX_SAMPLES, origin_of, pick_samples
from backend.web import PAGE_CSP, page_csp
from tests.fakehub import FakeHub
from tests.fakehub_fixtures import fake_hub, hub_settings
from tests.fakehub_rows import COLORS, SHAPES, rows_catalog

__all__ = ["fake_hub", "hub_settings"]

SettingsFactory = Callable[..., Settings]


@pytest.fixture
def crawled(fake_hub: FakeHub, hub_settings: SettingsFactory, db_url: str) -> Settings:
    fake_hub.datasets.clear()
    fake_hub.add(*rows_catalog())
    settings = hub_settings(database_url=db_url, crawl_builder_fallback=False, crawl_max_retries=1)
    run_crawl(settings)
    return settings


def test_a_stored_dataset_gets_images_of_several_classes_from_the_viewer(
    crawled: Settings, fake_hub: FakeHub
) -> None:
    with TestClient(create_app(crawled)) as client:
        body = client.get("/api/samples/rows/shapes").json()
        viewer = origin_of(crawled.viewer_endpoint)
        assert viewer is not None and body["note"] is None
        assert 4 <= len(body["items"]) <= MAX_SAMPLES
        assert all(origin_of(item["src"]) == viewer for item in body["items"])
        # Rows cycle through the classes; the strip shows each of them.
        assert {item["label"] for item in body["items"]} == set(SHAPES)
        # The page may load images from the viewer's host, and from nowhere else new.
        csp = client.get("/").headers["content-security-policy"]
        assert csp == page_csp((viewer,)) and f"img-src 'self' data: blob: {viewer};" in csp
        # Answers are cached: a second ask reads nothing from the viewer.
        before = len(fake_hub.requests("/viewer/rows"))
        assert client.get("/api/samples/rows/shapes").json() == body
        assert len(fake_hub.requests("/viewer/rows")) == before


def test_a_dataset_sorted_by_class_still_shows_every_class_in_its_first_rows() -> None:
    names = ("a", "b", "c")
    sorted_rows = [RowCell(i, i // 4, f"https://viewer.example/a/{i}.png") for i in range(12)]
    rows = (
        *sorted_rows,
        RowCell(12, 0, "https://elsewhere.example/x.png"),  # another host: never shown
        RowCell(13, None, None),
    )
    page = RowsPage("image", "label", names, rows, 12)
    picked = pick_samples(page, "https://viewer.example", k=5)
    assert [label for _, label in picked] == ["a", "b", "c", "a", "b"]
    assert all(src.startswith("https://viewer.example/") for src, _ in picked)


@pytest.mark.parametrize(
    ("dataset_id", "note"),
    [
        ("rows/no-images", "the viewer has no images for this dataset"),
        ("rows/gated", "the viewer has no rows for this dataset"),
        ("rows/down", "the dataset viewer could not be reached"),
    ],
)
def test_a_dataset_without_viewable_images_gets_an_empty_strip_and_why(
    crawled: Settings, dataset_id: str, note: str
) -> None:
    with TestClient(create_app(crawled)) as client:
        body = client.get(f"/api/samples/{dataset_id}").json()
    assert body == {"dataset_id": dataset_id, "items": [], "note": note}


def test_unknown_datasets_are_never_asked_of_the_viewer(
    crawled: Settings, fake_hub: FakeHub
) -> None:
    before = len(fake_hub.requests("/viewer"))
    with TestClient(create_app(crawled)) as client:
        response = client.get("/api/samples/someone/not-stored")
        bad = client.get("/api/samples/..%2Fetc")
    assert response.status_code == 404 and response.json()["error"] == "not_found"
    assert bad.status_code in (404, 422)
    assert len(fake_hub.requests("/viewer")) == before


def test_with_sample_images_off_nothing_is_fetched_and_the_csp_is_the_page_s_own(
    crawled: Settings, fake_hub: FakeHub
) -> None:
    settings = crawled.model_copy(update={"sample_images": False})
    before = len(fake_hub.requests("/viewer"))
    with TestClient(create_app(settings)) as client:
        body = client.get("/api/samples/rows/colors").json()
        csp = client.get("/").headers["content-security-policy"]
    assert body == {"dataset_id": "rows/colors", "items": [], "note": "sample images are off"}
    assert csp == PAGE_CSP and COLORS
    assert len(fake_hub.requests("/viewer")) == before
