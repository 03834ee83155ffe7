"""The label embedder the server uses to place unseen label lists.

Strangers choose the labels sent to `/api/place`, so their vectors must not grow the shared
disk cache without bound: this cache reads the disk cache (labels of crawled datasets are
there already) and keeps new vectors in a bounded in-memory LRU only.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from backend.representations.embedding_cache import EmbeddingCache
from backend.representations.label_text import LabelTextEmbedder

_MAX_MEMORY_VECTORS = 10_000  # ~15 MB of 384-d float32


class ReadThroughEmbeddingCache(EmbeddingCache):
    """Reads `path`; writes go to a bounded in-memory LRU, never to disk."""

    def __init__(self, path: Path | None, max_vectors: int = _MAX_MEMORY_VECTORS) -> None:
        super().__init__(path)
        self._max_vectors = max_vectors
        self._memory: OrderedDict[tuple[str, str], np.ndarray] = OrderedDict()
        self._memory_lock = threading.Lock()

    def get_many(self, model: str, texts: Sequence[str]) -> dict[str, np.ndarray]:
        found: dict[str, np.ndarray] = {}
        with self._memory_lock:
            for text in dict.fromkeys(texts):
                vector = self._memory.get((model, text))
                if vector is not None:
                    self._memory.move_to_end((model, text))
                    found[text] = vector
        rest = [t for t in texts if t not in found]
        if rest:
            found.update(super().get_many(model, rest))
        return found

    def put_many(self, model: str, items: dict[str, np.ndarray]) -> None:
        with self._memory_lock:
            for text, vector in items.items():
                self._memory[(model, text)] = np.asarray(vector, dtype=np.float32)
                self._memory.move_to_end((model, text))
            while len(self._memory) > self._max_vectors:
                self._memory.popitem(last=False)


def placement_embedder(cache_dir: Path) -> LabelTextEmbedder:
    """A MiniLM embedder over the shared disk cache that never writes to it."""
    return LabelTextEmbedder(ReadThroughEmbeddingCache(cache_dir / "embeddings.sqlite"))
