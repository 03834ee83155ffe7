"""`Boxes`: a validated, immutable batch of axis-aligned boxes as NumPy arrays."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


# eq=False: element-wise array equality has no single truth value.
@dataclass(frozen=True, eq=False)
class Boxes:
    """N boxes in R^d with corners `lo ≤ hi`.

    Attributes:
        lo: `(N, d)` float32 lower corners.
        hi: `(N, d)` float32 upper corners.

    Raises:
        ValueError: if the arrays are not `(N, d)` with `d ≥ 1`, differ in shape, hold
            non-finite values, or have `hi < lo` anywhere. The message carries the bad shape
            or the first offending row.
    """

    lo: np.ndarray
    hi: np.ndarray

    def __post_init__(self) -> None:
        lo = np.array(self.lo, dtype=np.float32, order="C", copy=True)
        hi = np.array(self.hi, dtype=np.float32, order="C", copy=True)
        if lo.ndim != 2 or lo.shape[1] < 1:
            raise ValueError(f"lo must have shape (N, d) with d >= 1, got {lo.shape}")
        if hi.shape != lo.shape:
            raise ValueError(f"hi must have the shape of lo {lo.shape}, got {hi.shape}")
        if not (np.isfinite(lo).all() and np.isfinite(hi).all()):
            raise ValueError(f"boxes of shape {lo.shape} hold non-finite corners")
        bad = np.flatnonzero((hi < lo).any(axis=1))
        if bad.size:
            row = int(bad[0])
            raise ValueError(
                f"hi < lo in {bad.size} of {lo.shape[0]} boxes, first at row {row}: "
                f"lo={lo[row].tolist()}, hi={hi[row].tolist()}"
            )
        lo.setflags(write=False)
        hi.setflags(write=False)
        # Frozen dataclass: store the validated, read-only float32 copies.
        object.__setattr__(self, "lo", lo)
        object.__setattr__(self, "hi", hi)

    @property
    def dim(self) -> int:
        """The box dimension d."""
        return int(self.lo.shape[1])

    @property
    def centers(self) -> np.ndarray:
        """`(N, d)` float32 box centres."""
        out: np.ndarray = (self.lo + self.hi) / np.float32(2.0)
        return out

    @property
    def sides(self) -> np.ndarray:
        """`(N, d)` float32 side lengths `hi - lo`."""
        out: np.ndarray = self.hi - self.lo
        return out

    def __len__(self) -> int:
        return int(self.lo.shape[0])
