"""`PairSet`: supervised ordered pairs `(i, j, y ≈ P(box_i ⊆ box_j))`, and fast target lookup."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# Bitmap size per listed key in `PairLookup` (~1.5% false "maybe listed" answers).
_BITS_PER_KEY = 64
_HASH_MULTIPLIER = np.uint64(0x9E3779B97F4A7C15)


# eq=False: element-wise array equality has no single truth value.
@dataclass(frozen=True, eq=False)
class PairSet:
    """Supervised ordered pairs over the rows of a feature matrix.

    Attributes:
        i: `(P,)` int row indices of the contained side A.
        j: `(P,)` int row indices of the container side B.
        y: `(P,)` float targets `≈ P(A_i ⊆ B_j)` in `[0, 1]`.
        closed_world: if True, every ordered pair of distinct nodes in the universe that is
            not listed has target 0 (containment maps list only their positives; the trainer
            samples the negatives). If False, only the listed pairs are supervised
            (benchmark masks, transfer matrices with missing entries).
        nodes: closed-world only: the universe of node rows. `None` means every row of the
            feature matrix passed to `fit`. Ignored when `closed_world` is False, where the
            universe is the set of rows that appear in a listed pair.

    Raises:
        ValueError: on mismatched lengths, negative or non-integer indices, or targets that
            are not finite values in `[0, 1]`.
    """

    i: np.ndarray
    j: np.ndarray
    y: np.ndarray
    closed_world: bool = False
    nodes: np.ndarray | None = None

    def __post_init__(self) -> None:
        i = np.asarray(self.i)
        j = np.asarray(self.j)
        y = np.asarray(self.y, dtype=np.float32)
        if i.ndim != 1 or i.shape != j.shape or i.shape != y.shape:
            raise ValueError(
                f"i, j and y must be 1-D of one length, got {i.shape}, {j.shape}, {y.shape}"
            )
        for name, idx in (("i", i), ("j", j)):
            if idx.size and not np.issubdtype(idx.dtype, np.integer):
                raise ValueError(f"{name} must hold integer indices, got dtype {idx.dtype}")
            if idx.size and idx.min() < 0:
                raise ValueError(f"{name} holds a negative index {int(idx.min())}")
        if y.size and not np.isfinite(y).all():
            raise ValueError(f"y must be finite, got {int((~np.isfinite(y)).sum())} NaN/inf")
        if y.size and not (y.min() >= 0.0 and y.max() <= 1.0):
            raise ValueError(f"y must be in [0, 1], got range [{y.min()}, {y.max()}]")
        object.__setattr__(self, "i", i.astype(np.int64))
        object.__setattr__(self, "j", j.astype(np.int64))
        object.__setattr__(self, "y", y)
        if self.nodes is not None:
            nodes = np.unique(np.asarray(self.nodes).astype(np.int64))
            if nodes.size and nodes.min() < 0:
                raise ValueError(f"nodes holds a negative index {int(nodes.min())}")
            object.__setattr__(self, "nodes", nodes)

    def __len__(self) -> int:
        return int(self.i.shape[0])

    def check_rows(self, n_rows: int) -> None:
        """Raise `ValueError` if any index is `≥ n_rows`."""
        for name, idx in (("i", self.i), ("j", self.j), ("nodes", self.nodes)):
            if idx is not None and idx.size and int(idx.max()) >= n_rows:
                raise ValueError(
                    f"{name} holds index {int(idx.max())} but the features have {n_rows} rows"
                )

    def universe(self, n_rows: int) -> np.ndarray:
        """Sorted unique node rows that take part in training (see `nodes`)."""
        listed = np.unique(np.concatenate([self.i, self.j]))
        if not self.closed_world:
            return listed
        base = np.arange(n_rows, dtype=np.int64) if self.nodes is None else self.nodes
        return np.union1d(base, listed)


class PairLookup:
    """Targets of arbitrary `(i, j)` queries against a listed set; unlisted pairs get 0.

    Keys `i·n + j` are sorted once, so each query is a binary search (no N² matrix).
    Duplicated listed pairs keep their last target.

    A hashed bitmap of the listed keys (a one-hash Bloom filter with ~64 bits per key, so
    it stays cache-sized) answers "certainly unlisted" first: random negatives are almost
    all unlisted, and a bit test is several times cheaper than a cache-missing binary
    search, which is then run only for the few queries whose bit is set.
    """

    def __init__(self, i: np.ndarray, j: np.ndarray, y: np.ndarray, n: int) -> None:
        keys = i.astype(np.int64) * n + j.astype(np.int64)
        # Reverse-stable unique keeps the last occurrence of a duplicated key.
        rev_keys = keys[::-1]
        uniq, first = np.unique(rev_keys, return_index=True)
        self._keys = uniq
        self._y = y[::-1][first].astype(np.float32)
        self._n = n
        self._shift = np.uint64(64 - max(10, int(uniq.size * _BITS_PER_KEY).bit_length()))
        self._bits = np.zeros(1 << (64 - int(self._shift)), dtype=bool)
        self._bits[self._slots(uniq)] = True

    def _slots(self, keys: np.ndarray) -> np.ndarray:
        # Multiplicative (Fibonacci) hashing: the top bits of key·φ·2⁶⁴, wrapping mod 2⁶⁴.
        return (keys.astype(np.uint64) * _HASH_MULTIPLIER) >> self._shift

    def __call__(self, i: np.ndarray, j: np.ndarray) -> np.ndarray:
        """`(Q,)` float32 targets of the query pairs."""
        keys = i.astype(np.int64) * self._n + j.astype(np.int64)
        out = np.zeros(keys.shape, dtype=np.float32)
        if self._keys.size == 0:
            return out
        maybe = np.flatnonzero(self._bits[self._slots(keys)])
        candidates = keys[maybe]
        pos = np.minimum(np.searchsorted(self._keys, candidates), self._keys.size - 1)
        hit = self._keys[pos] == candidates
        out[maybe[hit]] = self._y[pos[hit]]
        return out
