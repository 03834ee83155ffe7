"""Transferability estimates: LEEP, NCE and LogME for every ordered (source, target) pair.

Fine-tuning every pair of datasets is out of reach, so transfer is estimated from frozen
features of a small labelled sample per dataset:

- a softmax probe is fitted on each source's features and labels (all sources at once, as
  batched matrix products), standing in for the source model's classifier head;
- the probe is applied to each target's features, giving the source-label distribution
  `θ(x)` of every target sample;
- **LEEP** (Nguyen et al. 2020) is the mean log-likelihood of the target labels under the
  "expected empirical predictor" `Σ_z P̂(y|z)·θ(x)_z`, with `P̂(y|z)` read from the joint of
  `θ` and the target labels. It is ≤ 0, and 0 when the probe's classes determine the labels;
- **NCE** (Tran et al. 2019) is `-H(Y|Z)` of the target labels given the probe's hard
  predictions `Z = argmax θ(x)`: ≤ 0, and 0 when each predicted class maps to one label;
- **LogME** (You et al. 2021) is the maximum log evidence per sample of a Bayesian linear
  model from features to one-hot labels, averaged over the target's classes. It needs no
  probe; with one shared backbone (the Hub's CLIP features) the target's features alone
  would give every source the same score, so by default it reads the probe's output `θ(x)`
  as the features (`logme_on="probe"`). `logme_on="features"` is the paper's use, for when
  each source brings its own backbone (the evidence benchmark calls it per source).

The scores are asymmetric: a fine-grained source predicts a coarse target's labels, not the
other way round. They are only comparable down one target's column (their scales depend on
the target's number of classes), so `normalize_estimates` brings each target to the scale
the measured transfer scores train at (`models.transfer.normalize_per_target`).

Tasks of different sizes are padded into one batch (`Tasks.stack`); padded rows are zero
and masked, padded classes get zero probability, so they change no score.

The pair computation is N² probe outputs of `n × C` each, so it is organized for that size:
sources are blocked by their number of classes (a block is only as wide as its widest
source); one matrix product gives a block's logits for every target; LEEP's joint is one
more per target; NCE counts its joint with one scatter; LogME (`models.logme`) needs only
each pair's `C × C` Gram and `FᵀY`, and every (pair, class) fixed point leaves the batch
once it converges. What depends on the targets alone is computed once per call.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import torch

from models.logme import LOGME_FLOOR, LOGME_MAX_ITER, LOGME_TOL, logme_of_gram
from models.transfer import REFERENCE_MEAN, normalize_per_target

ESTIMATORS = ("leep", "nce", "logme")
DEFAULT_ESTIMATOR = "leep"
Estimator = Literal["leep", "nce", "logme"]
LogMEInput = Literal["probe", "features"]

# Elements of one `(sources, targets, samples, classes)` block of probe outputs; bounds the
# memory of the pair computation (float32: 256 MiB per block).
DEFAULT_BLOCK_ELEMENTS = 1 << 26


@dataclass(frozen=True)
class Tasks:
    """Labelled feature samples of several tasks, padded into one batch.

    Attributes:
        features: `(N, n, d)` float; rows past a task's size are zero.
        labels: `(N, n)` int64 in `[0, classes[i])`; 0 past a task's size.
        mask: `(N, n)` bool, True on real rows.
        classes: `(N,)` int64, each task's number of classes (every class has a sample).
    """

    features: torch.Tensor
    labels: torch.Tensor
    mask: torch.Tensor
    classes: torch.Tensor

    @classmethod
    def stack(
        cls,
        tasks: Sequence[tuple[np.ndarray, np.ndarray]],
        *,
        device: torch.device | str = "cpu",
        dtype: torch.dtype = torch.float32,
    ) -> Tasks:
        """Pads `(features (n_i, d), labels (n_i,))` pairs into one batch.

        Labels may be any integers (or strings); each task's distinct labels are renumbered
        `0..c-1` in sorted order, so only their partition of the samples matters.

        Raises:
            ValueError: for no tasks, a task with no samples, features that are not 2-D or
                not finite, labels of another length, or tasks of different feature widths.
        """
        if not tasks:
            raise ValueError("need at least one task")
        width = None
        encoded: list[tuple[np.ndarray, np.ndarray, int]] = []
        for i, (features, labels) in enumerate(tasks):
            x = np.asarray(features, dtype=np.float64)
            y = np.asarray(labels)
            if x.ndim != 2 or x.shape[0] == 0:
                raise ValueError(f"task {i}: features must be (n >= 1, d), got shape {x.shape}")
            if y.shape != (x.shape[0],):
                raise ValueError(f"task {i}: labels must have shape ({x.shape[0]},), got {y.shape}")
            if not np.isfinite(x).all():
                raise ValueError(f"task {i}: features hold NaN or infinite values")
            if width is None:
                width = x.shape[1]
            elif x.shape[1] != width:
                raise ValueError(f"task {i}: features are {x.shape[1]}-d, task 0's {width}-d")
            values, codes = np.unique(y, return_inverse=True)
            encoded.append((x, codes.reshape(-1), len(values)))
        n_max = max(x.shape[0] for x, _, _ in encoded)
        assert width is not None
        features_out = np.zeros((len(encoded), n_max, width))
        labels_out = np.zeros((len(encoded), n_max), dtype=np.int64)
        mask_out = np.zeros((len(encoded), n_max), dtype=bool)
        for i, (x, codes, _) in enumerate(encoded):
            features_out[i, : len(x)] = x
            labels_out[i, : len(x)] = codes
            mask_out[i, : len(x)] = True
        return cls(
            features=torch.as_tensor(features_out, dtype=dtype, device=device),
            labels=torch.as_tensor(labels_out, device=device),
            mask=torch.as_tensor(mask_out, device=device),
            classes=torch.as_tensor([c for _, _, c in encoded], dtype=torch.int64, device=device),
        )

    def __len__(self) -> int:
        return int(self.features.shape[0])

    def to(self, device: torch.device | str) -> Tasks:
        return Tasks(
            self.features.to(device),
            self.labels.to(device),
            self.mask.to(device),
            self.classes.to(device),
        )


@dataclass(frozen=True)
class ProbeConfig:
    """The softmax probe's fit: full-batch Adam from zero weights (deterministic).

    `weight_decay` is an L2 penalty on the weights of the standardized features; it keeps a
    probe on separable data from driving its logits to infinity, which would make every
    `θ(x)` one-hot and LEEP collapse onto NCE.
    """

    steps: int = 200
    lr: float = 0.05
    weight_decay: float = 1e-3

    def __post_init__(self) -> None:
        if self.steps < 1:
            raise ValueError(f"steps must be >= 1, got {self.steps}")
        if not (self.lr > 0 and math.isfinite(self.lr)):
            raise ValueError(f"lr must be a finite number > 0, got {self.lr}")
        if not (self.weight_decay >= 0 and math.isfinite(self.weight_decay)):
            raise ValueError(f"weight_decay must be finite and >= 0, got {self.weight_decay}")


@dataclass(frozen=True)
class Probes:
    """One fitted softmax probe per source, folded onto the raw features.

    Attributes:
        weight: `(S, d, C)`; `logits = x @ weight + bias`.
        bias: `(S, C)`; `-inf` on padded classes, so they get probability 0.
    """

    weight: torch.Tensor
    bias: torch.Tensor

    def log_probs(self, features: torch.Tensor) -> torch.Tensor:
        """`(S, T, n, C)` log θ of `(T, n, d)` target features under every probe."""
        logits = torch.einsum("tnd,sdc->stnc", features, self.weight)
        return torch.log_softmax(logits + self.bias[:, None, None, :], dim=-1)


def _class_mask(classes: torch.Tensor, width: int) -> torch.Tensor:
    return torch.arange(width, device=classes.device)[None, :] < classes[:, None]


def fit_probes(sources: Tasks, config: ProbeConfig | None = None) -> Probes:
    """Fits a multinomial logistic regression on each source task's features and labels.

    Features are standardized per source (mean and scale over its samples), and the
    standardization is folded into the returned weights, so the probes apply to raw features.
    The sources are fitted together: their losses are independent, so one optimizer over the
    summed loss fits each as if alone.
    """
    config = config or ProbeConfig()
    x, mask = sources.features, sources.mask
    counts = mask.sum(dim=1, keepdim=True).to(x.dtype)  # (S, 1)
    m = mask[..., None].to(x.dtype)
    mean = (x * m).sum(dim=1) / counts
    var = (((x - mean[:, None, :]) * m) ** 2).sum(dim=1) / counts
    scale = torch.sqrt(var).clamp_min(1e-6)
    z = (x - mean[:, None, :]) / scale[:, None, :] * m
    c_max = int(sources.classes.max())
    class_mask = _class_mask(sources.classes, c_max)  # (S, C)
    neg_inf = torch.full_like(class_mask, float("-inf"), dtype=x.dtype)
    class_bias = torch.where(class_mask, torch.zeros_like(neg_inf), neg_inf)
    weight = torch.zeros(len(sources), x.shape[2], c_max, dtype=x.dtype, device=x.device)
    bias = torch.zeros(len(sources), c_max, dtype=x.dtype, device=x.device)
    weight.requires_grad_(True)
    bias.requires_grad_(True)
    optimizer = torch.optim.Adam([weight, bias], lr=config.lr)
    with torch.enable_grad():
        for _ in range(config.steps):
            optimizer.zero_grad()
            logits = torch.bmm(z, weight) + (bias + class_bias)[:, None, :]
            nll = -torch.log_softmax(logits, dim=-1).gather(-1, sources.labels[..., None])
            loss = ((nll[..., 0] * mask).sum(dim=1) / counts[:, 0]).sum()
            loss = loss + config.weight_decay / 2 * (weight * weight).sum()
            loss.backward()  # type: ignore[no-untyped-call]
            optimizer.step()
    w = weight.detach() / scale[:, :, None]
    b = bias.detach() - torch.einsum("sd,sdc->sc", mean, w) + class_bias
    return Probes(weight=w, bias=b)


def _one_hot(
    labels: torch.Tensor, mask: torch.Tensor, width: int, dtype: torch.dtype
) -> torch.Tensor:
    return torch.nn.functional.one_hot(labels, width).to(dtype) * mask[..., None].to(dtype)


def _conditional(joint: torch.Tensor, dim: int) -> torch.Tensor:
    """`P(y | z)` from a joint `P(z, y)`, summing over `dim` (the label axis); 0 for a `z`
    that never occurs."""
    marginal = joint.sum(dim=dim, keepdim=True)
    return torch.where(marginal > 0, joint / marginal.clamp_min(1e-300), 0.0)


def _nce_of_joint(joint: torch.Tensor) -> torch.Tensor:
    """`Σ P(z, y) log P(y | z)` over the last two axes `(..., Cs, Ct)` of a joint."""
    ratio = joint / joint.sum(dim=-1, keepdim=True).clamp_min(1e-300)
    terms = torch.where(joint > 0, joint * torch.log(ratio.clamp_min(1e-300)), 0.0)
    return terms.sum(dim=(-1, -2))


def leep(
    probs: torch.Tensor, labels: torch.Tensor, mask: torch.Tensor, classes: int
) -> torch.Tensor:
    """LEEP of target labels given source-label distributions.

    Args:
        probs: `(..., n, Cs)` θ(x) of each target sample (rows sum to 1).
        labels: `(..., n)` target labels in `[0, classes)`.
        mask: `(..., n)` True on real samples (at least one per batch entry).
        classes: the number of target label columns (the batch's maximum).

    Returns:
        `(...)` LEEP, ≤ 0.
    """
    y = _one_hot(labels, mask, classes, probs.dtype)  # (..., n, Ct)
    probs = probs * mask[..., None].to(probs.dtype)
    n = mask.sum(dim=-1).to(probs.dtype)  # (...)
    joint = probs.transpose(-1, -2) @ y / n[..., None, None]  # (..., Cs, Ct)
    # Each sample needs only its own label's column of P̂(y|z): gathered, not a full product.
    at_label = _conditional(joint, -1).transpose(-1, -2)  # (..., Ct, Cs)
    index = labels[..., None].expand(*labels.shape, probs.shape[-1])
    picked = (probs * at_label.gather(-2, index)).sum(dim=-1)  # (..., n); 0 on padded rows
    return _mean_log(picked, mask, n)


def _mean_log(picked: torch.Tensor, mask: torch.Tensor, n: torch.Tensor) -> torch.Tensor:
    # Softmax outputs are positive, so a real row's `picked` is too unless it underflowed.
    tiny = torch.finfo(picked.dtype).tiny
    logs = torch.where(mask, torch.log(picked.clamp_min(tiny)), 0.0)
    return logs.sum(dim=-1) / n


def nce(
    probs: torch.Tensor, labels: torch.Tensor, mask: torch.Tensor, classes: int
) -> torch.Tensor:
    """NCE, `-H(Y | Z)`, of target labels given the probe's hard predictions `Z = argmax θ`.

    Args: as `leep`.

    Returns:
        `(...)` NCE, ≤ 0.
    """
    y = _one_hot(labels, mask, classes, probs.dtype)
    z = _one_hot(probs.argmax(dim=-1), mask, probs.shape[-1], probs.dtype)
    n = mask.sum(dim=-1).to(probs.dtype)
    return _nce_of_joint(z.transpose(-1, -2) @ y / n[..., None, None])


def logme(
    features: torch.Tensor, labels: torch.Tensor, mask: torch.Tensor, classes: torch.Tensor
) -> torch.Tensor:
    """LogME: the maximum log evidence per sample of a linear model features → one-hot labels.

    Computed from `FᵀF` and `FᵀY` in float64 by `models.logme.logme_of_gram`.

    Args:
        features: `(..., n, d)`; padded rows must be zero.
        labels: `(..., n)` in `[0, classes)`.
        mask: `(..., n)` True on real samples.
        classes: `(...)` int64 number of classes of each entry (every class has a sample).

    Returns:
        `(...)` LogME, float64, averaged over each entry's classes.
    """
    f = features.to(torch.float64) * mask[..., None].to(torch.float64)
    y = _one_hot(labels, mask, int(classes.max()), torch.float64)  # (..., n, C)
    n = mask.sum(dim=-1).to(torch.float64)
    return logme_of_gram(
        f.transpose(-1, -2) @ f, f.transpose(-1, -2) @ y, y.sum(dim=-2), n, classes
    )


@dataclass(frozen=True)
class _Targets:
    """What every source block reuses of the targets: computed once per call."""

    flat: torch.Tensor  # (T·n, d) features
    onehot: torch.Tensor  # (T, Ct, n) masked one-hot labels, features' dtype
    labels: torch.Tensor  # (T, n)
    label_rows: torch.Tensor  # (T·n,) each sample's row in a `(T·Ct, ·)` per-label table
    mask: torch.Tensor  # (T, n)
    n: torch.Tensor  # (T,) samples, features' dtype
    counts: torch.Tensor  # (T, Ct) float64 samples per class
    classes: torch.Tensor  # (T,)
    padded: bool  # some target has fewer rows than the batch

    @classmethod
    def of(cls, targets: Tasks) -> _Targets:
        t, n, d = targets.features.shape
        dtype = targets.features.dtype
        onehot = _one_hot(targets.labels, targets.mask, int(targets.classes.max()), dtype)
        return cls(
            flat=targets.features.reshape(t * n, d),
            onehot=onehot.transpose(1, 2).contiguous(),
            labels=targets.labels,
            label_rows=(
                torch.arange(t, device=targets.labels.device)[:, None] * onehot.shape[2]
                + targets.labels
            ).reshape(-1),
            mask=targets.mask,
            n=targets.mask.sum(dim=1).to(dtype),
            counts=onehot.sum(dim=1).to(torch.float64),
            classes=targets.classes,
            padded=not bool(targets.mask.all()),
        )


class _Clock:
    """Adds up seconds per phase into a caller's dict (waiting for the GPU at each edge)."""

    def __init__(self, into: dict[str, float] | None, device: torch.device) -> None:
        self._into, self._device = into, device
        self._last = time.perf_counter()

    def lap(self, phase: str) -> None:
        if self._into is None:
            return
        if self._device.type == "cuda":
            torch.cuda.synchronize(self._device)
        now = time.perf_counter()
        self._into[phase] = self._into.get(phase, 0.0) + now - self._last
        self._last = now


def _score_block(
    probes: Probes, targets: _Targets, estimators: Sequence[str], clock: _Clock
) -> dict[str, torch.Tensor]:
    """`{estimator: (b, T)}` for a block of `b` sources against every target.

    Probe outputs are laid out `(T, n, b·Cs)`: one matrix product gives every source's
    logits, and one more per target gives LEEP's joint for all `b` sources. The
    probabilities are the largest tensor; LEEP and LogME each build one more of their size
    (LogME's in float64), which `block_elements` bounds.
    """
    b, d, cs = probes.weight.shape
    t, n, ct = len(targets.classes), targets.labels.shape[1], targets.onehot.shape[1]
    weight = probes.weight.permute(1, 0, 2).reshape(d, b * cs)
    logits = (targets.flat @ weight).view(t, n, b, cs).add_(probes.bias)
    probs = torch.softmax(logits, dim=-1)
    del logits
    if targets.padded:
        probs.mul_(targets.mask[:, :, None, None].to(probs.dtype))
    flat = probs.view(t, n, b * cs)
    clock.lap("probe outputs")
    out: dict[str, torch.Tensor] = {}
    if "leep" in estimators:
        joint = torch.bmm(targets.onehot, flat).view(t, ct, b, cs)  # (T, Ct, b, Cs)
        joint /= targets.n[:, None, None, None]
        # Each sample's label row of P̂(y|z), for every source at once: whole rows copied.
        rows = _conditional(joint, 1).view(t * ct, b * cs).index_select(0, targets.label_rows)
        picked = (flat * rows.view(t, n, b * cs)).view(t, n, b, cs).sum(dim=-1)
        mask = targets.mask[:, :, None].expand(t, n, b)
        out["leep"] = _mean_log(picked.transpose(1, 2), mask.transpose(1, 2), targets.n[:, None]).T
        clock.lap("leep")
    if "nce" in estimators:
        z = probs.argmax(dim=-1)  # (T, n, b)
        offset = torch.arange(b, device=z.device)[None, None, :] * (cs * ct)
        index = (offset + z * ct + targets.labels[:, :, None]).reshape(t, n * b)
        weights = targets.mask[:, :, None].expand(t, n, b).reshape(t, n * b).to(torch.float64)
        counts = torch.zeros(t, b * cs * ct, dtype=torch.float64, device=z.device)
        counts.scatter_add_(1, index, weights)
        joint = counts.view(t, b, cs, ct) / targets.n.to(torch.float64)[:, None, None, None]
        out["nce"] = _nce_of_joint(joint).T
        clock.lap("nce")
    if "logme" in estimators:
        # In float64: the evidence reads the small eigenvalues of `FᵀF`, and `FᵀY` in its
        # eigenbasis, and float32 sums of n products move both enough to change LogME
        # beyond float32 tolerance (the float32 test in test_transferability_pairs).
        by_pair = torch.empty(t, b, n, cs, dtype=torch.float64, device=probs.device)
        by_pair.copy_(probs.transpose(1, 2))
        gram = torch.einsum("tbnc,tbne->tbce", by_pair, by_pair)
        # FᵀY: each sample's probabilities added into its label's row.
        index = targets.labels[:, None, :, None].expand(t, b, n, cs)
        fty64 = torch.zeros(t, b, ct, cs, dtype=torch.float64, device=probs.device)
        fty64.scatter_add_(2, index, by_pair)
        del by_pair
        scores = logme_of_gram(
            gram,
            fty64.transpose(2, 3),
            targets.counts[:, None, :],
            targets.n[:, None],
            targets.classes[:, None],
        )
        out["logme"] = scores.T
        clock.lap("logme")
    return out


def estimate_transfer(
    sources: Tasks,
    targets: Tasks,
    *,
    estimators: Sequence[str] = ESTIMATORS,
    probe: ProbeConfig | None = None,
    logme_on: LogMEInput = "probe",
    block_elements: int = DEFAULT_BLOCK_ELEMENTS,
    seconds: dict[str, float] | None = None,
) -> dict[str, np.ndarray]:
    """Every estimator's score of every ordered pair (source i → target j).

    Sources and targets must share one feature space (one backbone); the computation runs
    on their tensors' device, in blocks of sources bounded by `block_elements`.

    Args:
        seconds: when given, the seconds spent per phase ("probe fit", "probe outputs" and
            each estimator) are added to it, for the speed benchmark.

    Returns:
        `{estimator: (S, T) float64}`; higher means a better expected transfer.

    Raises:
        ValueError: for an unknown estimator, an unknown `logme_on`, mismatched feature
            widths or devices, or a non-positive `block_elements`.
    """
    unknown = [e for e in estimators if e not in ESTIMATORS]
    if unknown or not estimators:
        raise ValueError(f"estimators must be among {', '.join(ESTIMATORS)}, got {estimators}")
    if logme_on not in ("probe", "features"):
        raise ValueError(f"logme_on must be 'probe' or 'features', got {logme_on!r}")
    if sources.features.shape[2] != targets.features.shape[2]:
        raise ValueError(
            f"sources are {sources.features.shape[2]}-d, targets {targets.features.shape[2]}-d"
        )
    if sources.features.device != targets.features.device:
        raise ValueError(
            f"sources are on {sources.features.device}, targets on {targets.features.device}"
        )
    if block_elements < 1:
        raise ValueError(f"block_elements must be >= 1, got {block_elements}")
    clock = _Clock(seconds, sources.features.device)
    out = {e: np.zeros((len(sources), len(targets))) for e in estimators}
    if "logme" in estimators and logme_on == "features":
        # Source-independent: the target's own features, one score per target.
        scores = logme(targets.features, targets.labels, targets.mask, targets.classes)
        out["logme"][:] = scores.cpu().numpy()[None, :]
        clock.lap("logme")
    pair_estimators = [e for e in estimators if e != "logme" or logme_on == "probe"]
    if not pair_estimators:
        return out
    probes = fit_probes(sources, probe)
    clock.lap("probe fit")
    prepared = _Targets.of(targets)
    with torch.no_grad():
        for rows, width in _source_blocks(sources.classes, targets, block_elements):
            index = torch.as_tensor(rows, device=probes.weight.device)
            # A block's probes keep only its widest source's classes: the rest are padding
            # (probability 0), which no estimator reads.
            part = Probes(probes.weight[index, :, :width], probes.bias[index, :width])
            for name, scores in _score_block(part, prepared, pair_estimators, clock).items():
                out[name][rows] = scores.cpu().numpy()
    return out


def _source_blocks(
    classes: torch.Tensor, targets: Tasks, block_elements: int
) -> list[tuple[np.ndarray, int]]:
    """Blocks of source indices and their class width, `(sources, Cs) ≤ block_elements`.

    Sources are taken in order of their number of classes, so a block of 2-class sources is
    not padded to the width of a 300-class one.
    """
    counts = classes.cpu().numpy()
    order = np.argsort(counts, kind="stable")
    per_class = len(targets) * targets.features.shape[1]  # elements per source class
    blocks: list[tuple[np.ndarray, int]] = []
    start = 0
    while start < len(order):
        stop = start + 1
        while stop < len(order) and (stop + 1 - start) * int(counts[order[stop]]) * per_class <= (
            block_elements
        ):
            stop += 1
        blocks.append((order[start:stop], int(counts[order[stop - 1]])))
        start = stop
    return blocks


def normalize_estimates(
    scores: np.ndarray, valid: np.ndarray | None = None, reference_mean: float = REFERENCE_MEAN
) -> np.ndarray:
    """Estimates as non-negative transfer scores, normalized per target like measured ones.

    Each target's column is shifted so its lowest valid estimate is 0 (LEEP and NCE are ≤ 0,
    LogME of any sign; only the order down a column carries meaning), then divided by its
    mean and brought to `reference_mean` (`models.transfer.normalize_per_target`), so
    estimated and measured scores train a transfer map alike.

    Args:
        scores: `(S, T)` estimates (source rows, target columns).
        valid: `(S, T)` bool, the pairs to keep (e.g. no self pairs); all by default.

    Returns:
        `(S, T)` float64, NaN where not valid.

    Raises:
        ValueError: for a non-2-D or non-finite `scores`, or a `valid` of another shape.
    """
    scores = np.asarray(scores, dtype=np.float64)
    if scores.ndim != 2:
        raise ValueError(f"scores must be (sources, targets), got shape {scores.shape}")
    keep = np.ones(scores.shape, dtype=bool) if valid is None else np.asarray(valid, dtype=bool)
    if keep.shape != scores.shape:
        raise ValueError(f"valid has shape {keep.shape}, scores {scores.shape}")
    if not np.isfinite(scores[keep]).all():
        raise ValueError("estimates must be finite")
    low = np.where(keep, scores, np.inf).min(axis=0)
    shifted = scores - np.where(np.isfinite(low), low, 0.0)[None, :]
    rows, cols = np.nonzero(keep)
    out = np.full(scores.shape, np.nan)
    out[rows, cols] = normalize_per_target(cols, shifted[rows, cols], reference_mean)
    return out


__all__ = [
    "DEFAULT_ESTIMATOR",
    "ESTIMATORS",
    "LOGME_FLOOR",
    "LOGME_MAX_ITER",
    "LOGME_TOL",
    "Estimator",
    "ProbeConfig",
    "Probes",
    "Tasks",
    "estimate_transfer",
    "fit_probes",
    "leep",
    "logme",
    "logme_of_gram",
    "nce",
    "normalize_estimates",
]
