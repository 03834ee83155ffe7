"""Node features for the hierarchy benchmark: the `label-text` `[mean; variance]` vectors."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from models.features import mean_var_vector

if TYPE_CHECKING:
    from backend.representations.label_text import LabelTextEmbedder
    from benchmarks.hierarchy.graph import Hierarchy


def node_features(h: Hierarchy, embedder: LabelTextEmbedder) -> np.ndarray:
    """`(N, 2·384)` float32: each node's `[mean; variance]` over its labels' MiniLM embeddings.

    All distinct label texts are embedded in one batch (cached on disk by the embedder), then
    each node's vector is built from its rows.
    """
    texts = sorted({t for node in range(h.size) for t in h.label_texts(node)})
    row = {t: k for k, t in enumerate(texts)}
    emb = embedder.embed_labels(texts)
    return np.stack(
        [mean_var_vector(emb[[row[t] for t in h.label_texts(node)]]) for node in range(h.size)]
    )
