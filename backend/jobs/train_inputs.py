"""What a fit is made of: the features and label sets from the database, and the targets.

Kept apart from `backend.jobs.train` (which orchestrates fits and publishing) so each stays small.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass

import numpy as np

from backend.config import Settings
from backend.db import repository
from backend.db.engine import SessionFactory, session_scope
from backend.errors import InvalidInputError, InvalidStateError
from backend.representations.base import Representer
from backend.representations.label_text import KIND as LABEL_TEXT
from backend.representations.label_text import LabelTextEmbedder, LabelTextRepresenter
from models.features import cap_labels
from models.opaque import corroborated_pairs
from models.setbox import LabelSets
from models.targets import (
    SparseTargets,
    containment_targets,
    cosine_label_pairs,
    normalize_label,
    unique_labels,
)


def default_representer(settings: Settings, kind: str) -> Representer:
    """The representer of `kind` configured by `settings`."""
    if kind == LABEL_TEXT:
        embedder = LabelTextEmbedder.from_cache_dir(settings.cache_dir)
        return LabelTextRepresenter(embedder, max_labels=settings.max_embedded_labels)
    if kind == "clip":
        from backend.representations.clip import ClipRepresenter

        return ClipRepresenter.from_settings(settings)
    raise InvalidInputError(f"unknown representation {kind!r}; use 'label-text' or 'clip'")


def load_training_data(
    factory: SessionFactory, kind: str
) -> tuple[list[str], np.ndarray, list[tuple[str, ...]]]:
    """`(ids, features, label sets)` of every ok dataset with labels and a `kind` vector.

    Raises:
        InvalidStateError: with fewer than 2 such datasets.
    """
    with session_scope(factory) as session:
        label_sets = {s.dataset_id: s.labels for s in repository.get_label_sets(session)}
        reps = repository.load_representations(session, kind=kind, dataset_ids=list(label_sets))
    ids = [i for i in reps.dataset_ids if i in label_sets]
    if len(ids) < 2:
        raise InvalidStateError(
            f"training needs at least 2 ok datasets with labels and {kind} features, "
            f"got {len(ids)}; crawl or `task2box seed` first"
        )
    row = {d: r for r, d in enumerate(reps.dataset_ids)}
    x = np.stack([reps.vectors[row[i]] for i in ids]).astype(np.float32)
    return ids, x, [label_sets[i] for i in ids]


@dataclass(frozen=True, eq=False)
class LabelTargets:
    """Containment targets and the cosine label matches they were counted with."""

    targets: SparseTargets
    label_pairs: list[tuple[str, str]]


def containment_targets_for(
    label_sets: Sequence[Sequence[str]],
    embedder: LabelTextEmbedder,
    cosine: float,
    *,
    opaque: Collection[str] = (),
    corroborated: Sequence[tuple[int, int]] = (),
) -> LabelTargets:
    """Containment targets; labels also match by MiniLM cosine ≥ `cosine` (< 1), and opaque
    names only within corroborated pairs (`models.opaque`)."""
    pairs: list[tuple[str, str]] = []
    if cosine < 1.0:  # at 1, exact text matches only: no embeddings needed
        vocab = unique_labels(label_sets)
        pairs = cosine_label_pairs(vocab, embedder.embed_labels(vocab), cosine) if vocab else []
    targets = containment_targets(
        label_sets, label_pairs=pairs, opaque=opaque, corroborated=corroborated
    )
    return LabelTargets(targets, pairs)


def corroborated_datasets(
    factory: SessionFactory,
    ids: Sequence[str],
    label_sets: Sequence[Sequence[str]],
    opaque: Collection[str],
    embedder: LabelTextEmbedder,
) -> list[tuple[int, int]]:
    """Row pairs of datasets holding opaque names whose name-and-description texts say they
    are the same kind of data (`models.opaque.corroborated_pairs`)."""
    hidden = set(opaque)
    rows = [
        i
        for i, labels in enumerate(label_sets)
        if any(normalize_label(label) in hidden for label in labels)
    ]
    if len(rows) < 2:
        return []
    documents = documents_for(factory, ids)(rows)
    return corroborated_pairs(rows, embedder.embed_texts(documents))


def label_set_inputs(
    label_sets: Sequence[Sequence[str]],
    embedder: LabelTextEmbedder,
    max_labels: int,
    *,
    opaque: Collection[str] = (),
    documents: Callable[[list[int]], list[str]] | None = None,
) -> tuple[np.ndarray, LabelSets]:
    """What the label-set model trains on: the `(M, 384)` embeddings of its points, and each
    dataset's points as rows of them.

    A dataset's points are its labels that are not opaque, capped as the placer caps them
    (`models.features.cap_labels`), so a stored dataset and the same labels placed anew get
    the same box. A dataset whose names are all opaque ("0".."9") is placed from its name
    and description instead (`documents(rows)` gives those texts): every digit dataset
    would otherwise be the very same box. Without `documents` it keeps its own labels.
    """
    hidden = set(opaque)
    chosen = [[x for x in labels if normalize_label(x) not in hidden] for labels in label_sets]
    bare = [i for i, labels in enumerate(chosen) if not labels and label_sets[i]]
    docs = dict(zip(bare, documents(bare), strict=True)) if documents is not None and bare else {}
    for i in bare:
        if i not in docs:
            chosen[i] = list(label_sets[i])
    capped = [cap_labels(labels, max_labels) if labels else [] for labels in chosen]
    vocab = unique_labels(capped)
    doc_vocab = list(dict.fromkeys(docs.values()))
    row = {label: k for k, label in enumerate(vocab)}
    doc_row = {text: len(vocab) + k for k, text in enumerate(doc_vocab)}
    points = [
        [doc_row[docs[i]]] if i in docs else [row[label] for label in labels]
        for i, labels in enumerate(capped)
    ]
    parts = [embedder.embed_labels(vocab)]
    if doc_vocab:
        parts.append(embedder.embed_texts(doc_vocab))
    return np.concatenate(parts), LabelSets.from_lists(points)


def documents_for(factory: SessionFactory, ids: Sequence[str]) -> Callable[[list[int]], list[str]]:
    """`documents(rows)`: the name-and-description texts of the datasets at those rows of
    `ids` (`repository.get_dataset_documents`)."""

    def documents(rows: list[int]) -> list[str]:
        wanted = [ids[i] for i in rows]
        with session_scope(factory) as session:
            found = repository.get_dataset_documents(session, dataset_ids=wanted)
        return [found[dataset_id] for dataset_id in wanted]

    return documents
