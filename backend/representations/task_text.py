"""Features of a task without class labels: its description, in the `label-text` space.

A transfer map can hold imported tasks (Taskonomy's "depth", "edges"), which have no class
names, next to Hub datasets, which do; one network must place both. A labelled dataset keeps
its `label-text` vector `[mean; variance]` of prompted class-name embeddings. A task without
labels gets `[embedding of its text; 0]`: its description (or name) embedded with the same
MiniLM, as one "label" with no spread. Both halves then live in the same spaces, so the
network, and `POST /api/place`, treat the two kinds alike. The text is embedded unprompted:
"a photo of a {description}" would be noise for a sentence.

These vectors are stored as `label-text` representations whose `labels_hash` is the hash of
the text, so an edited description is recomputed and `place` finds them by dataset id.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from backend.representations.label_text import KIND, LabelTextEmbedder

__all__ = ["KIND", "TaskText", "task_text", "task_vectors", "text_hash"]

# MiniLM reads at most 256 word pieces; longer descriptions add nothing but cost.
MAX_TEXT_CHARS = 2000


@dataclass(frozen=True)
class TaskText:
    """A task's id and the text its features come from."""

    id: str
    text: str


def task_text(dataset_id: str, name: str | None, description: str | None) -> str:
    """`"Name: description"`, the description alone, the name alone, or the id's words."""
    name = (name or "").strip()
    description = (description or "").strip()
    if name and description:
        text = f"{name}: {description}"
    else:
        text = description or name or dataset_id.split("/")[-1].replace("_", " ").replace("-", " ")
    return text[:MAX_TEXT_CHARS]


def text_hash(text: str) -> str:
    """What a stored task vector was computed from (64 hex chars, like a labels hash)."""
    return hashlib.sha256(b"task-text\0" + text.encode("utf-8")).hexdigest()


def model_version(embedder: LabelTextEmbedder) -> str:
    """The stored model version of task vectors (distinct from class-name vectors)."""
    return f"{embedder.version};task-text"


def task_vectors(embedder: LabelTextEmbedder, texts: Sequence[str]) -> np.ndarray:
    """`(n, 768)` float32: `[unit text embedding; zeros]` per text."""
    emb = embedder.embed_texts(list(texts))
    return np.concatenate([emb, np.zeros_like(emb)], axis=1).astype(np.float32)
