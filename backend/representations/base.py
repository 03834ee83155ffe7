"""What every representation offers the `represent` job."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol, runtime_checkable

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


@runtime_checkable
class DescribedRepresenter(Representer, Protocol):
    """A representer that places some datasets from their name and description text: those
    whose labels carry no meaning alone ("0".."9"), which would otherwise all get the same
    vector. The `represent` job gives it those texts."""

    def needs_document(self, labels: Sequence[str]) -> bool:
        """Whether a dataset with these labels is represented by its text."""
        ...

    def dataset_vectors(
        self,
        datasets: Sequence[tuple[str, Sequence[str]]],
        documents: Mapping[str, str] | None = None,
    ) -> list[np.ndarray]:
        """As `Representer.dataset_vectors`; `documents` maps dataset ids to their text."""
        ...
