"""`models.coverage`: measured coverage equals the training targets, cosine matches included."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from models.coverage import MATCH_SEPARATOR, CoverageIndex
from models.opaque import opaque_keys
from models.targets import containment_targets, cosine_label_pairs, unique_labels

# Variants that normalize alike ("Cat", "cats") and distinct words, so text matches, cosine
# matches and misses all occur.
_WORDS = ["cat", "Cats", "dog", "dogs", "car", "Automobile", "truck", "0", "1", "ship", "bird"]


def _embeddings(vocab: list[str], seed: int, dim: int = 4) -> np.ndarray:
    rng = np.random.default_rng(seed)
    # A few distinct directions so some different words land at cosine ≥ τ.
    centers = rng.normal(size=(3, dim))
    return np.stack([centers[rng.integers(3)] + 0.3 * rng.normal(size=dim) for _ in vocab])


label_sets_strategy = st.lists(
    st.lists(st.sampled_from(_WORDS), min_size=0, max_size=6), min_size=2, max_size=8
)


def _cosine_hits(
    vocab: list[str], emb: np.ndarray, labels: list[str], tau: float
) -> list[list[int]]:
    unit = emb / np.linalg.norm(emb, axis=1, keepdims=True)
    row = {v: i for i, v in enumerate(vocab)}
    sims = unit[[row[label] for label in labels]] @ unit.T
    return [np.flatnonzero(s >= tau).tolist() for s in sims]


@settings(max_examples=150, deadline=None)
@given(
    label_sets=label_sets_strategy,
    seed=st.integers(0, 10_000),
    tau=st.sampled_from([0.8, 0.95, 1.0]),
    hide=st.booleans(),
    data=st.data(),
)
def test_coverage_equals_containment_targets(
    label_sets: list[list[str]], seed: int, tau: float, hide: bool, data: st.DataObject
) -> None:
    vocab = unique_labels(label_sets)
    emb = _embeddings(vocab, seed) if vocab else np.zeros((0, 4))
    pairs = cosine_label_pairs(vocab, emb, tau) if vocab else []
    # Opaque names ("0", "1" here) match only within corroborated pairs of datasets.
    opaque = opaque_keys(label_sets) if hide else set()
    n_sets = len(label_sets)
    corroborated = (
        data.draw(
            st.lists(st.tuples(st.integers(0, n_sets - 1), st.integers(0, n_sets - 1)), max_size=3)
        )
        if hide
        else []
    )
    corroborated = [(a, b) for a, b in corroborated if a != b]
    dense = containment_targets(
        label_sets, label_pairs=pairs, opaque=opaque, corroborated=corroborated
    ).to_dense()
    if vocab and not hide:  # the pairs stand for the embeddings exactly
        direct = containment_targets(label_sets, vocab=vocab, embeddings=emb, cosine_threshold=tau)
        np.testing.assert_allclose(direct.to_dense(), dense)
    index = CoverageIndex(label_sets, pairs, opaque=opaque, corroborated=corroborated)
    n = len(label_sets)
    for a in range(n):
        from_row = index.coverage(index.row_query(a))
        hits = _cosine_hits(vocab, emb, label_sets[a], tau) if label_sets[a] else []
        from_labels = index.coverage(index.label_query(label_sets[a], hits))
        # A pasted list has no description to corroborate it: it matches like an
        # uncorroborated dataset, so compare it only when nothing is corroborated.
        partnered = any(a in pair for pair in corroborated)
        for got in (from_row,) if partnered else (from_row, from_labels):
            others = np.arange(n) != a
            np.testing.assert_allclose(got.forward[others], dense[a, others], rtol=1e-6)
            np.testing.assert_allclose(got.reverse[others], dense[others, a], rtol=1e-6)


@settings(max_examples=100, deadline=None)
@given(label_sets=label_sets_strategy, query=st.lists(st.sampled_from(_WORDS), min_size=1))
def test_text_only_query_counts_shared_keys(label_sets: list[list[str]], query: list[str]) -> None:
    # A query is a dataset too: its coverage is the targets' row of a set appended last.
    dense = containment_targets([*label_sets, query]).to_dense()
    got = CoverageIndex(label_sets).coverage(CoverageIndex(label_sets).label_query(query))
    np.testing.assert_allclose(got.forward, dense[-1, :-1], rtol=1e-6)
    np.testing.assert_allclose(got.reverse, dense[:-1, -1], rtol=1e-6)


def test_matched_labels_show_text_and_cosine_matches() -> None:
    index = CoverageIndex(
        [["Car", "truck", "cat"], ["dog"]], label_pairs=[("automobile", "Car"), ("auto", "x")]
    )
    query = index.label_query(["automobile", "cats", "plane"])
    # "automobile" is not stored, so it has no synonyms of its own: only the caller's
    # cosine hits (vocab index of "Car") match it.
    assert index.coverage(query).forward[0] == pytest.approx(1 / 3)
    car = index.vocab.index("Car")
    query = index.label_query(["automobile", "cats", "plane"], [[car], [], []])
    assert index.matched(query, 0) == [f"automobile{MATCH_SEPARATOR}Car", "cats"]
    assert index.coverage(query).forward[0] == pytest.approx(2 / 3)
    assert index.coverage(query).reverse[0] == pytest.approx(2 / 3)
    assert index.matched(query, 1) == []
    assert index.matched(query, 0, limit=1) == [f"automobile{MATCH_SEPARATOR}Car"]


def test_stored_cosine_pairs_match_stored_rows() -> None:
    index = CoverageIndex([["car"], ["automobile", "bus"]], label_pairs=[("car", "automobile")])
    got = index.coverage(index.row_query(0))
    assert got.forward.tolist() == [1.0, 1.0]
    assert got.reverse.tolist() == [1.0, 0.5]
    assert index.matched(index.row_query(0), 1) == [f"car{MATCH_SEPARATOR}automobile"]


def test_empty_query_and_empty_rows() -> None:
    index = CoverageIndex([[], ["cat"]])
    assert index.coverage(index.row_query(0)).forward.tolist() == [0.0, 0.0]
    got = index.coverage(index.label_query(["cat"]))
    assert got.forward.tolist() == [0.0, 1.0]
    assert got.reverse.tolist() == [0.0, 1.0]
    assert index.sizes().tolist() == [0, 1]


def test_cosine_hits_are_validated() -> None:
    index = CoverageIndex([["cat"]])
    with pytest.raises(ValueError, match="one entry per label"):
        index.label_query(["cat", "dog"], [[0]])
    with pytest.raises(ValueError, match="outside the vocab"):
        index.label_query(["cat"], [[5]])


def test_opaque_names_never_match_alone() -> None:
    sets = [["0", "1", "2", "3"], ["0", "1", "2", "3", "4", "5"], ["cat", "0"], ["cat", "dog"]]
    index = CoverageIndex(sets, opaque=opaque_keys(sets))
    coffee = index.coverage(index.row_query(0))
    assert coffee.forward.tolist() == [0.0] * 4  # not even itself: digits say nothing
    mixed = index.coverage(index.row_query(2))
    assert mixed.forward.tolist() == [0.0, 0.0, 0.5, 0.5]  # "0" still counts in |A|
    assert index.is_opaque(0) and not index.is_opaque(3)
    pasted = index.coverage(index.label_query(["1", "2", "cat"]))
    assert pasted.forward.tolist() == [0.0, 0.0, pytest.approx(1 / 3), pytest.approx(1 / 3)]
    # A corroborated pair (same kind of data by its description) matches its digits.
    copies = CoverageIndex(sets, opaque=opaque_keys(sets), corroborated=[(0, 1)])
    got = copies.coverage(copies.row_query(0))
    assert got.forward[1] == 1.0 and got.reverse[1] == pytest.approx(4 / 6)
    assert copies.matched(copies.row_query(0), 1) == ["0", "1", "2", "3"]
    assert copies.matched(copies.row_query(0), 2) == []


def test_one_side_is_that_side_of_the_coverage() -> None:
    sets = [["0", "1", "2", "3"], ["0", "1", "2", "3", "4", "5"], ["cat", "0"], ["cat", "dog"]]
    index = CoverageIndex(sets, opaque=opaque_keys(sets), corroborated=[(0, 1)])
    for query in (index.row_query(0), index.row_query(3), index.label_query(["cat", "1"])):
        both = index.coverage(query)
        for direction in ("forward", "reverse"):
            rows, values = index.side(query, direction)
            expected_rows, expected_values = both.side(direction)
            assert rows.tolist() == expected_rows.tolist()
            assert values.tolist() == expected_values.tolist()
    with pytest.raises(ValueError, match="direction"):
        index.side(index.row_query(0), "sideways")
