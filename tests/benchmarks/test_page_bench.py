"""The page benchmark's synthetic map is a valid API payload of the requested size."""

from __future__ import annotations

import pytest

from backend.schemas import MapBoxesPublic
from benchmarks.page import synthetic_map


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
