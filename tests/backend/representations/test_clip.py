"""CLIP: a clear error without weights; a real run only where the weights are cached."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from backend.config import Settings
from backend.errors import RepresentationUnavailable
from backend.representations.clip import ClipRepresenter
from backend.representations.images import image_urls_from_first_rows

ROOT = Path(__file__).resolve().parents[3]
FIRST_ROWS = (
    ROOT.parent
    / "shared/data/hf/api_examples/datasets_server_first_rows_huggan_horse2zebra_image.json"
)


def _weights_cached(name: str) -> bool:
    try:
        import PIL  # noqa: F401
        from huggingface_hub import try_to_load_from_cache
    except ImportError:
        return False
    return isinstance(try_to_load_from_cache(name, "config.json"), str)


def test_missing_weights_raise_a_clear_error() -> None:
    rep = ClipRepresenter("no-such-org/no-such-clip", local_files_only=True)
    with pytest.raises(RepresentationUnavailable, match=r"(?s)cannot be loaded here.*label-text"):
        rep.dataset_vectors([("a/x", ["cat"])])


def test_version_names_model_images_and_cap() -> None:
    rep = ClipRepresenter("org/clip", image_source=lambda _d, _k: [], images_per_dataset=4)
    assert rep.version == "clip:org/clip;images=4;cap=512"
    assert ClipRepresenter("org/clip").version == "clip:org/clip;images=0;cap=512"
    with pytest.raises(ValueError, match="images_per_dataset"):
        ClipRepresenter("org/clip", images_per_dataset=-1)


def test_first_rows_image_urls_from_a_hand_written_answer() -> None:
    payload = {
        "features": [
            {"feature_idx": 0, "name": "label", "type": {"_type": "ClassLabel"}},
            {"feature_idx": 1, "name": "img", "type": {"_type": "Image"}},
        ],
        "rows": [
            {"row_idx": i, "row": {"label": 0, "img": {"src": f"https://x/{i}.jpg"}}}
            for i in range(5)
        ]
        + [{"row_idx": 9, "row": {"img": {"src": "javascript:alert(1)"}}}],
    }
    assert image_urls_from_first_rows(payload, 3) == [
        "https://x/0.jpg",
        "https://x/1.jpg",
        "https://x/2.jpg",
    ]
    assert image_urls_from_first_rows({"features": [], "rows": []}, 3) == []


@pytest.mark.shared_data
def test_first_rows_image_urls_from_the_viewer_example() -> None:
    if not FIRST_ROWS.exists():
        pytest.skip("../shared/data is absent")
    urls = image_urls_from_first_rows(json.loads(FIRST_ROWS.read_text()), 2)
    assert len(urls) == 2 and all("imageA" in u for u in urls)


@pytest.mark.skipif(
    not _weights_cached(Settings().clip_model), reason="CLIP weights are not cached here"
)
def test_clip_vectors_from_labels_and_images() -> None:
    from PIL import Image

    images = [Image.new("RGB", (64, 64), color) for color in ("red", "green")]
    rep = ClipRepresenter(
        Settings().clip_model,
        image_source=lambda _d, k: images[:k],
        images_per_dataset=2,
        local_files_only=True,
    )
    (vec,) = rep.dataset_vectors([("a/x", ["cat", "dog"])])
    assert vec.ndim == 1 and vec.size % 2 == 0 and np.isfinite(vec).all()
    text_only = ClipRepresenter(Settings().clip_model, local_files_only=True)
    assert not np.allclose(text_only.dataset_vectors([("a/x", ["cat", "dog"])])[0], vec)
