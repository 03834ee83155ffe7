"""`TrainedBoxModel`: a fitted box network that places any feature row and scores pairs."""

from __future__ import annotations

import dataclasses
import io
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import torch

from models import ops
from models.box import Boxes
from models.device import select_device
from models.network import BoxNet, BoxNetConfig
from models.train_config import TrainConfig

FORMAT = "task2box-boxnet"
_FORMAT_VERSION = 1
# Rows per forward pass / pairs per scoring chunk: bounds memory for any N.
_ROWS_PER_PASS = 65_536
_PAIRS_PER_CHUNK = 1_000_000


class TrainedBoxModel:
    """A trained `BoxNet` plus what produced it.

    Attributes:
        net: the network, in eval mode.
        config: the training configuration.
        history: one dict per epoch: `{"epoch", "loss", "pairs", "val"}`: mean training loss,
            supervised pairs seen, and the validation metric (None when not evaluated).
        best_epoch: the epoch whose weights were kept (best validation metric, else last).
        device: where the network lives.
    """

    def __init__(
        self,
        net: BoxNet,
        config: TrainConfig,
        history: list[dict[str, float | int | None]],
        best_epoch: int,
        device: torch.device,
    ) -> None:
        self.net = net.to(device).eval()
        self.config = config
        self.history = history
        self.best_epoch = best_epoch
        self.device = device
        params = config.loss_params()
        #: Scoring temperatures: read containment the way the loss was trained on it.
        self.beta: float = params.beta
        self.gumbel_beta: float | None = params.gumbel_beta

    def _features(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=np.float32)
        in_dim = self.net.config.in_dim
        if x.ndim != 2 or x.shape[1] != in_dim:
            raise ValueError(f"expected features of shape (N, {in_dim}), got {x.shape}")
        if not np.isfinite(x).all():
            raise ValueError(f"features of shape {x.shape} hold NaN or inf")
        return x

    def boxes(self, x: np.ndarray) -> Boxes:
        """Boxes for any feature rows (seen or unseen) in one forward pass, eval mode.

        Args:
            x: `(N, D)` features.

        Returns:
            `Boxes` with `(N, d)` corners.

        Raises:
            ValueError: on a wrong shape or non-finite features.
        """
        lo, hi = forward_boxes(self.net, self._features(x), self.device)
        return Boxes(lo.cpu().numpy(), hi.cpu().numpy())

    def predict_pairs(self, x: np.ndarray, i: np.ndarray, j: np.ndarray) -> np.ndarray:
        """`P(box_i ⊆ box_j)` for each listed pair.

        Only the rows that appear in `i` or `j` are passed through the network.

        Args:
            x: `(N, D)` features.
            i, j: `(P,)` row indices.

        Returns:
            `(P,)` float32 in `[0, 1]`.
        """
        return pair_containment(
            self.net,
            self._features(x),
            i,
            j,
            beta=self.beta,
            gumbel_beta=self.gumbel_beta,
            device=self.device,
        )

    def to_bytes(self) -> bytes:
        """The checkpoint, readable with `torch.load(..., weights_only=True)`."""
        payload: dict[str, Any] = {
            "format": FORMAT,
            "version": _FORMAT_VERSION,
            "train_config": _plain(dataclasses.asdict(self.config)),
            "net_config": _plain(dataclasses.asdict(self.net.config)),
            "state_dict": {k: v.detach().cpu() for k, v in self.net.state_dict().items()},
            "history": self.history,
            "best_epoch": self.best_epoch,
        }
        buffer = io.BytesIO()
        torch.save(payload, buffer)
        return buffer.getvalue()

    def save(self, path: str | Path) -> None:
        """Write `to_bytes()` to a file.

        The file is written next to `path` and renamed over it, so a crash never leaves a
        half-written checkpoint.
        """
        path = Path(path)
        data = self.to_bytes()
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    @classmethod
    def from_payload(cls, payload: Any, device: str = "cpu") -> TrainedBoxModel:
        """A model from a checkpoint already read with `weights_only=True`.

        Raises:
            ValueError: if it is not a checkpoint of this format and version.
        """
        if not isinstance(payload, dict) or payload.get("format") != FORMAT:
            raise ValueError(f"not a {FORMAT} checkpoint")
        if payload.get("version") != _FORMAT_VERSION:
            raise ValueError(
                f"unsupported checkpoint version {payload.get('version')!r}, "
                f"expected {_FORMAT_VERSION}"
            )
        train_config = TrainConfig(**payload["train_config"])
        net_cfg = dict(payload["net_config"])
        net = BoxNet(BoxNetConfig(**net_cfg))
        net.load_state_dict(payload["state_dict"])
        return cls(
            net,
            train_config,
            list(payload["history"]),
            int(payload["best_epoch"]),
            select_device(device),
        )

    @classmethod
    def from_bytes(cls, data: bytes, device: str = "cpu") -> TrainedBoxModel:
        """Reads `to_bytes()` (safe: `weights_only=True`)."""
        return cls.from_payload(read_checkpoint(data), device=device)

    @classmethod
    def load(cls, path: str | Path, device: str = "cpu") -> TrainedBoxModel:
        """Read a checkpoint written by `save` (safe: `weights_only=True`).

        Args:
            path: checkpoint file.
            device: where to put the network ("cpu", "cuda", "mps" or "auto").

        Raises:
            ValueError: if the file is not a checkpoint of this format.
        """
        try:
            return cls.from_bytes(Path(path).read_bytes(), device=device)
        except ValueError as e:
            raise ValueError(f"{path}: {e}") from e


def read_checkpoint(data: bytes) -> Any:
    """The payload of checkpoint bytes, read with `weights_only=True` (no code runs)."""
    return torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)


@torch.no_grad()
def forward_boxes(
    net: BoxNet, x: np.ndarray, device: torch.device
) -> tuple[torch.Tensor, torch.Tensor]:
    """Eval-mode boxes `(lo, hi)` on `device` for float32 rows `x`, in bounded chunks."""
    net.eval()
    los, his = [], []
    for start in range(0, x.shape[0], _ROWS_PER_PASS):
        lo, hi = net(torch.from_numpy(x[start : start + _ROWS_PER_PASS]).to(device))
        los.append(lo)
        his.append(hi)
    if not los:
        empty = torch.zeros(0, net.config.dim, device=device)
        return empty, empty.clone()
    return torch.cat(los), torch.cat(his)


@torch.no_grad()
def pair_containment(
    net: BoxNet,
    x: np.ndarray,
    i: np.ndarray,
    j: np.ndarray,
    *,
    beta: float,
    gumbel_beta: float | None,
    device: torch.device,
) -> np.ndarray:
    """`(P,)` float32 `P(box_i ⊆ box_j)`; only rows named in `i`/`j` are placed."""
    i = np.asarray(i, dtype=np.int64)
    j = np.asarray(j, dtype=np.int64)
    if i.shape != j.shape or i.ndim != 1:
        raise ValueError(f"i and j must be 1-D of one length, got {i.shape} and {j.shape}")
    if i.size == 0:
        return np.zeros(0, dtype=np.float32)
    if min(i.min(), j.min()) < 0 or max(i.max(), j.max()) >= x.shape[0]:
        raise ValueError(f"pair indices must lie in [0, {x.shape[0]})")
    rows, inverse = np.unique(np.concatenate([i, j]), return_inverse=True)
    lo, hi = forward_boxes(net, x[rows], device)
    li = torch.from_numpy(inverse[: i.size]).to(device)
    lj = torch.from_numpy(inverse[i.size :]).to(device)
    out = []
    for s in range(0, i.size, _PAIRS_PER_CHUNK):
        a, b = li[s : s + _PAIRS_PER_CHUNK], lj[s : s + _PAIRS_PER_CHUNK]
        p = ops.containment(lo[a], hi[a], lo[b], hi[b], beta=beta, gumbel_beta=gumbel_beta)
        out.append(p.cpu())
    return torch.cat(out).numpy().astype(np.float32)


def _plain(config: dict[str, Any]) -> dict[str, Any]:
    # weights_only loading accepts plain containers; tuples become lists for portability.
    return {k: list(v) if isinstance(v, tuple) else v for k, v in config.items()}
