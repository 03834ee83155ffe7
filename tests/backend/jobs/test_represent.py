"""The represent job recomputes a vector only when labels or the model version change."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from backend.db import repository as repo
from backend.db.engine import SessionFactory, session_scope
from backend.jobs.represent import compute_representations
from backend.representations.embedding_cache import EmbeddingCache
from backend.representations.label_text import LabelTextEmbedder, LabelTextRepresenter
from tests.factories import T0, dataset_record


class CountingRepresenter:
    """Vector = [number of labels, sum of label lengths]; records what it was asked."""

    kind = "fake"

    def __init__(self, version: str = "v1") -> None:
        self.version = version
        self.seen: list[str] = []

    def dataset_vectors(self, datasets: Sequence[tuple[str, Sequence[str]]]) -> list[np.ndarray]:
        self.seen.extend(d for d, _ in datasets)
        return [np.array([len(ls), sum(map(len, ls))], np.float32) for _, ls in datasets]


def _save(sessions: SessionFactory, *records: object) -> None:
    with session_scope(sessions) as s:
        repo.save_crawl_batch(s, records=list(records), crawled_at=T0)  # type: ignore[arg-type]


def _run(sessions: SessionFactory, rep: object, **kw: object) -> object:
    return compute_representations(lambda: session_scope(sessions), rep, **kw)  # type: ignore[arg-type]


def test_only_changed_labels_or_versions_are_recomputed(sessions: SessionFactory) -> None:
    _save(
        sessions,
        dataset_record("a/x"),
        dataset_record("b/y", labels=("0", "1")),
        dataset_record("g/z", status="skipped", skip_reason="gated", labels=()),
    )
    rep = CountingRepresenter()
    progress: list[tuple[int, int]] = []
    summary = _run(sessions, rep, batch_size=1, progress=lambda d, t: progress.append((d, t)))
    assert sorted(rep.seen) == ["a/x", "b/y"]
    assert (summary.computed, summary.unchanged, summary.total) == (2, 0, 2)  # type: ignore[attr-defined]
    assert progress == [(0, 2), (1, 2), (2, 2)]

    rep.seen.clear()
    assert _run(sessions, rep).computed == 0  # type: ignore[attr-defined]
    assert rep.seen == []

    # Popularity or sha changes alone do not make a vector stale; new labels do.
    _save(
        sessions,
        dataset_record("a/x", downloads=999, sha="f" * 40),
        dataset_record("b/y", labels=("0", "1", "2")),
    )
    assert _run(sessions, rep).computed == 1  # type: ignore[attr-defined]
    assert rep.seen == ["b/y"]
    with session_scope(sessions) as s:
        matrix = repo.load_representations(s, kind="fake")
    assert matrix.dataset_ids == ["a/x", "b/y"]
    np.testing.assert_array_equal(matrix.vectors[1], [3, 3])

    rep2 = CountingRepresenter(version="v2")
    assert _run(sessions, rep2).computed == 2  # type: ignore[attr-defined]


def test_batch_size_is_validated(sessions: SessionFactory) -> None:
    with pytest.raises(ValueError, match="batch_size"):
        _run(sessions, CountingRepresenter(), batch_size=0)


def test_label_text_vectors_are_stored(sessions: SessionFactory, tmp_path: Path) -> None:
    _save(
        sessions,
        dataset_record("a/x", labels=("cat", "dog")),
        dataset_record("b/y", labels=("cat",)),
    )
    embedder = LabelTextEmbedder(EmbeddingCache(tmp_path / "e.sqlite"))
    rep = LabelTextRepresenter(embedder, max_labels=512)
    summary = _run(sessions, rep)
    assert summary.computed == 2  # type: ignore[attr-defined]
    with session_scope(sessions) as s:
        matrix = repo.load_representations(s, kind="label-text")
        states = repo.get_representation_states(s, kind="label-text")
    assert matrix.vectors.shape == (2, 768)
    np.testing.assert_allclose(
        matrix.vectors[0],
        LabelTextRepresenter(embedder).dataset_vectors([("c/pets", ["cat", "dog"])])[0],
        atol=1e-6,
    )
    assert states["a/x"].model_version == rep.version and "cap=512" in rep.version
    assert states["a/x"].labels_hash == repo.labels_hash(("cat", "dog"))


def test_datasets_named_only_by_numbers_are_represented_by_their_text(
    sessions: SessionFactory, tmp_path: Path
) -> None:
    # Two real Hub shapes: digit classes of very different data. By their labels alone they
    # are one vector (and one box); by their name and description they are not.
    _save(
        sessions,
        dataset_record("a/coffee-beans", labels=("0", "1", "2", "3"), pretty_name="Coffee beans",
                       description="Roasting degree of coffee bean photographs."),
        dataset_record("b/mnist", labels=("0", "1", "2", "3"), pretty_name="MNIST",
                       description="Handwritten digits, 28x28 grayscale."),
        dataset_record("c/pets", labels=("cat", "dog")),
    )  # fmt: skip
    embedder = LabelTextEmbedder(EmbeddingCache(tmp_path / "e.sqlite"))
    rep = LabelTextRepresenter(embedder, max_labels=512)
    assert rep.needs_document(["0", "1"]) and not rep.needs_document(["0", "cat"])
    _run(sessions, rep)
    with session_scope(sessions) as s:
        matrix = repo.load_representations(s, kind="label-text")
    by_id = dict(zip(matrix.dataset_ids, matrix.vectors, strict=True))
    coffee = embedder.embed_texts(["Coffee beans. Roasting degree of coffee bean photographs."])
    np.testing.assert_allclose(by_id["a/coffee-beans"][:384], coffee[0], atol=1e-6)
    assert not np.allclose(by_id["a/coffee-beans"], by_id["b/mnist"], atol=1e-3)
    # Meaningful names are represented by their labels, as before.
    np.testing.assert_allclose(
        by_id["c/pets"],
        LabelTextRepresenter(embedder).dataset_vectors([("c/pets", ["cat", "dog"])])[0],
        atol=1e-6,
    )
