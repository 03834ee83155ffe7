"""CLIP image embeddings of sampled images, batched, cached by the sha256 of the image bytes.

The same weights as the `clip` representation (`T2B_CLIP_MODEL`), through their image tower
only, so no tokenizer is loaded. Embeddings are unit vectors (CLIP compares by cosine). The
cache is a SQLite file apart from the app database (derived data, safe to delete), keyed by
the embedder's version and the content hash: a re-run, or the same image in two datasets, is
embedded once.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from typing import Any

import numpy as np

from backend.representations.clip_weights import load_clip
from backend.representations.embedding_cache import EmbeddingCache

log = logging.getLogger(__name__)


def feature_model(model_name: str) -> str:
    """The name image features of `model_name` are stored under (`ClipImageEmbedder.version`)."""
    return f"clip-image:{model_name}"


class ClipImageEmbedder:
    """CLIP's image tower over PIL images.

    Args:
        model_name: Hub id or local directory of CLIP weights.
        cache: where embeddings are kept by content hash; None keeps nothing.
        device: "auto" (cuda > mps > cpu) or a torch device name.
        batch_size: images per forward pass.
        local_files_only: never try the network for weights (fail fast when not cached).
    """

    def __init__(
        self,
        model_name: str,
        *,
        cache: EmbeddingCache | None = None,
        device: str = "auto",
        batch_size: int = 64,
        local_files_only: bool = False,
    ) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        self._model_name = model_name
        self._cache = cache
        self._device_name = device
        self._batch_size = batch_size
        self._local_only = local_files_only
        self._lock = threading.Lock()
        self._loaded: tuple[Any, Any, Any] | None = None
        self.embedded = 0  # images run through the model (not served from the cache)

    @property
    def version(self) -> str:
        """Names the weights: cached or stored features of another version are not reused."""
        return feature_model(self._model_name)

    def _load(self) -> tuple[Any, Any, Any]:
        with self._lock:
            if self._loaded is None:
                from models.device import select_device

                device = select_device(self._device_name)
                model, processor = load_clip(
                    self._model_name, images_only=True, local_only=self._local_only
                )
                self._loaded = (model.to(device).eval(), processor, device)
            return self._loaded

    def load(self) -> None:
        """Loads the weights now, so a missing model fails before any network work.

        Raises:
            RepresentationUnavailable: the weights cannot be loaded here.
        """
        self._load()

    def embed(self, images: Sequence[Any]) -> np.ndarray:
        """`(n, d)` float32 unit embeddings of PIL images, `batch_size` at a time."""
        import torch

        model, processor, device = self._load()
        out: list[np.ndarray] = []
        with torch.inference_mode():
            for start in range(0, len(images), self._batch_size):
                batch = list(images[start : start + self._batch_size])
                inputs = processor(images=batch, return_tensors="pt").to(device)
                output = model.get_image_features(**inputs)
                # transformers 4 returns the projected tensor, 5 an output object holding it.
                feats = output if isinstance(output, torch.Tensor) else output.pooler_output
                feats = torch.nn.functional.normalize(feats.float(), dim=-1)
                out.append(feats.cpu().numpy().astype(np.float32))
        self.embedded += len(images)
        if not out:
            return np.zeros((0, 0), dtype=np.float32)
        return np.concatenate(out)

    def embed_by_digest(self, items: Sequence[tuple[str, Any | None]]) -> np.ndarray:
        """`(n, d)` embeddings of `(sha256, image or None)` items, in order.

        An item's image may be None only when its digest is cached (`is_cached`).

        Raises:
            KeyError: an item without an image whose digest is not cached.
        """
        digests = [digest for digest, _ in items]
        found = self._cache.get_many(self.version, digests) if self._cache is not None else {}
        missing: dict[str, Any] = {}
        for digest, image in items:
            if digest in found or digest in missing:
                continue
            if image is None:
                raise KeyError(f"image {digest} is neither cached nor given")
            missing[digest] = image
        if missing:
            vectors = self.embed(list(missing.values()))
            fresh = dict(zip(missing, vectors, strict=True))
            if self._cache is not None:
                self._cache.put_many(self.version, fresh)
            found.update(fresh)
        if not digests:
            return np.zeros((0, 0), dtype=np.float32)
        return np.stack([found[d] for d in digests]).astype(np.float32)

    def is_cached(self, digest: str) -> bool:
        """Whether an image of this sha256 is embedded in the cache."""
        return self._cache is not None and bool(self._cache.get_many(self.version, [digest]))
