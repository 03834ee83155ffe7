"""CLIP image features on a tiny random-weight CLIP: shapes, batching, the content-hash cache."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from backend.config import Settings
from backend.errors import RepresentationUnavailable
from backend.representations.clip_images import ClipImageEmbedder
from backend.representations.embedding_cache import EmbeddingCache


def _images() -> list[Image.Image]:
    colors = [(250, 0, 0), (0, 250, 0), (0, 0, 250), (250, 250, 0), (0, 250, 250)]
    return [Image.new("RGB", (40, 30), c) for c in colors]


def test_embeddings_are_unit_rows_and_batching_does_not_change_them(clip_dir: Path) -> None:
    one_batch = ClipImageEmbedder(str(clip_dir), device="cpu", local_files_only=True)
    small_batches = ClipImageEmbedder(
        str(clip_dir), device="cpu", batch_size=2, local_files_only=True
    )
    a = one_batch.embed(_images())
    b = small_batches.embed(_images())
    assert a.shape == (5, 8) and a.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(a, axis=1), 1.0, rtol=1e-5)
    np.testing.assert_allclose(a, b, atol=1e-5)
    assert not np.allclose(a[0], a[1])  # different colours, different features
    assert one_batch.version == f"clip-image:{clip_dir}"


def test_the_cache_serves_known_digests_without_the_model(clip_dir: Path, tmp_path: Path) -> None:
    cache = EmbeddingCache(tmp_path / "images.sqlite")
    first = ClipImageEmbedder(str(clip_dir), cache=cache, device="cpu", local_files_only=True)
    images = _images()
    items = [(f"digest-{i}", image) for i, image in enumerate(images)]
    items.append(("digest-0", images[0]))  # the same content twice is embedded once
    vectors = first.embed_by_digest(items)
    assert vectors.shape == (6, 8) and first.embedded == 5
    np.testing.assert_array_equal(vectors[0], vectors[5])
    again = ClipImageEmbedder(str(clip_dir), cache=cache, device="cpu", local_files_only=True)
    cached = again.embed_by_digest([(f"digest-{i}", None) for i in range(5)])
    assert again.embedded == 0 and again.is_cached("digest-3") and not again.is_cached("x")
    np.testing.assert_allclose(cached, vectors[:5])
    with pytest.raises(KeyError, match="neither cached"):
        again.embed_by_digest([("unknown", None)])


def test_missing_weights_raise_a_clear_error(tmp_path: Path) -> None:
    embedder = ClipImageEmbedder(str(tmp_path / "nothing"), device="cpu", local_files_only=True)
    with pytest.raises(RepresentationUnavailable, match="cannot be loaded here"):
        embedder.load()
    with pytest.raises(ValueError, match="batch_size"):
        ClipImageEmbedder("x", batch_size=0)


def _weights_cached(name: str) -> bool:
    from huggingface_hub import try_to_load_from_cache

    return isinstance(try_to_load_from_cache(name, "config.json"), str)


@pytest.mark.skipif(
    not _weights_cached(Settings().clip_model), reason="CLIP weights are not cached here"
)
def test_real_clip_weights_embed_images_by_colour() -> None:
    embedder = ClipImageEmbedder(Settings().clip_model, device="auto", local_files_only=True)
    vectors = embedder.embed(_images()[:3])
    assert vectors.shape[0] == 3 and vectors.shape[1] >= 256
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-4)
    assert not np.allclose(vectors[0], vectors[1], atol=1e-3)
