"""The box network: one shared MLP maps a feature vector to a box, so an unseen dataset is
placed by the same function that placed the seen ones.

`hi = lo + softplus(width)`, so `hi > lo` always and sides are not capped (the paper's
`sigmoid` capped every side at 1). Feature standardization lives in the module as buffers,
so a checkpoint places unseen datasets with exactly the transform used in training.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

# Initial width logit: softplus(1.0) ≈ 1.31, so initial boxes (lo ~ unit scale) overlap
# broadly and every pair starts with a useful containment gradient.
_INITIAL_WIDTH_LOGIT = 1.0


@dataclass
class BoxNetConfig:
    """Architecture of `BoxNet`.

    Attributes:
        in_dim: feature dimension D.
        dim: box dimension d ≥ 1.
        hidden: widths of the trunk (paper: D → 1024 → 256 → 128).
        batchnorm: BatchNorm after each ReLU, as in the paper.
        dropout: dropout after each hidden block (0 disables it).
        seed: seeds the weight initialization (independent of the global RNG).
        input_rank: if set, standardized features are projected onto a stored `(in_dim,
            input_rank)` basis before the trunk (see `set_feature_stats`); the first layer
            then has `input_rank` inputs instead of `in_dim`.
    """

    in_dim: int
    dim: int = 2
    hidden: tuple[int, ...] = (1024, 256, 128)
    batchnorm: bool = True
    dropout: float = 0.0
    seed: int = 0
    input_rank: int | None = None

    def __post_init__(self) -> None:
        if self.in_dim < 1:
            raise ValueError(f"in_dim must be >= 1, got {self.in_dim}")
        if self.dim < 1:
            raise ValueError(f"dim must be >= 1, got {self.dim}")
        self.hidden = tuple(int(h) for h in self.hidden)
        if any(h < 1 for h in self.hidden):
            raise ValueError(f"hidden widths must be >= 1, got {self.hidden}")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout}")
        if self.input_rank is not None and not 1 <= self.input_rank <= self.in_dim:
            raise ValueError(f"input_rank must be in [1, {self.in_dim}], got {self.input_rank}")


class BoxNet(nn.Module):
    """Features `(B, D)` → boxes `(lo, hi)`, each `(B, d)` with `hi > lo`.

    With BatchNorm, train mode needs B ≥ 2 (batch statistics); eval mode takes any B ≥ 1.
    """

    feature_mean: torch.Tensor
    feature_std: torch.Tensor
    feature_basis: torch.Tensor

    def __init__(self, config: BoxNetConfig) -> None:
        super().__init__()
        self.config = config
        # Seed locally so that building a net never perturbs (or depends on) global RNG state.
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(config.seed)
            layers: list[nn.Module] = []
            width = config.in_dim if config.input_rank is None else config.input_rank
            for h in config.hidden:
                layers += [nn.Linear(width, h), nn.ReLU()]
                if config.batchnorm:
                    layers.append(nn.BatchNorm1d(h))
                if config.dropout > 0:
                    layers.append(nn.Dropout(config.dropout))
                width = h
            self.trunk = nn.Sequential(*layers)
            self.head = nn.Linear(width, 2 * config.dim)
            with torch.no_grad():
                self.head.bias[config.dim :].fill_(_INITIAL_WIDTH_LOGIT)
        self.register_buffer("feature_mean", torch.zeros(config.in_dim))
        self.register_buffer("feature_std", torch.ones(config.in_dim))
        rank = config.in_dim if config.input_rank is None else config.input_rank
        # Without a rank the basis stays an unused placeholder (no identity matmul).
        basis = torch.eye(config.in_dim, rank) if config.input_rank is not None else torch.zeros(0)
        self.register_buffer("feature_basis", basis)

    def set_feature_stats(
        self, mean: torch.Tensor, std: torch.Tensor, basis: torch.Tensor | None = None
    ) -> None:
        """Store the input transform `((x - mean) / std) @ basis` applied before the trunk.

        Zero (or non-finite) stds become 1, so constant features pass through centred.
        `basis` is `(in_dim, input_rank)` and is required exactly when `input_rank` is set.
        """
        if mean.shape != (self.config.in_dim,) or std.shape != (self.config.in_dim,):
            raise ValueError(
                f"feature stats must have shape ({self.config.in_dim},), "
                f"got {tuple(mean.shape)} and {tuple(std.shape)}"
            )
        safe_std = torch.where((std > 1e-12) & torch.isfinite(std), std, torch.ones_like(std))
        rank = self.config.input_rank
        if (basis is None) != (rank is None):
            raise ValueError(f"a basis is required iff input_rank is set (input_rank={rank})")
        if basis is not None:
            if basis.shape != (self.config.in_dim, rank):
                raise ValueError(
                    f"basis must have shape ({self.config.in_dim}, {rank}), "
                    f"got {tuple(basis.shape)}"
                )
            self.feature_basis.copy_(basis)
        self.feature_mean.copy_(mean)
        self.feature_std.copy_(safe_std)

    def transform(self, x: torch.Tensor) -> torch.Tensor:
        """The fixed input transform: `(B, D)` features → `(B, input_rank or D)` inputs.

        It has no trainable parameters, so a trainer can apply it once and feed
        `forward_transformed` directly.
        """
        if x.ndim != 2 or x.shape[1] != self.config.in_dim:
            raise ValueError(
                f"expected features of shape (B, {self.config.in_dim}), got {tuple(x.shape)}"
            )
        z = (x - self.feature_mean) / self.feature_std
        if self.config.input_rank is not None:
            z = z @ self.feature_basis
        return z

    def forward_transformed(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Boxes from already transformed inputs (see `transform`)."""
        out = self.head(self.trunk(z))
        lo, width = out[:, : self.config.dim], out[:, self.config.dim :]
        return lo, lo + F.softplus(width)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Map features to boxes.

        Args:
            x: `(B, D)` features.

        Returns:
            `(lo, hi)`, each `(B, d)`, with `hi - lo = softplus(width) > 0`.
        """
        return self.forward_transformed(self.transform(x))
