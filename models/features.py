"""Pure feature builders: a dataset's vector from its label embeddings."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

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


def cap_labels(labels: Sequence[str], cap: int) -> list[str]:
    """At most `cap` of `labels`, chosen deterministically, in their original order.

    A set over the cap keeps the labels whose BLAKE2b digest is smallest: the choice depends
    only on the label texts (not on order or on a random seed), spreads evenly over the set,
    and a label added or removed changes the sample by at most one label.

    Raises:
        ValueError: if `cap` < 1.
    """
    if cap < 1:
        raise ValueError(f"cap must be >= 1, got {cap}")
    if len(labels) <= cap:
        return list(labels)
    digests = [hashlib.blake2b(label.encode("utf-8"), digest_size=8).digest() for label in labels]
    keep = sorted(sorted(range(len(labels)), key=lambda i: (digests[i], i))[:cap])
    return [labels[i] for i in keep]
