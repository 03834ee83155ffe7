"""One training step and the pieces `fit` builds it from (input transform, optimizer)."""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from models.errors import TrainingError
from models.losses import LossParams, LossSpec
from models.network import BoxNet
from models.sampling import EpochPairs
from models.train_config import TrainConfig


def feature_transform(
    x_train: torch.Tensor, config: TrainConfig
) -> tuple[torch.Tensor | None, torch.Tensor | None, torch.Tensor | None]:
    """Standardization stats and, with `feature_rank`, the top principal directions."""
    if not config.standardize:
        return None, None, None
    mean, std = x_train.mean(dim=0), x_train.std(dim=0, unbiased=False)
    n, d = x_train.shape
    if config.feature_rank is None or min(n - 1, config.feature_rank) >= d:
        return mean, std, None
    cap = min(d, config.feature_rank)
    z = ((x_train - mean) / torch.where(std > 1e-12, std, torch.ones_like(std))).detach()
    # Principal directions on the CPU in float64 (exact; MPS has no float64): the SVD of z
    # while N <= D, else the eigenvectors of the D x D scatter matrix (linear in N).
    z64 = z.cpu().double()
    if n <= d:
        _, s, vh = torch.linalg.svd(z64, full_matrices=False)
        energy, vectors = s**2, vh.T
    else:
        # float32 eigh is ~3x faster than float64 and ample for choosing directions.
        evals, evecs = torch.linalg.eigh((z64.T @ z64).float())
        energy, vectors = evals.flip(0).clamp(min=0), evecs.flip(1)
    rank = int((energy > energy[0] * 1e-12).sum()) if energy.numel() and energy[0] > 0 else 0
    rank = max(1, min(rank, cap))
    basis = vectors[:, :rank]
    return mean, std, basis.to(device=x_train.device, dtype=x_train.dtype).contiguous()


def _compact(i: np.ndarray, j: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The nodes a batch touches, and the pairs re-indexed into them (O(n + pairs), no sort)."""
    used = np.zeros(n, dtype=bool)
    used[i] = True
    used[j] = True
    nodes = np.flatnonzero(used)
    position = np.empty(n, dtype=np.int64)
    position[nodes] = np.arange(nodes.size)
    return nodes, position[i], position[j]


def _adam(net: BoxNet, config: TrainConfig) -> torch.optim.Adam:
    # The fused kernel is ~10x faster than the per-tensor loop for this many small steps
    # (measured on CPU); fall back where a backend lacks it.
    try:
        return torch.optim.Adam(
            net.parameters(), lr=config.lr, weight_decay=config.weight_decay, fused=True
        )
    except (RuntimeError, ValueError):
        return torch.optim.Adam(net.parameters(), lr=config.lr, weight_decay=config.weight_decay)


class TrainStep:
    """One optimizer step on a batch of pairs over the training universe."""

    def __init__(
        self,
        net: BoxNet,
        z: torch.Tensor,
        spec: LossSpec,
        params: LossParams,
        config: TrainConfig,
    ) -> None:
        # `z`: the training nodes' transformed features (`BoxNet.transform`), in universe order.
        self.net, self.z, self.spec, self.params, self.config = net, z, spec, params, config
        self.device = z.device
        self.optimizer = _adam(net, config)
        # Full batch: the same pairs every epoch, so their tensors are built once.
        self._fixed: tuple[EpochPairs, tuple[torch.Tensor, ...]] | None = None

    def _tensors(self, *arrays: np.ndarray) -> tuple[torch.Tensor, ...]:
        return tuple(torch.from_numpy(a).to(self.device) for a in arrays)

    def __call__(self, batch: EpochPairs, epoch: int, full: bool) -> float:
        if not self.net.training:  # `train()` walks every module: skip it when already set
            self.net.train()
        if full:
            # Full batch: every universe node is in the batch; indices are already local.
            feats = self.z
            if self._fixed is None or self._fixed[0] is not batch:
                self._fixed = (batch, self._tensors(batch.i, batch.j, batch.y))
            i, j, y = self._fixed[1]
        else:
            nodes, li, lj = _compact(batch.i, batch.j, self.z.shape[0])
            feats = self.z[torch.from_numpy(nodes).to(self.device)]
            i, j, y = self._tensors(li, lj, batch.y)
        lo, hi = self.net.forward_transformed(feats)
        loss = self.spec(lo, hi, i, j, y, self.params)
        value = float(loss.item())
        if not math.isfinite(value):
            raise TrainingError(
                f"loss became {value} at epoch {epoch} ({self.config.loss} loss, "
                f"lr={self.config.lr}); no boxes were produced"
            )
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()  # type: ignore[no-untyped-call]
        if self.config.grad_clip is not None:
            torch.nn.utils.clip_grad_norm_(self.net.parameters(), self.config.grad_clip)
        self.optimizer.step()
        return value


@torch.no_grad()
def recalibrate_batchnorm(net: BoxNet, z: torch.Tensor, rows_per_pass: int = 65_536) -> None:
    """Set every BatchNorm's running statistics to their exact values on inputs `z`.

    `z` holds transformed features (`BoxNet.transform`) of the training nodes.

    Training updates them as a lagging moving average of past batches, so eval-mode boxes
    (what validation, placement and the map use) drift from the train-mode boxes the loss
    fitted. One cumulative pass over the training nodes removes that gap. Dropout is off
    during the pass, so the statistics are those of eval-mode activations (and no random
    numbers are drawn).
    """
    layers = [mod for mod in net.modules() if isinstance(mod, nn.BatchNorm1d)]
    if not layers or z.shape[0] < 2:
        return
    momenta = [layer.momentum for layer in layers]
    was_training = net.training
    for layer in layers:
        layer.reset_running_stats()
        layer.momentum = None  # cumulative average over the passes below
    net.train()
    for module in net.modules():
        if isinstance(module, nn.Dropout):
            module.eval()
    factors = []
    for start in range(0, z.shape[0], rows_per_pass):
        chunk = z[start : start + rows_per_pass]
        if chunk.shape[0] >= 2:
            net.forward_transformed(chunk)
            factors.append((chunk.shape[0] - 1) / chunk.shape[0])
    for layer, momentum in zip(layers, momenta, strict=True):
        layer.momentum = momentum
        # BatchNorm stores the unbiased variance but normalizes training batches with the
        # biased one; store what training used, so eval mode reproduces it exactly.
        if layer.running_var is not None:
            layer.running_var.mul_(sum(factors) / len(factors))
    net.train(was_training)
