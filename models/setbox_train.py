"""`fit_set_boxes`: train a label-set box network (`models.setbox`) on supervised pairs.

Full batch: every epoch embeds all labels once (M points), forms the boxes of the nodes that
take part in training and applies the "ours" loss (log-space BCE on a Gumbel-intersection
containment; the Gumbel intersection is what gives a negative pair nested inside a larger box
a gradient). Containment is *read* with the hard intersection by default, under which a
label subset gives `P(A ⊆ B) = 1` exactly.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from models import ops
from models.device import DEVICE_CHOICES, select_device
from models.errors import TrainingError
from models.losses import LossParams, ours_loss
from models.metrics import average_precision
from models.pairs import PairSet
from models.setbox import LabelSets, SetBoxConfig, SetBoxNet


@dataclass(frozen=True)
class SetTrainConfig:
    """How to fit a `SetBoxNet`.

    Attributes:
        dim: box dimension d.
        hidden: hidden widths of the point network.
        temperature: smooth min/max temperature (`None`: hard).
        epochs: maximum epochs (full batch).
        lr: Adam learning rate.
        weight_decay: Adam (L2) weight decay.
        beta: inverse temperature of the soft volume.
        gumbel_beta: Gumbel intersection temperature of the training loss.
        score_gumbel: read containment with the Gumbel intersection too (default: hard, so
            that label subsets score exactly 1).
        pos_weight: weight of the positive part of the BCE (0 ignores it: label subsets are
            contained by construction, so positives need no pull).
        patience: stop after this many epochs without a better validation AP.
        eval_every: epochs between validation evaluations.
        seed: seeds the initialization.
        device: "auto", "cpu", "cuda" or "mps".
        feature_rank: project the standardized label embeddings onto their top
            `feature_rank` principal directions (over the training nodes' labels) before the
            point network; `None` keeps all E. Mostly a speed knob: the first layer is the
            bulk of each step's cost.
    """

    dim: int = 2
    hidden: tuple[int, ...] = (128,)
    temperature: float | None = None
    epochs: int = 300
    lr: float = 1e-2
    weight_decay: float = 0.0
    beta: float = 10.0
    gumbel_beta: float = 0.05
    score_gumbel: bool = False
    pos_weight: float = 1.0
    patience: int | None = None
    eval_every: int = 10
    seed: int = 0
    device: str = "auto"
    feature_rank: int | None = None

    def __post_init__(self) -> None:
        checks = [
            (self.dim >= 1, f"dim must be >= 1, got {self.dim}"),
            (self.epochs >= 1, f"epochs must be >= 1, got {self.epochs}"),
            (_pos(self.lr), f"lr must be > 0, got {self.lr}"),
            (self.weight_decay >= 0, f"weight_decay must be >= 0, got {self.weight_decay}"),
            (_pos(self.beta), f"beta must be > 0, got {self.beta}"),
            (_pos(self.gumbel_beta), f"gumbel_beta must be > 0, got {self.gumbel_beta}"),
            (self.pos_weight >= 0, f"pos_weight must be >= 0, got {self.pos_weight}"),
            (self.patience is None or self.patience >= 1, "patience must be >= 1 or None"),
            (self.eval_every >= 1, f"eval_every must be >= 1, got {self.eval_every}"),
            (self.device in DEVICE_CHOICES, f"device must be one of {DEVICE_CHOICES}"),
            (self.feature_rank is None or self.feature_rank >= 1, "feature_rank must be >= 1"),
        ]
        for ok, message in checks:
            if not ok:
                raise ValueError(message)


def _pos(value: float) -> bool:
    return value > 0 and math.isfinite(value)


class TrainedSetBoxModel:
    """A fitted label-set box network with the label table and sets it was trained over."""

    def __init__(
        self,
        net: SetBoxNet,
        emb: torch.Tensor,
        sets: LabelSets,
        config: SetTrainConfig,
        best_epoch: int = 0,
    ) -> None:
        self.net, self.emb, self.sets, self.config = net.eval(), emb, sets, config
        self.device = emb.device
        #: The epoch whose weights were kept (best validation AP, else the last).
        self.best_epoch = best_epoch

    @torch.no_grad()
    def boxes(self, rows: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """`(lo, hi)` of the given rows of `sets` (all rows when `None`), each `(n, d)`."""
        sets = self.sets if rows is None else self.sets.subset(np.asarray(rows))
        lo, hi = self._boxes(sets)
        return lo.cpu().numpy(), hi.cpu().numpy()

    @torch.no_grad()
    def place(self, label_embeddings: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The `(d,)` box of an unseen dataset from its `(k, E)` label embeddings, k ≥ 1."""
        emb = torch.as_tensor(np.asarray(label_embeddings, dtype=np.float32), device=self.device)
        if emb.ndim != 2 or emb.shape[0] == 0:
            raise ValueError(f"expected a non-empty (k, E) array, got shape {tuple(emb.shape)}")
        index = torch.arange(emb.shape[0], device=self.device)[None]
        lo, hi = self.net(emb, index, torch.ones_like(index, dtype=torch.bool))
        return lo[0].cpu().numpy(), hi[0].cpu().numpy()

    def _boxes(self, sets: LabelSets) -> tuple[torch.Tensor, torch.Tensor]:
        if sets.max_label() >= self.emb.shape[0]:
            raise ValueError(f"label index {sets.max_label()} out of range {self.emb.shape[0]}")
        index = torch.from_numpy(sets.index).to(self.device)
        mask = torch.from_numpy(sets.mask).to(self.device)
        lo, hi = self.net(self.emb, index, mask)
        return lo, hi

    @torch.no_grad()
    def predict_pairs(self, i: np.ndarray, j: np.ndarray) -> np.ndarray:
        """`P(box_i ⊆ box_j)` for rows `i`, `j` of `sets`, as float64 `(P,)`."""
        lo, hi = self._boxes(self.sets)
        a = torch.from_numpy(np.asarray(i, dtype=np.int64)).to(self.device)
        b = torch.from_numpy(np.asarray(j, dtype=np.int64)).to(self.device)
        p = ops.containment(
            lo[a],
            hi[a],
            lo[b],
            hi[b],
            beta=self.config.beta,
            gumbel_beta=self.config.gumbel_beta if self.config.score_gumbel else None,
        )
        return p.cpu().numpy().astype(np.float64)


def _input_transform(
    used: np.ndarray, rank: int | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Standardization of the training labels' embeddings and, with `rank`, their top
    principal directions (float64 SVD; at most the span of the rows)."""
    x = used.astype(np.float64)
    mean, std = x.mean(axis=0), x.std(axis=0)
    if rank is None or rank >= x.shape[1]:
        return mean.astype(np.float32), std.astype(np.float32), None
    z = (x - mean) / np.where(std > 1e-12, std, 1.0)
    _, s, vh = np.linalg.svd(z, full_matrices=False)
    keep = max(1, min(rank, int((s > s[0] * 1e-6).sum()) if s.size and s[0] > 0 else 1))
    return mean.astype(np.float32), std.astype(np.float32), vh[:keep].T.astype(np.float32)


def fit_set_boxes(
    emb: np.ndarray,
    sets: LabelSets,
    pairs: PairSet,
    config: SetTrainConfig,
    *,
    val: PairSet | None = None,
    progress: Callable[[int, int, float], None] | None = None,
    sampler: Callable[[int], tuple[np.ndarray, np.ndarray, np.ndarray]] | None = None,
) -> TrainedSetBoxModel:
    """Train a label-set box network on supervised ordered pairs of label sets.

    Args:
        emb: `(M, E)` label embeddings (the rows `sets` index).
        sets: `N` label sets; pair indices are rows of it.
        pairs: supervised training pairs (open world: only these are supervised).
        config: training configuration.
        val: validation pairs with binary targets: early stopping on their AP, keeping the
            best weights.
        progress: called after each epoch as `progress(epoch, epochs, loss)` (1-based).
        sampler: if set, `sampler(epoch)` gives each epoch's pairs as `(li, lj, y)`, with
            li and lj positions in `pairs.universe(len(sets))`, and `pairs` only fixes that
            universe: how a closed world too large to list is trained, a fresh sample per
            epoch.

    Raises:
        ValueError: on malformed inputs or no training pairs.
        TrainingError: if the loss becomes NaN or infinite.
    """
    emb = np.asarray(emb, dtype=np.float32)
    if emb.ndim != 2 or emb.shape[0] == 0 or not np.isfinite(emb).all():
        raise ValueError(f"label embeddings must be a finite non-empty (M, E) array: {emb.shape}")
    if sets.max_label() >= emb.shape[0]:
        raise ValueError(f"label index {sets.max_label()} out of range for {emb.shape[0]} rows")
    pairs.check_rows(len(sets))
    if val is not None:
        val.check_rows(len(sets))
    if len(pairs) == 0:
        raise ValueError("no training pairs: pass at least one supervised pair")
    device = select_device(config.device)
    universe = pairs.universe(len(sets))
    train_sets = sets.subset(universe)
    # Standardize with the labels of the training nodes only (held-out nodes stay unseen).
    used = np.unique(train_sets.index[train_sets.mask])
    table = torch.from_numpy(emb).to(device)
    mean, std, basis = _input_transform(emb[used], config.feature_rank)
    net = SetBoxNet(
        SetBoxConfig(
            emb.shape[1],
            config.dim,
            config.hidden,
            config.temperature,
            config.seed,
            None if basis is None else basis.shape[1],
        )
    ).to(device)
    net.set_feature_stats(
        torch.from_numpy(mean).to(device),
        torch.from_numpy(std).to(device),
        None if basis is None else torch.from_numpy(basis).to(device),
    )
    with torch.no_grad():  # the input transform is fixed: apply it once, not per step
        z = net.transform(table)
    rows_np, cols_np = np.nonzero(train_sets.mask)
    rows = torch.from_numpy(rows_np).to(device)
    members = torch.from_numpy(train_sets.index[rows_np, cols_np]).to(device)
    n_train = len(train_sets)

    def local(epoch_pairs: PairSet) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Pair rows as positions in the universe, on the device."""
        return (
            torch.from_numpy(np.searchsorted(universe, epoch_pairs.i)).to(device),
            torch.from_numpy(np.searchsorted(universe, epoch_pairs.j)).to(device),
            torch.from_numpy(np.asarray(epoch_pairs.y, dtype=np.float32)).to(device),
        )

    # A sampled fit's pairs come per epoch; `pairs` then only fixes the universe.
    li, lj, y = local(pairs if sampler is None else PairSet(pairs.i[:0], pairs.j[:0], pairs.y[:0]))
    params = LossParams(
        beta=config.beta, gumbel_beta=config.gumbel_beta, pos_weight=config.pos_weight
    )
    opt = torch.optim.Adam(net.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    model = TrainedSetBoxModel(net, table, sets, config)
    best, best_epoch, best_state = -math.inf, 0, None
    last_epoch = 0
    for epoch in range(1, config.epochs + 1):
        if sampler is not None:
            si, sj, sy = sampler(epoch)
            li = torch.from_numpy(si).to(device)
            lj = torch.from_numpy(sj).to(device)
            y = torch.from_numpy(sy).to(device)
        net.train()
        lo, hi = net.boxes_from_members(net.point(z), rows, members, n_train)
        loss = ours_loss(lo, hi, li, lj, y, params)
        if not torch.isfinite(loss):
            raise TrainingError(f"loss became {float(loss)} at epoch {epoch} (lr={config.lr})")
        opt.zero_grad(set_to_none=True)
        loss.backward()  # type: ignore[no-untyped-call]
        opt.step()
        if progress is not None:
            progress(epoch, config.epochs, float(loss.detach()))
        last_epoch = epoch
        if val is None or len(val) == 0 or (epoch % config.eval_every and epoch != 1):
            continue
        metric = average_precision(val.y, model.predict_pairs(val.i, val.j))
        if metric >= best:  # `>=`: among ties keep the longer-trained weights
            best, best_epoch = metric, epoch
            best_state = {k: v.detach().clone() for k, v in net.state_dict().items()}
        if config.patience is not None and epoch - best_epoch >= config.patience:
            break
    if best_state is not None:
        net.load_state_dict(best_state)
    else:
        best_epoch = last_epoch
    return TrainedSetBoxModel(net, table, sets, config, best_epoch=best_epoch)
