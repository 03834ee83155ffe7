"""`fit`: train a box network on supervised ordered pairs (DESIGN §1).

Full-batch while the supervised pairs per epoch stay under `full_batch_max_pairs`, else
sampled (positives + random + hard negatives) so an epoch costs O(edges). Only nodes that
take part in training are ever passed through the network in train mode, so held-out
("novel") rows cannot leak into BatchNorm statistics or feature standardization.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable

import numpy as np
import torch

from models.device import select_device
from models.errors import TrainingError
from models.losses import LossParams, LossSpec, get_loss
from models.metrics import validation_metric
from models.network import BoxNet, BoxNetConfig
from models.pairs import PairSet
from models.sampling import EpochPairs, SampledPlan, count_full_batch_pairs, full_batch_pairs
from models.train_config import TrainConfig
from models.trained import TrainedBoxModel, forward_boxes, pair_containment

__all__ = [
    "PairSet",
    "TrainConfig",
    "TrainedBoxModel",
    "TrainingError",
    "fit",
    "select_device",
]

logger = logging.getLogger(__name__)

Progress = Callable[[int, int, float], None]


def _feature_transform(
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
        evals, evecs = torch.linalg.eigh(z64.T @ z64)
        energy, vectors = evals.flip(0).clamp(min=0), evecs.flip(1)
    rank = int((energy > energy[0] * 1e-12).sum()) if energy.numel() and energy[0] > 0 else 0
    rank = max(1, min(rank, cap))
    basis = vectors[:, :rank]
    return mean, std, basis.to(device=x_train.device, dtype=x_train.dtype).contiguous()


def _check_features(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float32)
    if x.ndim != 2 or x.shape[0] == 0 or x.shape[1] == 0:
        raise ValueError(f"features must be a non-empty (N, D) array, got shape {x.shape}")
    if not np.isfinite(x).all():
        raise ValueError(f"features of shape {x.shape} hold NaN or inf")
    return x


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


class _Step:
    """One optimizer step on a batch of pairs over the training universe."""

    def __init__(
        self,
        net: BoxNet,
        x: torch.Tensor,
        spec: LossSpec,
        params: LossParams,
        config: TrainConfig,
    ) -> None:
        self.net, self.x, self.spec, self.params, self.config = net, x, spec, params, config
        self.device = x.device
        self.optimizer = _adam(net, config)

    def __call__(self, batch: EpochPairs, epoch: int, full: bool) -> float:
        self.net.train()
        if full:
            # Full batch: every universe node is in the batch; indices are already local.
            feats, i, j = self.x, batch.i, batch.j
        else:
            nodes, i, j = _compact(batch.i, batch.j, self.x.shape[0])
            feats = self.x[torch.from_numpy(nodes).to(self.device)]
        lo, hi = self.net(feats)
        loss = self.spec(
            lo,
            hi,
            torch.from_numpy(i).to(self.device),
            torch.from_numpy(j).to(self.device),
            torch.from_numpy(batch.y).to(self.device),
            self.params,
        )
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


def fit(
    x: np.ndarray,
    pairs: PairSet,
    config: TrainConfig,
    *,
    val: PairSet | None = None,
    progress: Progress | None = None,
) -> TrainedBoxModel:
    """Train a box network.

    Args:
        x: `(N, D)` features of ALL nodes (training, validation and held-out rows).
        pairs: supervised training pairs over rows of `x`.
        config: training configuration.
        val: validation pairs; enables early stopping (`config.patience`) and keeps the
            weights with the best validation metric.
        progress: called after each epoch as `progress(epoch, epochs, loss)` (1-based).

    Returns:
        The trained model (best-validation weights when `val` is given).

    Raises:
        ValueError: on malformed features, pairs, or an empty training set.
        RuntimeError: if the configured device is not available.
        TrainingError: if the loss becomes NaN or infinite.
    """
    x = _check_features(x)
    pairs.check_rows(x.shape[0])
    if val is not None:
        val.check_rows(x.shape[0])
    if len(pairs) == 0 and not pairs.closed_world:
        raise ValueError("no training pairs: pass at least one supervised pair")
    universe = pairs.universe(x.shape[0])
    if universe.size < 2:
        raise ValueError(f"training needs at least 2 nodes, got {universe.size}")
    device = select_device(config.device)
    spec = get_loss(config.loss)
    params = config.loss_params()
    # Local indices: position of each pair's rows inside the training universe.
    li = np.searchsorted(universe, pairs.i)
    lj = np.searchsorted(universe, pairs.j)
    rng = np.random.default_rng(config.seed)

    with torch.random.fork_rng(devices=[]):  # seeds dropout without touching global state
        torch.manual_seed(config.seed)
        x_train = torch.from_numpy(x[universe]).to(device)
        mean, std, basis = _feature_transform(x_train, config)
        net = BoxNet(
            BoxNetConfig(
                in_dim=x.shape[1],
                dim=config.dim,
                hidden=config.hidden,
                batchnorm=config.batchnorm,
                dropout=config.dropout,
                seed=config.seed,
                input_rank=None if basis is None else int(basis.shape[1]),
            )
        ).to(device)
        if mean is not None and std is not None:
            net.set_feature_stats(mean, std, basis)
        step = _Step(net, x_train, spec, params, config)
        n_full = count_full_batch_pairs(len(pairs), universe.size, pairs.closed_world)
        full = n_full <= config.full_batch_max_pairs
        logger.info(
            "fitting %d boxes in %dD (%s loss) on %s: %s, %d supervised pairs",
            universe.size,
            config.dim,
            config.loss,
            device,
            "full batch" if full else "sampled pairs",
            len(pairs),
        )
        history, best_state, best_epoch = _loop(
            step, pairs, li, lj, universe, x, val, config, params, full, rng, progress
        )
    if best_state is not None:
        net.load_state_dict(best_state)
    model = TrainedBoxModel(net, config, history, best_epoch, device)
    _check_finite_boxes(model, x[universe])
    return model


def _loop(
    step: _Step,
    pairs: PairSet,
    li: np.ndarray,
    lj: np.ndarray,
    universe: np.ndarray,
    x: np.ndarray,
    val: PairSet | None,
    config: TrainConfig,
    params: LossParams,
    full: bool,
    rng: np.random.Generator,
    progress: Progress | None,
) -> tuple[list[dict[str, float | int | None]], dict[str, torch.Tensor] | None, int]:
    n_local = universe.size
    plan: SampledPlan | None = None
    fixed: EpochPairs | None = None
    if full:
        fixed = full_batch_pairs(li, lj, pairs.y, n_local, pairs.closed_world)
    else:
        plan = SampledPlan(
            li,
            lj,
            pairs.y,
            n_local,
            closed_world=pairs.closed_world,
            negatives_per_positive=config.negatives_per_positive,
            hard_negatives_per_positive=config.hard_negatives_per_positive,
            neighbors=config.hard_negative_neighbors,
        )
    history: list[dict[str, float | int | None]] = []
    best_metric, best_epoch, since_best = -math.inf, config.epochs, 0
    best_state: dict[str, torch.Tensor] | None = None
    for epoch in range(1, config.epochs + 1):
        if plan is not None:
            if (epoch - 1) % config.hard_negative_refresh == 0:
                boxes = _eval_boxes(step, x[universe])
                plan.refresh_hard_negatives(
                    boxes[0],
                    boxes[1],
                    beta=params.beta,
                    gumbel_beta=params.gumbel_beta,
                    rng=rng,
                    device=step.device,
                )
            batches = plan.epoch_pairs(rng).batches(config.batch_pairs, rng)
        else:
            assert fixed is not None
            batches = [fixed]
        losses = [step(b, epoch, full) * len(b) for b in batches]
        loss = sum(losses) / max(1, sum(len(b) for b in batches))
        n_pairs = sum(len(b) for b in batches)
        record: dict[str, float | int | None] = {
            "epoch": epoch,
            "loss": loss,
            "pairs": n_pairs,
            "val": None,
        }
        if val is not None and len(val) and (epoch % config.eval_every == 0 or epoch == 1):
            metric = _evaluate(step, x, val, config)
            record["val"] = metric
            # `>=`: among equal scores keep the later (longer-trained) weights.
            if metric >= best_metric:
                best_metric, best_epoch, since_best = metric, epoch, 0
                best_state = {k: v.detach().clone() for k, v in step.net.state_dict().items()}
        history.append(record)
        if progress is not None:
            progress(epoch, config.epochs, loss)
        if val is not None and config.patience is not None:
            since_best = epoch - best_epoch
            if since_best >= config.patience:
                logger.info("early stop at epoch %d (best %d)", epoch, best_epoch)
                break
    return history, best_state, best_epoch


def _eval_boxes(step: _Step, x_universe: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    lo, hi = forward_boxes(step.net, x_universe, step.device)
    return lo.cpu().numpy(), hi.cpu().numpy()


def _evaluate(step: _Step, x: np.ndarray, val: PairSet, config: TrainConfig) -> float:
    p = pair_containment(
        step.net,
        x,
        val.i,
        val.j,
        beta=step.params.beta,
        gumbel_beta=step.params.gumbel_beta,
        device=step.device,
    )
    if not np.isfinite(p).all():
        raise TrainingError("validation scores became NaN; the boxes diverged")
    return validation_metric(config.val_metric, val.y, p)


def _check_finite_boxes(model: TrainedBoxModel, x_universe: np.ndarray) -> None:
    try:
        model.boxes(x_universe)
    except ValueError as e:
        raise TrainingError(f"training produced invalid boxes: {e}") from e
