from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from backend.representations.embedding_cache import EmbeddingCache
from backend.representations.label_text import (
    LabelTextEmbedder,
    LabelTextRepresenter,
    NotInMemory,
    memory_only,
    prompt_for,
)


@pytest.fixture(scope="module")
def embedder(tmp_path_factory: pytest.TempPathFactory) -> LabelTextEmbedder:
    return LabelTextEmbedder(EmbeddingCache(tmp_path_factory.mktemp("emb") / "e.sqlite"))


def test_prompt_cleans_separators() -> None:
    assert prompt_for("angular_leaf_spot") == "a photo of a angular leaf spot"
    assert prompt_for("  T - shirt / top ") == "a photo of a T shirt / top"


def test_embeddings_are_unit_vectors_and_semantic(embedder: LabelTextEmbedder) -> None:
    vecs = embedder.embed_labels(["cat", "kitten", "airplane"])
    assert vecs.shape == (3, 384)
    np.testing.assert_allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-5)
    assert vecs[0] @ vecs[1] > vecs[0] @ vecs[2] + 0.1


def test_cache_is_reused_across_instances(tmp_path: Path) -> None:
    path = tmp_path / "e.sqlite"
    first = LabelTextEmbedder(EmbeddingCache(path)).embed_labels(["dog", "dog", "tulip"])
    cache = EmbeddingCache(path)
    assert len(cache) == 2
    second = LabelTextEmbedder(cache).embed_labels(["tulip", "dog"])
    np.testing.assert_array_equal(second, first[[2, 0]])


def test_dataset_vector_is_mean_and_variance(embedder: LabelTextEmbedder) -> None:
    labels = ["cat", "dog"]
    emb = embedder.embed_labels(labels)
    representer = LabelTextRepresenter(embedder)
    (vec,) = representer.dataset_vectors([("a/pets", labels)])
    assert vec.shape == (768,)
    np.testing.assert_allclose(vec[:384], emb.mean(0), atol=1e-6)
    np.testing.assert_allclose(vec[384:], emb.var(0), atol=1e-6)
    with pytest.raises(ValueError, match="no labels to embed"):
        representer.dataset_vectors([("a/empty", [])])


def test_memory_only_answers_from_memory_or_raises(tmp_path: Path) -> None:
    path = tmp_path / "e.sqlite"
    embedder = LabelTextEmbedder(EmbeddingCache(path))
    first = embedder.embed_labels(["cat"])
    with memory_only():
        np.testing.assert_array_equal(embedder.embed_labels(["cat"]), first)
        with pytest.raises(NotInMemory):
            embedder.embed_labels(["cat", "tulip"])
    # Another embedder over the same disk cache has nothing in memory yet.
    again = LabelTextEmbedder(EmbeddingCache(path))
    with memory_only(), pytest.raises(NotInMemory):
        again.embed_labels(["cat"])
    np.testing.assert_array_equal(again.embed_labels(["cat"]), first)
