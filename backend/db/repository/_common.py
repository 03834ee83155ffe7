"""Helpers shared by the repository modules."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import TypeVar

import numpy as np

T = TypeVar("T")

# Far below SQLite's bound-parameter limit (32766 since 3.32, 999 before).
IN_CHUNK = 500


def utcnow() -> datetime:
    return datetime.now(UTC)


def labels_hash(labels: Sequence[str]) -> str:
    """sha256 of the ordered label list; order matters (it is the label-id mapping)."""
    payload = json.dumps(list(labels), ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def chunks(items: Sequence[T], size: int = IN_CHUNK) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def to_blob(vector: np.ndarray) -> bytes:
    """float32 little-endian bytes of a 1-D vector."""
    return np.ascontiguousarray(vector, dtype="<f4").tobytes()


def from_blob(blob: bytes) -> np.ndarray:
    return np.frombuffer(blob, dtype="<f4").astype(np.float32)


def require_aware(name: str, value: datetime) -> None:
    if value.tzinfo is None:
        raise ValueError(f"{name} must be timezone-aware, got naive {value!r}")
