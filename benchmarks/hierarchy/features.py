"""Node features for the hierarchy benchmark, from the nodes' label texts.

- `node_features`: the `label-text` `[mean; variance]` vector of each node (every model);
- `label_table`: the per-label embeddings and each node's label set (the label-set model).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from models.features import mean_var_vector
from models.setbox import LabelSets

if TYPE_CHECKING:
    from backend.representations.label_text import LabelTextEmbedder
    from benchmarks.hierarchy.graph import Hierarchy


def label_table(h: Hierarchy, embedder: LabelTextEmbedder) -> tuple[np.ndarray, LabelSets]:
    """`(M, 384)` float32 embeddings of the M distinct label texts, and each node's rows.

    All distinct label texts are embedded in one batch (cached on disk by the embedder).
    """
    texts = sorted({t for node in range(h.size) for t in h.label_texts(node)})
    row = {t: k for k, t in enumerate(texts)}
    emb = np.asarray(embedder.embed_labels(texts), dtype=np.float32)
    sets = LabelSets.from_lists(
        # Repeated texts stay repeated: the [mean; variance] vector weights them as before,
        # and min/max are unaffected.
        [[row[t] for t in h.label_texts(node)] for node in range(h.size)]
    )
    return emb, sets


def node_features(h: Hierarchy, embedder: LabelTextEmbedder) -> np.ndarray:
    """`(N, 2·384)` float32: each node's `[mean; variance]` over its labels' MiniLM embeddings."""
    emb, sets = label_table(h, embedder)
    return features_from_table(emb, sets)


def features_from_table(emb: np.ndarray, sets: LabelSets) -> np.ndarray:
    """`[mean; variance]` of each set's rows of `emb`, stacked `(N, 2·E)`."""
    return np.stack(
        [mean_var_vector(emb[idx[m]]) for idx, m in zip(sets.index, sets.mask, strict=True)]
    )
