"""The page benchmark: its synthetic map is a valid API payload; returning visits render."""

from __future__ import annotations

import json

import pytest

from backend.schemas import MapBoxesPublic
from benchmarks.browser import chromium_available
from benchmarks.page import _responses, returning_render, serve_page, synthetic_map


def test_synthetic_map_is_a_valid_boxes_payload() -> None:
    payload = MapBoxesPublic.model_validate(synthetic_map(300, seed=1))
    assert len(payload.ids) == len(set(payload.ids)) == 300
    assert payload.map.size == 300
    assert all(
        h > lo
        for lows, highs in zip(payload.lo, payload.hi, strict=True)
        for lo, h in zip(lows, highs, strict=True)
    )
    assert synthetic_map(50, seed=2) == synthetic_map(50, seed=2)


def test_synthetic_map_refuses_an_empty_map() -> None:
    with pytest.raises(ValueError, match="n must be >= 1, got 0"):
        synthetic_map(0)


@pytest.mark.slow
@pytest.mark.skipif(not chromium_available(), reason="/usr/bin/chromium is not installed")
def test_returning_visits_render_from_a_persistent_profile() -> None:
    from playwright.sync_api import sync_playwright

    api: dict[str, str] = {}
    api.update({path: json.dumps(body) for path, body in _responses(synthetic_map(60)).items()})
    with serve_page(None, api) as base, sync_playwright() as playwright:
        ms = returning_render(base, playwright, visits=1)
    assert 0 < ms < 120_000


def test_the_baseline_is_served_with_the_full_bundle_and_the_branch_with_gl2d() -> None:
    import httpx

    from backend.web import FRONTEND_DIR

    with serve_page(FRONTEND_DIR, {}, legacy=True) as base:
        full = httpx.get(f"{base}/vendor/plotly.min.js", follow_redirects=True)
        module = httpx.get(f"{base}/js/app.js")
    assert full.status_code == 200
    assert b"gl2d" not in full.content[:200] and b"plotly.js v" in full.content[:200]
    assert module.headers.get("cache-control") is None  # revalidated, as before
    with serve_page(None, {}) as base:
        html = httpx.get(f"{base}/").text
    assert "/vendor/plotly-gl2d." in html and "plotly.min.js" not in html


def test_a_legacy_server_needs_its_folder() -> None:
    with pytest.raises(ValueError, match="legacy=True needs"), serve_page(None, {}, legacy=True):
        pass
