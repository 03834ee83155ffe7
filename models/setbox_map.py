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
# Closed worlds up to this many ordered pairs are listed whole (every negative supervised);
# larger ones are sampled afresh each epoch: positives, and random pairs beside them.
MAX_LISTED_PAIRS = 2_000_000
# Per epoch of a sampled fit: at most this many positives (drawn uniformly from the listed
# ones, so each dataset keeps its share of them), and this many random pairs per positive.
SAMPLED_POSITIVES = 65_536
_NEGATIVES_PER_POSITIVE = 4


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
    positives, and `_NEGATIVES_PER_POSITIVE` uniformly random pairs of the universe per
    positive (their targets looked up, so a random pair that is positive keeps its value).
    Memory is bounded by the sample, never by the universe's pair count."""

    def __init__(self, pairs: PairSet, n_rows: int, seed: int = 0) -> None:
        self._pairs = pairs
        self._universe = pairs.universe(n_rows)
        self._lookup = PairLookup(pairs.i, pairs.j, pairs.y, n_rows)
        self._seed = seed

    def __call__(self, epoch: int) -> PairSet:
        rng = np.random.default_rng((self._seed, epoch))
        listed = len(self._pairs)
        take = min(listed, SAMPLED_POSITIVES)
        chosen = rng.choice(listed, size=take, replace=False) if take < listed else None
        pi = self._pairs.i if chosen is None else self._pairs.i[chosen]
        pj = self._pairs.j if chosen is None else self._pairs.j[chosen]
        count = _NEGATIVES_PER_POSITIVE * max(take, 1)
        m = self._universe.size
        ri = self._universe[rng.integers(0, m, count)]
        rj = self._universe[rng.integers(0, m, count)]
        keep = ri != rj
        ri, rj = ri[keep], rj[keep]
        i = np.concatenate([pi, ri])
        j = np.concatenate([pj, rj])
        y = np.concatenate([self._pairs.y if chosen is None else self._pairs.y[chosen],
                            self._lookup(ri, rj)])  # fmt: skip
        return PairSet(i, j, y)


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
        val_set = PairSet(val.i, val.j, (val.y > 0.5).astype(np.float32))
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

    @torch.no_grad()
    def place(self, label_embeddings: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The `(d,)` corners of the box of a `(k, E)` set of label embeddings, k ≥ 1.

        Raises:
            ValueError: on an empty set, a wrong width or non-finite values.
        """
        emb = np.asarray(label_embeddings, dtype=np.float32)
        if emb.ndim != 2 or emb.shape[0] == 0 or emb.shape[1] != self.in_dim:
            raise ValueError(f"expected a non-empty (k, {self.in_dim}) array, got {emb.shape}")
        if not np.isfinite(emb).all():
            raise ValueError("label embeddings hold NaN or inf")
        table = torch.from_numpy(emb)
        index = torch.arange(emb.shape[0])[None]
        lo, hi = self.net(table, index, torch.ones_like(index, dtype=torch.bool))
        return lo[0].numpy().astype(np.float64), hi[0].numpy().astype(np.float64)

    @torch.no_grad()
    def points(self, label_embeddings: np.ndarray) -> np.ndarray:
        """`(k, d)` the points of `(k, E)` label embeddings: a dataset's box bounds its
        labels' points (plus the margin).

        Raises:
            ValueError: on an empty set, a wrong width or non-finite values.
        """
        emb = np.asarray(label_embeddings, dtype=np.float32)
        if emb.ndim != 2 or emb.shape[0] == 0 or emb.shape[1] != self.in_dim:
            raise ValueError(f"expected a non-empty (k, {self.in_dim}) array, got {emb.shape}")
        if not np.isfinite(emb).all():
            raise ValueError("label embeddings hold NaN or inf")
        out: np.ndarray = self.net.points(torch.from_numpy(emb)).numpy().astype(np.float64)
        return out

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
