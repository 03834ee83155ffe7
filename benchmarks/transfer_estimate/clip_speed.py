"""How long the Hub job takes to turn 1,000 downloaded images into CLIP features.

The timed path is the job's own: each image's bytes are hashed and decoded by
`backend.crawler.sampler.to_sample` (the bounded decoder), then embedded by
`ClipImageEmbedder.embed_by_digest` (the processor's resize and crop, the image tower, the
projection, in batches of `T2B_IMAGE_FEATURES_BATCH_SIZE`), with no embedding cache, so every
image runs through the model. Only the downloads are left out.

The model is the configured CLIP when its weights are already in the local Hugging Face cache
(nothing is downloaded); otherwise a CLIP with ViT-B/32's image tower (transformers'
`CLIPVisionConfig` defaults: width 768, 12 layers, 32-pixel patches, 224-pixel input, 512-d
projection) and random weights: its cost is the same, whatever the weight values.
"""

from __future__ import annotations

import io
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from backend.crawler.sampler import to_sample
from backend.errors import RepresentationUnavailable
from backend.representations.clip_images import ClipImageEmbedder
from models.device import select_device

RANDOM_VIT_B32 = "random weights, ViT-B/32 architecture"


@dataclass(frozen=True)
class ClipSpeed:
    """Seconds to decode and embed `images` PNGs (`weights` says which model ran)."""

    weights: str
    device: str
    images: int
    batch_size: int
    dim: int
    seconds: float

    @property
    def images_per_s(self) -> float:
        return self.images / self.seconds

    @property
    def s_per_1000(self) -> float:
        return self.seconds / self.images * 1000

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "images_per_s": self.images_per_s, "s_per_1000": self.s_per_1000}


def synthetic_pngs(count: int, seed: int = 0) -> list[bytes]:
    """`count` PNG files of 160–480-pixel sides (crawled images come in all sizes), smooth
    colour fields plus noise, so they decode like photos and compress like them."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    out: list[bytes] = []
    for _ in range(count):
        height, width = (int(v) for v in rng.integers(160, 481, size=2))
        ramp = np.linspace(0, 1, width)[None, :, None] * rng.uniform(0, 255, size=3)
        field = ramp + np.linspace(0, 1, height)[:, None, None] * rng.uniform(-128, 128, size=3)
        pixels = np.clip(field + rng.normal(scale=12, size=(height, width, 3)), 0, 255)
        buffer = io.BytesIO()
        Image.fromarray(pixels.astype(np.uint8), "RGB").save(buffer, format="PNG")
        out.append(buffer.getvalue())
    return out


# A text tower as small as CLIP allows: image features never run it.
TINY_TEXT = {
    "vocab_size": 64,
    "hidden_size": 16,
    "intermediate_size": 32,
    "num_hidden_layers": 1,
    "num_attention_heads": 2,
    "bos_token_id": 0,
    "eos_token_id": 1,
    "pad_token_id": 1,
}


def save_random_clip(
    path: Path,
    *,
    text: dict[str, Any],
    vision: dict[str, Any],
    projection_dim: int,
    image_side: int = 224,
    seed: int = 0,
) -> Path:
    """Writes a random-weight CLIP of the given tower sizes, and an image processor that
    resizes and centre-crops to `image_side`, to `path`; returns it. Its compute cost is a
    real model's of the same sizes: weight values do not change it."""
    import torch
    from transformers import CLIPConfig, CLIPImageProcessor, CLIPModel

    torch.manual_seed(seed)
    config = CLIPConfig(text_config=text, vision_config=vision, projection_dim=projection_dim)
    CLIPModel(config).save_pretrained(path)
    CLIPImageProcessor(
        size={"shortest_edge": image_side},
        crop_size={"height": image_side, "width": image_side},
    ).save_pretrained(path)
    return path


def save_random_vit_b32(path: Path, *, seed: int = 0) -> Path:
    """A random-weight CLIP with ViT-B/32's image tower (`CLIPVisionConfig`'s defaults)."""
    return save_random_clip(path, text=TINY_TEXT, vision={}, projection_dim=512, seed=seed)


@contextmanager
def _model(
    model: str | None, clip_model: str, device: str, batch_size: int
) -> Iterator[tuple[ClipImageEmbedder, str]]:
    """`(embedder, weights description)`: `model` if given, else `clip_model` when cached
    here, else a random ViT-B/32 in a temporary folder."""
    if model is not None:
        embedder = ClipImageEmbedder(
            model, device=device, batch_size=batch_size, local_files_only=True
        )
        embedder.load()
        yield embedder, f"local weights {model}"
        return
    cached = ClipImageEmbedder(
        clip_model, device=device, batch_size=batch_size, local_files_only=True
    )
    try:
        cached.load()
    except RepresentationUnavailable:
        pass
    else:
        yield cached, f"cached weights {clip_model}"
        return
    with tempfile.TemporaryDirectory(prefix="t2b-vit-b32-") as folder:
        path = save_random_vit_b32(Path(folder))
        embedder = ClipImageEmbedder(
            str(path), device=device, batch_size=batch_size, local_files_only=True
        )
        embedder.load()
        yield embedder, RANDOM_VIT_B32


def run_clip_speed(
    images: int,
    *,
    clip_model: str,
    device: str = "auto",
    batch_size: int = 64,
    model: str | None = None,
) -> ClipSpeed:
    """Times decoding and embedding `images` synthetic PNGs (after one warm-up batch).

    Args:
        images: how many images to time.
        clip_model: the configured CLIP (`T2B_CLIP_MODEL`), used when cached here.
        device: "auto", "cpu", "cuda" or "mps".
        batch_size: images per forward pass, as the job's setting.
        model: a local CLIP folder to time instead (the tests' tiny model).

    Raises:
        ValueError: `images` or `batch_size` < 1.
        RepresentationUnavailable: `model` cannot be loaded.
    """
    import torch

    if images < 1 or batch_size < 1:
        raise ValueError(f"images and batch_size must be >= 1, got {images}, {batch_size}")
    data = synthetic_pngs(images)
    with _model(model, clip_model, device, batch_size) as (embedder, weights):
        where = select_device(device)
        warm = [to_sample(0, data[0], lambda _: False)]
        embedder.embed_by_digest([(s.sha256, s.image) for s in warm])

        def sync() -> None:
            if where.type == "cuda":
                torch.cuda.synchronize(where)

        sync()
        start = time.perf_counter()
        samples = [to_sample(0, png, lambda _: False) for png in data]
        vectors = embedder.embed_by_digest([(s.sha256, s.image) for s in samples])
        sync()
        seconds = time.perf_counter() - start
    # One unit vector per distinct image: the model really ran on each.
    assert len({s.sha256 for s in samples}) == images and vectors.shape[0] == images
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-3)
    return ClipSpeed(weights, str(where), images, batch_size, int(vectors.shape[1]), seconds)
