"""The box network: one shared MLP maps a feature vector to a box (DESIGN §1).

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
    """

    in_dim: int
    dim: int = 2
    hidden: tuple[int, ...] = (1024, 256, 128)
    batchnorm: bool = True
    dropout: float = 0.0
    seed: int = 0

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


class BoxNet(nn.Module):
    """Features `(B, D)` → boxes `(lo, hi)`, each `(B, d)` with `hi > lo`.

    With BatchNorm, train mode needs B ≥ 2 (batch statistics); eval mode takes any B ≥ 1.
    """

    feature_mean: torch.Tensor
    feature_std: torch.Tensor

    def __init__(self, config: BoxNetConfig) -> None:
        super().__init__()
        self.config = config
        # Seed locally so that building a net never perturbs (or depends on) global RNG state.
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(config.seed)
            layers: list[nn.Module] = []
            width = config.in_dim
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

    def set_feature_stats(self, mean: torch.Tensor, std: torch.Tensor) -> None:
        """Store the standardization `(x - mean) / std` applied before the trunk.

        Zero (or non-finite) stds become 1, so constant features pass through centred.
        """
        if mean.shape != (self.config.in_dim,) or std.shape != (self.config.in_dim,):
            raise ValueError(
                f"feature stats must have shape ({self.config.in_dim},), "
                f"got {tuple(mean.shape)} and {tuple(std.shape)}"
            )
        safe_std = torch.where((std > 1e-12) & torch.isfinite(std), std, torch.ones_like(std))
        self.feature_mean.copy_(mean)
        self.feature_std.copy_(safe_std)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Map features to boxes.

        Args:
            x: `(B, D)` features.

        Returns:
            `(lo, hi)`, each `(B, d)`, with `hi - lo = softplus(width) > 0`.
        """
        if x.ndim != 2 or x.shape[1] != self.config.in_dim:
            raise ValueError(
                f"expected features of shape (B, {self.config.in_dim}), got {tuple(x.shape)}"
            )
        z = self.trunk((x - self.feature_mean) / self.feature_std)
        out = self.head(z)
        lo, width = out[:, : self.config.dim], out[:, self.config.dim :]
        return lo, lo + F.softplus(width)
