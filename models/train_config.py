"""`TrainConfig`: every knob of `models.train.fit`, validated, with documented defaults."""

from __future__ import annotations

import math
from dataclasses import dataclass

from models.device import DEVICE_CHOICES
from models.losses import LossParams, get_loss
from models.metrics import METRIC_NAMES


@dataclass(frozen=True)
class TrainConfig:
    """How to fit a box network.

    Attributes:
        dim: box dimension d.
        loss: "ours" (log-space BCE, Gumbel intersection) or "paper".
        epochs: maximum number of epochs (paper: 1350 for hierarchies, 3000 for transfer).
        lr: Adam learning rate.
        weight_decay: Adam (L2) weight decay.
        hidden: trunk widths (paper: 1024, 256, 128).
        batchnorm: BatchNorm in the trunk (paper: yes).
        dropout: dropout in the trunk.
        seed: seeds initialization, sampling and dropout: same seed, same boxes.
        device: "auto" (cuda > mps > cpu), "cpu", "cuda" or "mps".
        volume_weight: λ_v; `None` takes the loss's default (paper: 0.7; use 0.01 for
            transfer). See `LossParams.volume_weight` for its meaning per loss.
        beta: inverse temperature of the soft volume (the paper's volume temperature 0.1).
        gumbel_beta: Gumbel intersection temperature for "ours" (`None`: hard); "paper"
            always uses the hard intersection, as in the authors' code.
        pos_weight: "ours": weight of positive pairs in the BCE.
        ratio_weight: "ours": weight of the log-ratio term that makes soft targets come out
            at their value (see `LossParams.ratio_weight`); 0 for ranking/F1 use.
        full_batch_max_pairs: above this many supervised pairs per epoch (all N·(N-1) pairs
            when closed-world), train on sampled pairs instead of the full batch.
        negatives_per_positive: sampled mode: random negatives per positive, per epoch.
        hard_negatives_per_positive: sampled mode: hard negatives per positive, per epoch
            (closed world: pairs of nearby boxes; open world: top-scored listed negatives).
        hard_negative_neighbors: closed-world sampled mode: neighbours per node considered.
        hard_negative_refresh: sampled mode: epochs between hard-negative recomputations.
        batch_pairs: sampled mode: pairs per optimizer step.
        positives_per_epoch: sampled mode: at most this many positives per epoch, drawn
            afresh and uniformly (so each dataset keeps its share of them); the random and
            hard negatives scale with the draw. `None`: every positive, every epoch. With a
            draw, an epoch is one step and `epochs` is a step budget: what makes an atlas
            with tens of millions of positive pairs trainable in minutes.
        patience: stop after this many epochs without a better validation metric
            (`None`: never stop early). Needs a validation set.
        min_epochs: a warm-up: validation checks before this epoch neither count as the
            best (so their weights are never kept) nor start the patience count. With few
            validation pairs, an early noisy peak otherwise ends training long before the
            mean validation curve does (benchmarks/RESULTS.md, "Transfer").
        eval_every: epochs between validation evaluations.
        val_metric: "auto" (AP for binary targets, else Spearman), "ap", "f1", "spearman"
            or "neg_mse"; higher is better.
        standardize: z-score the features with the training nodes' mean and std (stored in
            the model, so placement uses the same transform).
        grad_clip: clip the global gradient norm to this (`None`: no clipping).
        feature_rank: with `standardize`, project the features onto the top `feature_rank`
            principal directions of the training nodes (at most their span) before the
            network; `None` keeps all D. A speed knob for large N (768 → 128 makes the first
            layer 6x cheaper); on the WordNet benchmark projecting cost F1 (0.83 → 0.73 at 5D),
            so it is off by default.
    """

    dim: int = 2
    loss: str = "ours"
    epochs: int = 1350
    lr: float = 1e-3
    weight_decay: float = 0.0
    hidden: tuple[int, ...] = (1024, 256, 128)
    batchnorm: bool = True
    dropout: float = 0.0
    seed: int = 0
    device: str = "auto"
    volume_weight: float | None = None
    beta: float = 10.0
    gumbel_beta: float | None = 0.05
    pos_weight: float = 1.0
    ratio_weight: float = 0.0
    full_batch_max_pairs: int = 2_000_000
    negatives_per_positive: int = 4
    hard_negatives_per_positive: int = 2
    hard_negative_neighbors: int = 8
    hard_negative_refresh: int = 10
    batch_pairs: int = 2_097_152
    positives_per_epoch: int | None = None
    nodes_per_epoch: int | None = None
    patience: int | None = None
    min_epochs: int = 0
    eval_every: int = 10
    val_metric: str = "auto"
    standardize: bool = True
    grad_clip: float | None = None
    feature_rank: int | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "hidden", tuple(int(h) for h in self.hidden))
        get_loss(self.loss)  # raises ValueError listing the valid names
        checks: list[tuple[bool, str]] = [
            (self.dim >= 1, f"dim must be >= 1, got {self.dim}"),
            (self.epochs >= 1, f"epochs must be >= 1, got {self.epochs}"),
            (_pos(self.lr), f"lr must be > 0, got {self.lr}"),
            (self.weight_decay >= 0, f"weight_decay must be >= 0, got {self.weight_decay}"),
            (all(h >= 1 for h in self.hidden), f"hidden widths must be >= 1: {self.hidden}"),
            (0 <= self.dropout < 1, f"dropout must be in [0, 1), got {self.dropout}"),
            (self.device in DEVICE_CHOICES, f"device must be one of {DEVICE_CHOICES}"),
            (_pos(self.beta), f"beta must be > 0, got {self.beta}"),
            (
                self.gumbel_beta is None or _pos(self.gumbel_beta),
                f"gumbel_beta must be > 0 or None, got {self.gumbel_beta}",
            ),
            (_pos(self.pos_weight), f"pos_weight must be > 0, got {self.pos_weight}"),
            (self.ratio_weight >= 0, f"ratio_weight must be >= 0, got {self.ratio_weight}"),
            (self.volume_weight is None or self.volume_weight >= 0, "volume_weight must be >= 0"),
            (self.full_batch_max_pairs >= 0, "full_batch_max_pairs must be >= 0"),
            (self.negatives_per_positive >= 0, "negatives_per_positive must be >= 0"),
            (self.hard_negatives_per_positive >= 0, "hard_negatives_per_positive must be >= 0"),
            (self.hard_negative_neighbors >= 1, "hard_negative_neighbors must be >= 1"),
            (self.hard_negative_refresh >= 1, "hard_negative_refresh must be >= 1"),
            (self.batch_pairs >= 1, f"batch_pairs must be >= 1, got {self.batch_pairs}"),
            (
                self.nodes_per_epoch is None or self.nodes_per_epoch >= 2,
                f"nodes_per_epoch must be >= 2 or None, got {self.nodes_per_epoch}",
            ),
            (
                self.positives_per_epoch is None or self.positives_per_epoch >= 1,
                f"positives_per_epoch must be >= 1 or None, got {self.positives_per_epoch}",
            ),
            (self.patience is None or self.patience >= 1, "patience must be >= 1 or None"),
            (self.min_epochs >= 0, f"min_epochs must be >= 0, got {self.min_epochs}"),
            (self.eval_every >= 1, f"eval_every must be >= 1, got {self.eval_every}"),
            (self.val_metric in METRIC_NAMES, f"val_metric must be one of {METRIC_NAMES}"),
            (self.grad_clip is None or _pos(self.grad_clip), "grad_clip must be > 0 or None"),
            (
                self.feature_rank is None or self.feature_rank >= 1,
                f"feature_rank must be >= 1 or None, got {self.feature_rank}",
            ),
        ]
        for ok, message in checks:
            if not ok:
                raise ValueError(message)

    def loss_params(self) -> LossParams:
        """The loss hyper-parameters, with the loss's defaults filled in."""
        spec = get_loss(self.loss)
        return LossParams(
            beta=self.beta,
            gumbel_beta=self.gumbel_beta if spec.uses_gumbel else None,
            volume_weight=(
                spec.default_volume_weight if self.volume_weight is None else self.volume_weight
            ),
            pos_weight=self.pos_weight,
            ratio_weight=self.ratio_weight,
        )


def _pos(value: float) -> bool:
    return value > 0 and math.isfinite(value)
