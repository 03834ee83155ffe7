"""What every representation offers the `represent` job."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np


class Representer(Protocol):
    """Turns datasets (id and labels) into fixed-length feature vectors of one kind."""

    @property
    def kind(self) -> str:
        """The stored kind, e.g. `"label-text"` or `"clip"`."""
        ...

    @property
    def version(self) -> str:
        """Names the weights and settings; stored vectors of another version are recomputed."""
        ...

    def dataset_vectors(self, datasets: Sequence[tuple[str, Sequence[str]]]) -> list[np.ndarray]:
        """One 1-D float32 vector per `(dataset_id, labels)`, all of the same length."""
        ...
