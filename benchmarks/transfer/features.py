"""Task features for the transfer benchmark: embedded descriptions, plus one-hot identity.

- `text`: the MiniLM embedding (unit length, 384-d) of each task's text ("Label: description").
- `id`: a one-hot identity per task. Only tasks the model has seen carry one: in the novel
  setting a held-out task's identity row is zero, since a novel task has no identity that
  training could have attached meaning to (a unit column never seen in training would also
  blow up under the baselines' standardization).
- `text+id` (the default): both, side by side.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from backend.representations.label_text import LabelTextEmbedder

FEATURE_SETS = ("text+id", "text", "id")


def text_features(texts: tuple[str, ...], embedder: LabelTextEmbedder) -> np.ndarray:
    """`(N, 384)` float32 unit embeddings of the task texts (cached on disk by the embedder)."""
    return embedder.embed_texts(list(texts))


def with_identity(
    text: np.ndarray, feature_set: str, held_out: np.ndarray | None = None
) -> np.ndarray:
    """The features of `feature_set` for every task, held-out tasks without identity.

    Args:
        text: `(N, E)` text embeddings.
        feature_set: one of `FEATURE_SETS`.
        held_out: task rows whose identity stays zero (novel tasks).

    Raises:
        ValueError: for an unknown feature set.
    """
    if feature_set not in FEATURE_SETS:
        raise ValueError(f"unknown feature set {feature_set!r}; expected one of {FEATURE_SETS}")
    if feature_set == "text":
        return text.astype(np.float32)
    identity = np.eye(text.shape[0], dtype=np.float32)
    if held_out is not None and held_out.size:
        identity[held_out] = 0.0
    if feature_set == "id":
        return identity
    return np.concatenate([text.astype(np.float32), identity], axis=1)
