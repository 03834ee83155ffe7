"""The `represent` job: store each dataset's feature vector, recomputing only what is stale.

A stored vector is stale when the dataset's labels changed (its labels hash differs) or the
representer's version changed (other weights, another label cap). Each batch is embedded and
committed on its own, so an interrupted run keeps what it finished and the next run resumes.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass

from sqlalchemy.orm import Session

from backend.db import repository
from backend.representations.base import DescribedRepresenter, Representer

log = logging.getLogger(__name__)

SessionScope = Callable[[], AbstractContextManager[Session]]
RepresentProgress = Callable[[int, int], None]
"""Told `(done, to_compute)` datasets after each batch."""


@dataclass(frozen=True)
class RepresentSummary:
    """What a run did: `computed + unchanged == total` datasets with labels."""

    kind: str
    version: str
    total: int
    computed: int
    unchanged: int


def compute_representations(
    sessions: SessionScope,
    representer: Representer,
    *,
    batch_size: int = 256,
    progress: RepresentProgress | None = None,
) -> RepresentSummary:
    """Computes and stores the vectors of every `ok` dataset whose stored one is stale.

    Args:
        sessions: opens a session scope, e.g. `lambda: session_scope(factory)`.
        representer: the representation to compute (`LabelTextRepresenter`, `ClipRepresenter`).
        batch_size: datasets per embedding call and per commit.
        progress: called with (done, to_compute) after each batch.

    Raises:
        ValueError: if `batch_size` < 1.
        RepresentationUnavailable: if the representer cannot run here (no CLIP weights).
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    kind, version = representer.kind, representer.version
    with sessions() as session:
        hashes = repository.get_labels_hashes(session)
        states = repository.get_representation_states(session, kind=kind)
    stale = sorted(
        dataset_id
        for dataset_id, labels_hash in hashes.items()
        if (state := states.get(dataset_id)) is None
        or state.labels_hash != labels_hash
        or state.model_version != version
    )
    log.info("%s: %d of %d datasets need vectors (%s)", kind, len(stale), len(hashes), version)
    done = 0
    if progress is not None:
        progress(0, len(stale))
    for start in range(0, len(stale), batch_size):
        batch = stale[start : start + batch_size]
        with sessions() as session:
            label_sets = repository.get_label_sets(session, dataset_ids=batch)
        pairs = [(s.dataset_id, s.labels) for s in label_sets]
        if isinstance(representer, DescribedRepresenter):
            with sessions() as session:
                documents = _documents(session, representer, pairs)
            vectors = representer.dataset_vectors(pairs, documents)
        else:
            vectors = representer.dataset_vectors(pairs)
        items = [
            repository.RepresentationIn(s.dataset_id, s.labels_hash or "", vector)
            for s, vector in zip(label_sets, vectors, strict=True)
        ]
        with sessions() as session:
            repository.save_representations(session, kind=kind, model_version=version, items=items)
        done += len(batch)
        if progress is not None:
            progress(done, len(stale))
    return RepresentSummary(
        kind=kind,
        version=version,
        total=len(hashes),
        computed=len(stale),
        unchanged=len(hashes) - len(stale),
    )


def _documents(
    session: Session,
    representer: DescribedRepresenter,
    datasets: Sequence[tuple[str, Sequence[str]]],
) -> dict[str, str]:
    """The name-and-description texts of the datasets `representer` places by their text."""
    wanted = [dataset_id for dataset_id, labels in datasets if representer.needs_document(labels)]
    if not wanted:
        return {}
    return repository.get_dataset_documents(session, dataset_ids=wanted)
