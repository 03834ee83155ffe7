"""The CLIP timing's inputs and checks, with the tests' tiny CLIP."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from backend.crawler.images import decode_image
from benchmarks.transfer_estimate.clip_speed import run_clip_speed, synthetic_pngs
from tests.clip_fixtures import tiny_clip


def test_synthetic_pngs_are_distinct_images_of_varied_sizes() -> None:
    pngs = synthetic_pngs(6, seed=1)
    assert len({hashlib.sha256(p).hexdigest() for p in pngs}) == 6
    sizes = [decode_image(p).size for p in pngs]
    assert all(160 <= side <= 480 for size in sizes for side in size)
    assert len(set(sizes)) > 1
    assert synthetic_pngs(2, seed=1) == pngs[:2]


def test_clip_speed_embeds_every_image_of_a_local_model(tmp_path: Path) -> None:
    model = tiny_clip(tmp_path / "tiny")
    result = run_clip_speed(
        7, clip_model="unused/never-loaded", device="cpu", batch_size=3, model=str(model)
    )
    assert (result.images, result.batch_size, result.dim, result.device) == (7, 3, 8, "cpu")
    assert result.seconds > 0 and result.images_per_s == pytest.approx(7 / result.seconds)


def test_clip_speed_refuses_no_images() -> None:
    with pytest.raises(ValueError, match="images and batch_size must be >= 1"):
        run_clip_speed(0, clip_model="unused")
