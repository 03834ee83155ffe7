"""The label-set box network: a dataset's box is the bounding box of its labels' points.

A small network `f: R^E → R^d` maps each label's embedding to a point; a dataset with label
set L gets the box `[min_{l∈L} f(e_l) - m, max_{l∈L} f(e_l) + m]`, with one learned margin
`m > 0` per axis shared by every box. If `L_A ⊆ L_B` then the box of A lies inside the box of
B *by construction* (a min over a superset is smaller, a max larger), so `P(A ⊆ B) = 1`
exactly under the hard intersection, for seen and unseen datasets alike. Training only has
to push the label points of non-ancestors out of each other's boxes.

With `temperature` set, min/max become the smooth `∓τ·logsumexp(∓f/τ)`. Adding terms to a
logsumexp can only increase it, so the smooth version keeps the exact subset property while
every label (not only the extreme one) gets a gradient.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

# softplus^-1(0.05): initial margin, small against the unit scale of the initial points.
_INITIAL_MARGIN = 0.05


@dataclass(frozen=True)
class LabelSets:
    """Variable-size label sets as a padded index matrix.

    Attributes:
        index: `(N, L)` int64 rows of a label-embedding table; padding entries are 0.
        mask: `(N, L)` bool, True for real entries; every row has at least one.
    """

    index: np.ndarray
    mask: np.ndarray

    def __post_init__(self) -> None:
        if self.index.ndim != 2 or self.index.shape != self.mask.shape:
            raise ValueError(
                f"index and mask must be (N, L) of one shape, got {self.index.shape} "
                f"and {self.mask.shape}"
            )
        if self.index.shape[0] and not self.mask.any(axis=1).all():
            raise ValueError("every label set needs at least one label")
        if (self.index < 0).any():
            raise ValueError("label indices must be >= 0")

    @classmethod
    def from_lists(cls, sets: Sequence[Sequence[int]]) -> LabelSets:
        """Pad lists of label-table rows.

        Raises:
            ValueError: on an empty set or a negative index.
        """
        width = max((len(s) for s in sets), default=1)
        index = np.zeros((len(sets), max(1, width)), dtype=np.int64)
        mask = np.zeros(index.shape, dtype=bool)
        for row, labels in enumerate(sets):
            index[row, : len(labels)] = np.asarray(labels, dtype=np.int64)
            mask[row, : len(labels)] = True
        return cls(index, mask)

    def __len__(self) -> int:
        return int(self.index.shape[0])

    def subset(self, rows: np.ndarray) -> LabelSets:
        """The sets of the given rows, in that order."""
        return LabelSets(self.index[rows], self.mask[rows])

    def max_label(self) -> int:
        """The largest label index in use (-1 when there are no sets)."""
        return int(self.index[self.mask].max(initial=-1))


@dataclass(frozen=True)
class SetBoxConfig:
    """Architecture of `SetBoxNet`.

    Attributes:
        in_dim: label-embedding dimension E.
        dim: box dimension d ≥ 1.
        hidden: widths of the point network's hidden layers.
        temperature: `None` for the hard min/max, else τ > 0 of the smooth version.
        seed: seeds the weight initialization.
        input_rank: if set, standardized embeddings are projected onto a stored `(in_dim,
            input_rank)` basis (see `set_feature_stats`) before the point network.
    """

    in_dim: int
    dim: int = 2
    hidden: tuple[int, ...] = (128,)
    temperature: float | None = None
    seed: int = 0
    input_rank: int | None = None

    def __post_init__(self) -> None:
        if self.in_dim < 1 or self.dim < 1:
            raise ValueError(f"in_dim and dim must be >= 1, got {self.in_dim} and {self.dim}")
        if any(h < 1 for h in self.hidden):
            raise ValueError(f"hidden widths must be >= 1, got {self.hidden}")
        t = self.temperature
        if t is not None and not (t > 0 and math.isfinite(t)):
            raise ValueError(f"temperature must be > 0 or None, got {t}")
        if self.input_rank is not None and not 1 <= self.input_rank <= self.in_dim:
            raise ValueError(f"input_rank must be in [1, {self.in_dim}], got {self.input_rank}")


class SetBoxNet(nn.Module):
    """Label embeddings `(M, E)` and label sets → boxes `(lo, hi)`, each `(N, d)`, `hi > lo`."""

    feature_mean: torch.Tensor
    feature_std: torch.Tensor
    feature_basis: torch.Tensor

    def __init__(self, config: SetBoxConfig) -> None:
        super().__init__()
        self.config = config
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(config.seed)
            layers: list[nn.Module] = []
            width = config.input_rank or config.in_dim
            for h in config.hidden:
                layers += [nn.Linear(width, h), nn.ReLU()]
                width = h
            layers.append(nn.Linear(width, config.dim))
            self.point = nn.Sequential(*layers)
            raw = math.log(math.expm1(_INITIAL_MARGIN))
            self.margin_logit = nn.Parameter(torch.full((config.dim,), raw))
        self.register_buffer("feature_mean", torch.zeros(config.in_dim))
        self.register_buffer("feature_std", torch.ones(config.in_dim))
        rank = config.input_rank
        basis = torch.eye(config.in_dim, rank) if rank is not None else torch.zeros(0)
        self.register_buffer("feature_basis", basis)

    def set_feature_stats(
        self, mean: torch.Tensor, std: torch.Tensor, basis: torch.Tensor | None = None
    ) -> None:
        """Store the input transform `((e - mean) / std) @ basis` (zero stds become 1).

        `basis` is `(in_dim, input_rank)` and required exactly when `input_rank` is set.
        """
        if mean.shape != (self.config.in_dim,) or std.shape != (self.config.in_dim,):
            raise ValueError(f"feature stats must have shape ({self.config.in_dim},)")
        rank = self.config.input_rank
        if (basis is None) != (rank is None):
            raise ValueError(f"a basis is required iff input_rank is set (input_rank={rank})")
        if basis is not None:
            if basis.shape != (self.config.in_dim, rank):
                raise ValueError(f"basis must be ({self.config.in_dim}, {rank}), got {basis.shape}")
            self.feature_basis.copy_(basis)
        ok = (std > 1e-12) & torch.isfinite(std)
        self.feature_mean.copy_(mean)
        self.feature_std.copy_(torch.where(ok, std, torch.ones_like(std)))

    def transform(self, emb: torch.Tensor) -> torch.Tensor:
        """The fixed input transform of `(M, E)` label embeddings (no trainable parameters)."""
        if emb.ndim != 2 or emb.shape[1] != self.config.in_dim:
            raise ValueError(f"expected (M, {self.config.in_dim}) embeddings, got {emb.shape}")
        z = (emb - self.feature_mean) / self.feature_std
        return z @ self.feature_basis if self.config.input_rank is not None else z

    def margin(self) -> torch.Tensor:
        """`(d,)` the margin added around every bounding box, > 0."""
        return F.softplus(self.margin_logit)

    def points(self, emb: torch.Tensor) -> torch.Tensor:
        """`(M, E)` label embeddings → `(M, d)` label points."""
        out: torch.Tensor = self.point(self.transform(emb))
        return out

    def boxes_from_points(
        self, points: torch.Tensor, index: torch.Tensor, mask: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Boxes of padded label sets (`index`, `mask`: `(N, L)`) over `(M, d)` points."""
        rows, cols = mask.nonzero(as_tuple=True)
        return self.boxes_from_members(points, rows, index[rows, cols], int(index.shape[0]))

    def boxes_from_members(
        self, points: torch.Tensor, rows: torch.Tensor, labels: torch.Tensor, n: int
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Boxes of `n` sets given as flat `(K,)` memberships: set `rows[k]` holds `labels[k]`.

        A flat segment min/max costs O(Σ|L|), not O(N · max|L|) as a padded one would (one
        set holding every label makes the padded matrix mostly padding). Every row in
        `0..n-1` must appear at least once.
        """
        g = points.index_select(0, labels)  # (K, d)
        d = g.shape[1]
        seg = rows[:, None].expand(-1, d)
        t = self.config.temperature
        if t is None:
            empty = g.new_zeros((n, d))
            lo = empty.scatter_reduce(0, seg, g, "amin", include_self=False)
            hi = empty.scatter_reduce(0, seg, g, "amax", include_self=False)
        else:
            lo = -_segment_logsumexp(-g / t, seg, n) * t
            hi = _segment_logsumexp(g / t, seg, n) * t
        m = self.margin()
        return lo - m, hi + m

    def single_box(self, emb: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """`(d,)` corners of the box of one set holding every row of `(M, E)` `emb`, M ≥ 1.

        What `forward` gives for a single set, with the same operations on the points (so
        the same values), minus its index bookkeeping: a served placement is one tiny set,
        where each extra tensor op costs about as much as the matrix products.
        """
        if self.config.temperature is not None:
            index = torch.arange(emb.shape[0], device=emb.device)[None]
            lo, hi = self(emb, index, torch.ones_like(index, dtype=torch.bool))
            return lo[0], hi[0]
        points = self.points(emb)
        m = self.margin()
        return points.amin(dim=0) - m, points.amax(dim=0) + m

    def forward(
        self, emb: torch.Tensor, index: torch.Tensor, mask: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Boxes of the label sets `(index, mask)` over label embeddings `emb`.

        Args:
            emb: `(M, E)` label embeddings.
            index: `(N, L)` int64 rows of `emb`.
            mask: `(N, L)` bool, True for real entries (each row has one at least).

        Returns:
            `(lo, hi)`, each `(N, d)`.
        """
        return self.boxes_from_points(self.points(emb), index, mask)


def _segment_logsumexp(v: torch.Tensor, seg: torch.Tensor, n: int) -> torch.Tensor:
    """`(n, d)` logsumexp of the `(K, d)` rows of `v` grouped by `seg` (stable: max-shifted)."""
    shift = v.new_zeros((n, v.shape[1])).scatter_reduce(0, seg, v, "amax", include_self=False)
    shift = shift.detach()  # any shift gives the same value; a constant one keeps autograd simple
    total = v.new_zeros((n, v.shape[1])).scatter_add(0, seg, torch.exp(v - shift.gather(0, seg)))
    return shift + torch.log(total)
