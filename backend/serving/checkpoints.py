"""A trained network ↔ the bytes stored in `maps.checkpoint`.

`TrainedBoxModel` reads and writes files (atomically, with `weights_only` loading); the
database stores bytes, so both directions go through a private temporary directory.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from models.trained import TrainedBoxModel

_NAME = "boxnet.pt"


def to_bytes(model: TrainedBoxModel) -> bytes:
    """The checkpoint file `model.save` writes, as bytes."""
    with tempfile.TemporaryDirectory(prefix="t2b-ckpt-") as tmp:
        path = Path(tmp) / _NAME
        model.save(path)
        return path.read_bytes()


def from_bytes(data: bytes, device: str = "cpu") -> TrainedBoxModel:
    """A model from checkpoint bytes (safe: `TrainedBoxModel.load` uses `weights_only`).

    Raises:
        ValueError: if the bytes are not a checkpoint of the expected format.
    """
    with tempfile.TemporaryDirectory(prefix="t2b-ckpt-") as tmp:
        path = Path(tmp) / _NAME
        path.write_bytes(data)
        return TrainedBoxModel.load(path, device=device)
