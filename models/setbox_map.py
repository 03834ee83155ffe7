"""Label-set containment maps: fit `models.setbox` on a closed world of datasets, and the
placer the server keeps (the point network alone, stored as checkpoint bytes).

Why this model serves maps: a dataset's box is the bounding box of its labels' points, so a
list of classes drawn from a dataset lies inside that dataset's box *by construction*, for
datasets the map has seen and for label lists it has never seen. The vector model
(`models.train`) has to learn that from examples and places unseen label lists far less
reliably (`benchmarks/RESULTS.md`).
"""

from __future__ import annotations

import dataclasses
import io
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from models.pairs import PairLookup, PairSet
from models.setbox import LabelSets, SetBoxConfig, SetBoxNet
from models.setbox_train import SetTrainConfig, TrainedSetBoxModel, fit_set_boxes

FORMAT = "task2box-setbox"
_FORMAT_VERSION = 1
# Closed worlds up to this many ordered pairs (about 500 datasets) are listed whole, every
# negative supervised each epoch; larger ones are sampled afresh each epoch: positives, and
# random pairs beside them. The vector trainer switches at the same size
# (`models.budget.FULL_BATCH_MAX_PAIRS`): beyond it, a listed epoch grows as the square of the
# atlas while a sampled one stays the same.
MAX_LISTED_PAIRS = 250_000
# Per epoch of a sampled fit: at most this many positives (drawn uniformly from the listed
# ones, so each dataset keeps its share of them), and this many random pairs per positive.
SAMPLED_POSITIVES = 16_384
_NEGATIVES_PER_POSITIVE = 4
# Validation pairs read at each early-stopping check, at most.
MAX_STOPPING_PAIRS = 200_000


def set_map_config(dim: int, epochs: int, device: str = "auto", seed: int = 0) -> SetTrainConfig:
    """The label-set model as maps train it (the hierarchy benchmark's tuned setting)."""
    return SetTrainConfig(
        dim=dim,
        epochs=epochs,
        device=device,
        hidden=(256,),
        gumbel_beta=0.5,
        pos_weight=0.1,
        feature_rank=64,
        patience=150 if epochs > 150 else None,
        seed=seed,
    )


def closed_world_pairs(pairs: PairSet, n_rows: int) -> PairSet | None:
    """Every ordered pair of a closed world's universe with its target (unlisted: 0), or
    None when there are more than `MAX_LISTED_PAIRS` (then `EpochSampler` trains it)."""
    universe = pairs.universe(n_rows)
    m = universe.size
    if m * (m - 1) > MAX_LISTED_PAIRS:
        return None
    lookup = PairLookup(pairs.i, pairs.j, pairs.y, n_rows)
    i = np.repeat(universe, m)
    j = np.tile(universe, m)
    distinct = i != j
    i, j = i[distinct], j[distinct]
    return PairSet(i, j, lookup(i, j))


class EpochSampler:
    """A fresh sample of a large closed world per epoch: up to `SAMPLED_POSITIVES` listed
    positives (drawn uniformly, so each dataset keeps its share), and
    `_NEGATIVES_PER_POSITIVE` uniformly random pairs of the universe per positive (their
    targets looked up, so a random pair that is positive keeps its value). Memory is bounded
    by the sample, never by the universe's pair count.

    A call gives the epoch's pairs as positions in `pairs.universe(n_rows)`, the order
    `fit_set_boxes` indexes its training boxes by, so no epoch searches the universe.
    """

    def __init__(self, pairs: PairSet, n_rows: int, seed: int = 0) -> None:
        self._universe = pairs.universe(n_rows)
        self._lookup = PairLookup(pairs.i, pairs.j, pairs.y, n_rows)
        self._pos_i = np.searchsorted(self._universe, pairs.i)
        self._pos_j = np.searchsorted(self._universe, pairs.j)
        self._pos_y = np.asarray(pairs.y, dtype=np.float32)
        self._seed = seed

    def __call__(self, epoch: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """`(li, lj, y)`: universe positions of each pair's A and B, and its target."""
        rng = np.random.default_rng((self._seed, epoch))
        listed = self._pos_i.size
        take = min(listed, SAMPLED_POSITIVES)
        # With replacement: an exact draw without it costs O(listed) per epoch.
        chosen = rng.integers(0, listed, take) if take < listed else np.arange(listed)
        m = self._universe.size
        count = _NEGATIVES_PER_POSITIVE * max(take, 1)
        ri, rj = rng.integers(0, m, count), rng.integers(0, m, count)
        keep = ri != rj
        ri, rj = ri[keep], rj[keep]
        y = self._lookup(self._universe[ri], self._universe[rj])
        return (
            np.concatenate([self._pos_i[chosen], ri]),
            np.concatenate([self._pos_j[chosen], rj]),
            np.concatenate([self._pos_y[chosen], y]),
        )


def stopping_pairs(val: PairSet, seed: int = 0) -> PairSet:
    """At most `MAX_STOPPING_PAIRS` of the validation pairs for early stopping: every
    positive, and a uniform sample of the rest (the AP it reads stays comparable from one
    check to the next, and a check costs a bounded time)."""
    if len(val) <= MAX_STOPPING_PAIRS:
        return val
    positive = np.flatnonzero(val.y > 0)
    rest = np.flatnonzero(val.y <= 0)
    room = max(0, MAX_STOPPING_PAIRS - positive.size)
    rng = np.random.default_rng(seed)
    keep = np.sort(
        np.concatenate([positive, rng.choice(rest, size=min(room, rest.size), replace=False)])
    )
    return PairSet(val.i[keep], val.j[keep], val.y[keep])


def fit_set_map(
    emb: np.ndarray,
    sets: LabelSets,
    train: PairSet,
    config: SetTrainConfig,
    *,
    val: PairSet | None = None,
    progress: Callable[[int, int, float], None] | None = None,
) -> TrainedSetBoxModel:
    """Fits the label-set model on a closed-world training set; `val` (targets in [0, 1],
    binarized at 0.5 for the early-stopping AP) keeps the best weights."""
    listed = closed_world_pairs(train, len(sets))
    val_set = None
    if val is not None and len(val):
        binary = PairSet(val.i, val.j, (val.y > 0.5).astype(np.float32))
        val_set = stopping_pairs(binary, seed=config.seed)
    if listed is not None:
        return fit_set_boxes(emb, sets, listed, config, val=val_set, progress=progress)
    # Too many pairs to list: `train` fixes the universe, a sampler feeds each epoch.
    sampler = EpochSampler(train, len(sets), seed=config.seed)
    return fit_set_boxes(emb, sets, train, config, val=val_set, progress=progress, sampler=sampler)


class SetBoxPlacer:
    """The point network of a fitted label-set map: a label list → its box.

    Attributes:
        net: the network, in eval mode.
        beta: the soft-volume temperature containment is read with.
        gumbel_beta: None: containment is read with the hard intersection (a label subset
            then scores exactly 1).
    """

    def __init__(self, net: SetBoxNet, beta: float, gumbel_beta: float | None) -> None:
        self.net = net.eval()
        self.beta = beta
        self.gumbel_beta = gumbel_beta

    @classmethod
    def from_model(cls, model: TrainedSetBoxModel) -> SetBoxPlacer:
        config = model.config
        gumbel = config.gumbel_beta if config.score_gumbel else None
        return cls(model.net.to("cpu"), config.beta, gumbel)

    @property
    def in_dim(self) -> int:
        return self.net.config.in_dim

    @torch.inference_mode()
    def place(self, label_embeddings: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The `(d,)` corners of the box of a `(k, E)` set of label embeddings, k ≥ 1.

        Raises:
            ValueError: on an empty set, a wrong width or non-finite values.
        """
        lo, hi = self.net.single_box(torch.from_numpy(self._checked(label_embeddings)))
        return lo.numpy().astype(np.float64), hi.numpy().astype(np.float64)

    @torch.inference_mode()
    def points(self, label_embeddings: np.ndarray) -> np.ndarray:
        """`(k, d)` the points of `(k, E)` label embeddings: a dataset's box bounds its
        labels' points (plus the margin).

        Raises:
            ValueError: on an empty set, a wrong width or non-finite values.
        """
        emb = torch.from_numpy(self._checked(label_embeddings))
        out: np.ndarray = self.net.points(emb).numpy().astype(np.float64)
        return out

    def _checked(self, label_embeddings: np.ndarray) -> np.ndarray:
        emb = np.asarray(label_embeddings, dtype=np.float32)
        if emb.ndim != 2 or emb.shape[0] == 0 or emb.shape[1] != self.in_dim:
            raise ValueError(f"expected a non-empty (k, {self.in_dim}) array, got {emb.shape}")
        if not np.isfinite(emb).all():
            raise ValueError("label embeddings hold NaN or inf")
        return emb

    def to_bytes(self) -> bytes:
        """A checkpoint readable with `torch.load(..., weights_only=True)`."""
        payload: dict[str, Any] = {
            "format": FORMAT,
            "version": _FORMAT_VERSION,
            "net_config": {
                k: list(v) if isinstance(v, tuple) else v
                for k, v in dataclasses.asdict(self.net.config).items()
            },
            "state_dict": {k: v.detach().cpu() for k, v in self.net.state_dict().items()},
            "beta": self.beta,
            "gumbel_beta": self.gumbel_beta,
        }
        buffer = io.BytesIO()
        torch.save(payload, buffer)
        return buffer.getvalue()

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> SetBoxPlacer:
        """From a checkpoint already read with `weights_only=True`.

        Raises:
            ValueError: if it is not a checkpoint of this format and version.
        """
        if payload.get("format") != FORMAT:
            raise ValueError(f"not a {FORMAT} checkpoint")
        if payload.get("version") != _FORMAT_VERSION:
            raise ValueError(f"unsupported {FORMAT} version {payload.get('version')!r}")
        config = dict(payload["net_config"])
        config["hidden"] = tuple(config["hidden"])
        net = SetBoxNet(SetBoxConfig(**config))
        net.load_state_dict(payload["state_dict"])
        gumbel = payload["gumbel_beta"]
        return cls(net, float(payload["beta"]), None if gumbel is None else float(gumbel))

    @classmethod
    def from_bytes(cls, data: bytes) -> SetBoxPlacer:
        """Reads `to_bytes`' output (safe: `weights_only=True`)."""
        payload = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
        if not isinstance(payload, dict):
            raise ValueError(f"not a {FORMAT} checkpoint")
        return cls.from_payload(payload)
