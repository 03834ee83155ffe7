"""Pure feature builders: a dataset's vector from its label embeddings."""

from __future__ import annotations

import numpy as np


def mean_var_vector(label_embeddings: np.ndarray) -> np.ndarray:
    """The dataset vector `[mean; variance]` over its labels' embeddings.

    Args:
        label_embeddings: `(n_labels, d)` array, `n_labels >= 1`.

    Returns:
        `(2 * d,)` float32 array. A single-label dataset has zero variance.

    Raises:
        ValueError: if the array is not 2-D or has no rows.
    """
    if label_embeddings.ndim != 2 or label_embeddings.shape[0] == 0:
        raise ValueError(f"expected a non-empty (n, d) array, got shape {label_embeddings.shape}")
    emb = label_embeddings.astype(np.float64, copy=False)
    return np.concatenate([emb.mean(axis=0), emb.var(axis=0)]).astype(np.float32)
