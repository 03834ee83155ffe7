"""`fit`: train a box network on supervised ordered pairs.

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
from models.losses import get_loss
from models.metrics import validation_metric
from models.network import BoxNet, BoxNetConfig
from models.pairs import PairSet
from models.sampling import EpochPairs, SampledPlan, count_full_batch_pairs, full_batch_pairs
from models.step import TrainStep, feature_transform, recalibrate_batchnorm
from models.train_config import TrainConfig
from models.trained import TrainedBoxModel, pair_containment

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
# Rows per eval-mode forward pass over the training universe (bounds memory at any N).
_ROWS_PER_PASS = 65_536


def _check_features(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float32)
    if x.ndim != 2 or x.shape[0] == 0 or x.shape[1] == 0:
        raise ValueError(f"features must be a non-empty (N, D) array, got shape {x.shape}")
    if not np.isfinite(x).all():
        raise ValueError(f"features of shape {x.shape} hold NaN or inf")
    return x


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
        mean, std, basis = feature_transform(x_train, config)
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
        with torch.no_grad():  # the input transform is fixed: apply it once, not per step
            z_train = net.transform(x_train)
        del x_train
        step = TrainStep(net, z_train, spec, params, config)
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
        source = _pair_source(pairs, li, lj, universe.size, config, full)
        history, best_state, best_epoch = _loop(
            step, source, x=x, val=val, config=config, rng=rng, progress=progress
        )
    if best_state is not None:
        net.load_state_dict(best_state)  # its BatchNorm statistics were recalibrated
    else:
        recalibrate_batchnorm(net, step.z)
    model = TrainedBoxModel(net, config, history, best_epoch, device)
    _check_finite_boxes(model, x[universe])
    return model


class _FullBatch:
    """Every supervised pair (and, closed world, every other ordered pair) in each step."""

    full = True

    def __init__(self, pairs: EpochPairs) -> None:
        self._pairs = pairs

    def batches(self, epoch: int, step: TrainStep, rng: np.random.Generator) -> list[EpochPairs]:
        del epoch, step, rng  # the same pairs every epoch
        return [self._pairs]


class _SampledBatches:
    """A fresh draw of positives and (hard) negatives each epoch, in minibatches."""

    full = False

    def __init__(self, plan: SampledPlan, config: TrainConfig) -> None:
        self._plan = plan
        self._config = config

    def batches(self, epoch: int, step: TrainStep, rng: np.random.Generator) -> list[EpochPairs]:
        if (epoch - 1) % self._config.hard_negative_refresh == 0:
            lo, hi = _eval_boxes(step)
            self._plan.refresh_hard_negatives(
                lo,
                hi,
                beta=step.params.beta,
                gumbel_beta=step.params.gumbel_beta,
                rng=rng,
                device=step.device,
            )
        return self._plan.epoch_pairs(rng).batches(self._config.batch_pairs, rng)


_PairSource = _FullBatch | _SampledBatches


def _pair_source(
    pairs: PairSet,
    li: np.ndarray,
    lj: np.ndarray,
    n_local: int,
    config: TrainConfig,
    full: bool,
) -> _PairSource:
    """Where each epoch's pairs come from; `li`/`lj` index the training universe."""
    if full:
        return _FullBatch(full_batch_pairs(li, lj, pairs.y, n_local, pairs.closed_world))
    plan = SampledPlan(
        li,
        lj,
        pairs.y,
        n_local,
        closed_world=pairs.closed_world,
        negatives_per_positive=config.negatives_per_positive,
        hard_negatives_per_positive=config.hard_negatives_per_positive,
        neighbors=config.hard_negative_neighbors,
        positives_per_epoch=config.positives_per_epoch,
        nodes_per_epoch=config.nodes_per_epoch,
    )
    return _SampledBatches(plan, config)


def _loop(
    step: TrainStep,
    source: _PairSource,
    *,
    x: np.ndarray,
    val: PairSet | None,
    config: TrainConfig,
    rng: np.random.Generator,
    progress: Progress | None,
) -> tuple[list[dict[str, float | int | None]], dict[str, torch.Tensor] | None, int]:
    history: list[dict[str, float | int | None]] = []
    best_metric, best_epoch = -math.inf, config.epochs
    best_state: dict[str, torch.Tensor] | None = None
    for epoch in range(1, config.epochs + 1):
        batches = source.batches(epoch, step, rng)
        losses = [step(b, epoch, source.full) * len(b) for b in batches]
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
            # `>=`: among equal scores keep the later (longer-trained) weights. Before
            # `min_epochs` nothing counts: with no best yet, patience cannot run out.
            if epoch >= config.min_epochs and metric >= best_metric:
                best_metric, best_epoch = metric, epoch
                best_state = {k: v.detach().clone() for k, v in step.net.state_dict().items()}
        history.append(record)
        if progress is not None:
            progress(epoch, config.epochs, loss)
        stop = val is not None and config.patience is not None
        if stop and epoch - best_epoch >= (config.patience or 0):
            logger.info("early stop at epoch %d (best %d)", epoch, best_epoch)
            break
    return history, best_state, best_epoch


@torch.no_grad()
def _eval_boxes(step: TrainStep) -> tuple[np.ndarray, np.ndarray]:
    # Eval-mode boxes of the training universe from its already transformed features: the
    # (N, D) @ (D, rank) input projection is not redone at every hard-negative refresh.
    recalibrate_batchnorm(step.net, step.z)
    step.net.eval()
    los, his = [], []
    for start in range(0, step.z.shape[0], _ROWS_PER_PASS):
        lo, hi = step.net.forward_transformed(step.z[start : start + _ROWS_PER_PASS])
        los.append(lo)
        his.append(hi)
    return torch.cat(los).cpu().numpy(), torch.cat(his).cpu().numpy()


def _evaluate(step: TrainStep, x: np.ndarray, val: PairSet, config: TrainConfig) -> float:
    recalibrate_batchnorm(step.net, step.z)
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
