"""A trained network ↔ the bytes stored in `maps.checkpoint`.

A containment map's network is either the vector model (`TrainedBoxModel`: a dataset's
feature vector → its box) or the label-set model (`SetBoxPlacer`: its labels' embeddings →
the bounding box of their points); the checkpoint's own `format` says which. Bytes are read
with `weights_only=True`, so a stored checkpoint can hold tensors and plain data only.
"""

from __future__ import annotations

from models.setbox_map import FORMAT as SET_FORMAT
from models.setbox_map import SetBoxPlacer
from models.trained import FORMAT as VECTOR_FORMAT
from models.trained import TrainedBoxModel, read_checkpoint

MapNetwork = TrainedBoxModel | SetBoxPlacer


def to_bytes(model: MapNetwork) -> bytes:
    """The checkpoint of either kind of network."""
    return model.to_bytes()


def from_bytes(data: bytes, device: str = "cpu") -> MapNetwork:
    """The network stored in checkpoint bytes.

    Raises:
        ValueError: if the bytes are not a checkpoint of a known format.
    """
    try:
        payload = read_checkpoint(data)
    except Exception as e:  # a truncated or foreign blob: say so plainly
        raise ValueError(f"the stored checkpoint cannot be read: {e}") from e
    kind = payload.get("format") if isinstance(payload, dict) else None
    if kind == SET_FORMAT:
        return SetBoxPlacer.from_payload(payload)
    if kind == VECTOR_FORMAT:
        return TrainedBoxModel.from_payload(payload, device=device)
    raise ValueError(f"unknown checkpoint format {kind!r}")
