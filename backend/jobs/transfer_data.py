"""What a transfer map is trained on: every dataset's features and the measured scores.

The map holds every `ok` dataset with class labels (placed from its `label-text` features;
the "novel task" use) and every dataset named by a measured score (fitted to it). A scored
dataset without a class-name vector (an imported task, or a Hub dataset that was skipped)
gets a task-text vector from its description, stored so that `POST /api/place` finds it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from backend.db import repository
from backend.db.engine import SessionFactory, session_scope
from backend.errors import InvalidStateError
from backend.representations import task_text
from backend.representations.label_text import KIND as LABEL_TEXT
from backend.representations.label_text import LabelTextEmbedder
from models.pairs import PairSet
from models.transfer import transfer_pairs, transfer_targets

log = logging.getLogger(__name__)

NO_SCORES = (
    "no transfer scores are stored yet; import a source,target,score CSV with "
    "`task2box import-transfer FILE.csv` (or POST /api/transfer-scores), or estimate them "
    "from the datasets' images with `task2box image-features` then "
    "`task2box estimate-transfer`, then train"
)


@dataclass(frozen=True, eq=False)
class TransferTrainingData:
    """Rows of `x` are `ids`; pair arrays index them.

    Attributes:
        ids: every dataset of the map, sorted.
        x: `(N, D)` float32 features.
        source, target: `(P,)` int64 rows of each measured transfer.
        score: `(P,)` raw measured scores.
        y: `(P,)` targets `tanh(50·a)` of the per-target-normalized scores.
        measured: sorted ids that have at least one score, measured or estimated (fitted
            boxes).
        task_vectors: how many scored datasets were embedded from their text.
        estimated: how many of the pairs (the last ones) are estimates, not measurements.
        estimator: the estimator of those, if any.
    """

    ids: list[str]
    x: np.ndarray
    source: np.ndarray
    target: np.ndarray
    score: np.ndarray
    y: np.ndarray
    measured: list[str]
    task_vectors: int
    estimated: int = 0
    estimator: str | None = None

    def pairs(self, index: np.ndarray | None = None) -> PairSet:
        """The open-world `PairSet` of the measured pairs at `index` (all by default)."""
        sel = slice(None) if index is None else index
        return transfer_pairs(self.source[sel], self.target[sel], self.y[sel])


def _store_task_vectors(
    factory: SessionFactory, embedder: LabelTextEmbedder, scored: list[str]
) -> int:
    """Task-text vectors for scored datasets without a class-name vector; returns how many
    datasets use one. Only vectors whose text changed are recomputed."""
    version = task_text.model_version(embedder)
    with session_scope(factory) as session:
        states = repository.get_representation_states(session, kind=LABEL_TEXT)
        hashes = repository.get_labels_hashes(session)
        texts = repository.get_dataset_texts(session, dataset_ids=scored)
    wanted: list[tuple[str, str]] = []
    for t in texts:
        state = states.get(t.id)
        labelled = t.id in hashes and state is not None and state.labels_hash == hashes[t.id]
        if not labelled:
            wanted.append((t.id, task_text.task_text(t.id, t.pretty_name, t.description)))
    stale = [
        (i, text)
        for i, text in wanted
        if (s := states.get(i)) is None
        or s.model_version != version
        or s.labels_hash != task_text.text_hash(text)
    ]
    if stale:
        vectors = task_text.task_vectors(embedder, [text for _, text in stale])
        items = [
            repository.RepresentationIn(i, task_text.text_hash(text), v)
            for (i, text), v in zip(stale, vectors, strict=True)
        ]
        with session_scope(factory) as session:
            repository.save_representations(
                session, kind=LABEL_TEXT, model_version=version, items=items
            )
        log.info("embedded %d task descriptions", len(stale))
    return len(wanted)


def load_transfer_data(
    factory: SessionFactory, embedder: LabelTextEmbedder, *, estimator: str | None = None
) -> TransferTrainingData:
    """Features of every map dataset and the scored pairs (label-text vectors must be fresh
    already: run `compute_representations` first).

    The pairs are every measured score, then `estimator`'s estimates of the pairs no score
    measures. Each kind is normalized per target on its own: an estimator's scale says
    nothing about a measurement's.

    Raises:
        InvalidStateError: if no score is stored, or fewer than 2 tasks are scored.
    """
    with session_scope(factory) as session:
        measured_scores = repository.get_transfer_scores(session)
        estimates = (
            repository.get_transfer_estimates(session, estimator=estimator) if estimator else []
        )
        labelled = repository.get_labels_hashes(session)
    known = {(s.source_id, s.target_id) for s in measured_scores}
    estimates = [e for e in estimates if (e.source_id, e.target_id) not in known]
    scores = [*measured_scores, *estimates]
    if not scores:
        raise InvalidStateError(NO_SCORES)
    scored = sorted({i for s in scores for i in (s.source_id, s.target_id)})
    n_task_vectors = _store_task_vectors(factory, embedder, scored)
    with session_scope(factory) as session:
        reps = repository.load_representations(
            session, kind=LABEL_TEXT, dataset_ids=sorted(set(labelled) | set(scored))
        )
    row = {d: r for r, d in enumerate(reps.dataset_ids)}
    missing = [i for i in scored if i not in row]
    if missing:  # a concurrent delete; never expected
        raise InvalidStateError(f"{len(missing)} scored datasets have no features: {missing[:3]}")
    source = np.array([row[s.source_id] for s in scores], dtype=np.int64)
    target = np.array([row[s.target_id] for s in scores], dtype=np.int64)
    raw = np.array([s.score for s in scores], dtype=np.float64)
    n_measured = len(measured_scores)
    parts = [
        transfer_targets(target[part], raw[part])
        for part in (slice(0, n_measured), slice(n_measured, None))
        if raw[part].size
    ]
    return TransferTrainingData(
        ids=list(reps.dataset_ids),
        x=np.asarray(reps.vectors, dtype=np.float32),
        source=source,
        target=target,
        score=raw,
        y=np.concatenate(parts),
        measured=scored,
        task_vectors=n_task_vectors,
        estimated=len(estimates),
        estimator=estimator if estimates else None,
    )
