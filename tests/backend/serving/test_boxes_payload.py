"""The `/boxes` body: rounding, ETag comparison, deterministic gzip."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime

import numpy as np
import pytest

from backend.db.repository import MapRecord
from backend.serving.boxes_payload import (
    PayloadCache,
    build_payload,
    corner_decimals,
    etag_matches,
)
from backend.serving.labels import LabelIndex
from backend.serving.map_store import LoadedMap
from models.ranking import BoxIndex


def _loaded(lo: np.ndarray, hi: np.ndarray, status: str = "published") -> LoadedMap:
    n = lo.shape[0]
    record = MapRecord(
        id=7, relation="containment", dim=lo.shape[1], representation="label-text",
        status=status, params={"beta": 10.0}, metrics={"val_f1": 0.5}, error=None,  # type: ignore[arg-type]
        num_boxes=n, has_checkpoint=True, created_at=datetime(2025, 1, 1, tzinfo=UTC),
        published_at=None,
    )  # fmt: skip
    ids = tuple(f"o/d{i}" for i in range(n))
    return LoadedMap(
        record=record, ids=ids, index={d: i for i, d in enumerate(ids)},
        boxes=BoxIndex.build(lo, hi, 10.0, None),
        num_labels=np.arange(n), num_examples=np.where(np.arange(n) % 2 == 0, -1, 100),
        downloads=np.arange(n)[::-1], licenses=tuple("mit" if i % 3 else None for i in range(n)),
        measured=np.ones(n, bool), labels=LabelIndex([()] * n),
    )  # fmt: skip


@pytest.mark.parametrize(("extent", "decimals"), [(1.0, 5), (10.0, 4), (0.01, 7), (2500.0, 2)])
def test_corner_resolution_is_1e5_of_the_extent(extent: float, decimals: int) -> None:
    lo = np.zeros((2, 2))
    hi = np.full((2, 2), extent)
    assert corner_decimals(lo, hi) == decimals


def test_payload_roundtrip_and_compactness() -> None:
    rng = np.random.default_rng(0)
    lo = rng.normal(size=(1000, 2)).astype(np.float32)
    hi = lo + rng.uniform(0.01, 1, size=(1000, 2)).astype(np.float32)
    loaded = _loaded(lo, hi)
    payload = build_payload(loaded.record, loaded)
    body = json.loads(payload.body)
    assert json.loads(gzip.decompress(payload.gzipped)) == body
    assert body["map"]["id"] == 7 and len(body["ids"]) == 1000
    extent = float(hi.max() - lo.min())
    np.testing.assert_allclose(body["lo"], lo, atol=extent * 1e-5)
    assert body["num_examples"][:2] == [None, 100]
    assert body["licenses"] == ["mit"] and body["license"][:3] == [None, 0, 0]
    assert len(payload.gzipped) < len(payload.body) / 2
    again = build_payload(loaded.record, loaded)
    assert (again.gzipped, again.etag) == (payload.gzipped, payload.etag)  # deterministic


def test_payload_cache_keys_on_the_map_state() -> None:
    lo = np.zeros((3, 2), np.float32)
    published = _loaded(lo, lo + 1)
    retired = _loaded(lo, lo + 1, status="retired")
    cache = PayloadCache(max_items=2)
    first = cache.get(published.record, published)
    assert cache.get(published.record, published) is first
    other = cache.get(retired.record, retired)
    assert other.etag != first.etag and json.loads(other.body)["map"]["status"] == "retired"


@pytest.mark.parametrize(
    ("header", "matches"),
    [
        (None, False),
        ("", False),
        ('"abc"', True),
        ('W/"abc"', True),
        ('"x", "abc"', True),
        ('"abcd"', False),
        ("*", True),
    ],
)
def test_if_none_match(header: str | None, matches: bool) -> None:
    assert etag_matches(header, '"abc"') is matches
