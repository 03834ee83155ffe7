"""Containment targets: normalization, hand-made cases, properties against a naive reference."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from models.targets import (
    containment_targets,
    normalize_label,
    shared_labels,
    unique_labels,
)


def _naive(label_sets: list[list[str]], match: set[tuple[str, str]] | None = None) -> np.ndarray:
    """O(n² · L²) reference: y[a, b] = share of A's keys matched by some key of B."""
    n = len(label_sets)
    keys = [{normalize_label(x) for x in labels} for labels in label_sets]
    y = np.zeros((n, n), dtype=np.float32)
    for a in range(n):
        for b in range(n):
            if a == b or not keys[a]:
                continue
            covered = sum(
                1
                for ka in keys[a]
                if any(ka == kb or (match and (ka, kb) in match) for kb in keys[b])
            )
            y[a, b] = covered / len(keys[a])
    np.fill_diagonal(y, 1.0)
    return y


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ("Apple_Pies", "apple pie"),
        ("apple-pie", "apple pie"),
        ("  T - shirt / top ", "t shirt top"),
        ("001.Black_footed_Albatross", "black footed albatross"),
        ("Cats", "cat"),
        ("berries", "berry"),
        ("boxes", "box"),
        ("glass", "glass"),
        ("bus", "bus"),
        ("cactus", "cactus"),
        ("0", "0"),
        ("3d printed", "3d printed"),
        ("-", "-"),
        ("ＣＡＴ", "cat"),
    ],
)
def test_normalize_label(raw: str, key: str) -> None:
    assert normalize_label(raw) == key


def test_hand_computed_containment() -> None:
    sets = [
        ["cat", "dog"],  # 0
        ["Cats", "dogs", "bird", "frog"],  # 1: contains 0 (plural/case)
        ["bird"],  # 2
        [],  # 3: empty: contains nothing, contained in nothing
        ["airplane"],  # 4: shares nothing
    ]
    dense = containment_targets(sets).to_dense()
    assert dense[0, 1] == 1.0
    assert dense[1, 0] == 0.5
    assert dense[2, 1] == 1.0
    assert dense[1, 2] == 0.25
    assert dense[3].sum() == 1.0 and dense[:, 3].sum() == 1.0
    assert dense[4].sum() == 1.0 and dense[:, 4].sum() == 1.0


def test_identical_sets_contain_each_other_and_duplicates_count_once() -> None:
    t = containment_targets([["a", "b", "B"], ["A", "b"]])
    assert sorted(zip(t.rows.tolist(), t.cols.tolist(), t.values.tolist(), strict=True)) == [
        (0, 1, 1.0),
        (1, 0, 1.0),
    ]


def test_cosine_path_matches_near_synonyms() -> None:
    sets = [["car", "truck"], ["automobile", "lorry", "boat"]]
    vocab = unique_labels(sets)
    assert vocab == ["car", "truck", "automobile", "lorry", "boat"]
    emb = np.array(
        [[1, 0, 0], [0, 1, 0], [0.99, 0.14, 0], [0.1, 0.995, 0], [0, 0, 1]], dtype=np.float32
    )
    without = containment_targets(sets).to_dense()
    assert without[0, 1] == 0.0
    dense = containment_targets(sets, vocab=vocab, embeddings=emb, cosine_threshold=0.95)
    y = dense.to_dense()
    assert y[0, 1] == 1.0
    assert y[1, 0] == pytest.approx(2 / 3)
    strict = containment_targets(sets, vocab=vocab, embeddings=emb, cosine_threshold=0.999)
    assert strict.to_dense()[0, 1] == 0.0


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="both"):
        containment_targets([["a"]], vocab=["a"])
    with pytest.raises(ValueError, match="cosine_threshold"):
        containment_targets([["a"]], cosine_threshold=2.0)
    with pytest.raises(ValueError, match="embeddings must be"):
        containment_targets([["a"]], vocab=["a", "b"], embeddings=np.zeros((1, 3)))


def test_common_labels_across_many_datasets() -> None:
    # 300 MNIST copies plus a few others: every copy contains every other copy.
    digits = [str(i) for i in range(10)]
    sets = [digits] * 300 + [["0", "1"], ["cat"]]
    t = containment_targets(sets)
    dense = t.to_dense()
    assert t.values.size == 300 * 299 + 300 * 2
    assert (dense[:300, :300] == 1.0).all()
    assert dense[300, 0] == 1.0 and dense[0, 300] == pytest.approx(0.2)
    assert dense[301, :301].sum() == 0.0


def test_small_blocks_give_the_same_answer(monkeypatch: pytest.MonkeyPatch) -> None:
    import models.targets as targets

    rng = np.random.default_rng(0)
    vocab = [f"w{i}" for i in range(40)]
    sets = [list(rng.choice(vocab, size=int(rng.integers(0, 8)))) for _ in range(60)]
    full = containment_targets(sets).to_dense()
    monkeypatch.setattr(targets, "_MAX_BLOCK_CELLS", 100)
    monkeypatch.setattr(targets, "_MAX_BLOCK_MATCHES", 7)
    np.testing.assert_array_equal(containment_targets(sets).to_dense(), full)


labels = st.sampled_from(["cat", "Cats", "dog", "bird", "Bird_s", "0", "1", "apple pie", "x-y"])
label_sets = st.lists(st.lists(labels, max_size=6), min_size=1, max_size=12)


@settings(max_examples=150, deadline=None)
@given(label_sets)
def test_matches_the_naive_reference(sets: list[list[str]]) -> None:
    t = containment_targets(sets)
    np.testing.assert_allclose(t.to_dense(), _naive(sets), rtol=1e-6)
    assert ((t.values > 0) & (t.values <= 1)).all()
    assert (t.rows != t.cols).all()


@settings(max_examples=80, deadline=None)
@given(label_sets, st.integers(0, 2**31 - 1))
def test_cosine_path_matches_the_naive_reference(sets: list[list[str]], seed: int) -> None:
    vocab = unique_labels(sets)
    rng = np.random.default_rng(seed)
    emb = rng.normal(size=(len(vocab), 3)).astype(np.float32)
    tau = 0.8
    unit = emb / np.linalg.norm(emb, axis=1, keepdims=True)
    match = {
        (normalize_label(vocab[i]), normalize_label(vocab[j]))
        for i in range(len(vocab))
        for j in range(len(vocab))
        if unit[i] @ unit[j] >= tau
    }
    got = containment_targets(sets, vocab=vocab, embeddings=emb, cosine_threshold=tau)
    np.testing.assert_allclose(got.to_dense(), _naive(sets, match), rtol=1e-6)


@settings(max_examples=60, deadline=None)
@given(st.lists(labels, min_size=1, max_size=6), st.lists(labels, max_size=6))
def test_a_superset_contains_its_subset(a: list[str], extra: list[str]) -> None:
    y = containment_targets([a, a + extra]).to_dense()
    assert y[0, 1] == 1.0
    assert 0.0 < y[1, 0] <= 1.0


def test_shared_labels() -> None:
    assert shared_labels(["Cats", "dog", "cat", "emu"], ["cat", "DOGS"], limit=10) == [
        "Cats",
        "dog",
    ]
    assert shared_labels(["a", "b", "c"], ["a", "b", "c"], limit=2) == ["a", "b"]
    assert shared_labels(["a"], [], limit=5) == []
    with pytest.raises(ValueError, match="limit"):
        shared_labels(["a"], ["a"], limit=-1)
