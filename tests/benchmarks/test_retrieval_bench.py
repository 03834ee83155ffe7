"""`bench retrieval`'s parts: its metrics, its queries and its data."""

from __future__ import annotations

import math

import pytest

from backend.records import DatasetRecord
from benchmarks.retrieval.data import DEFAULT_SHARED_HF, load_records, meaningful
from benchmarks.retrieval.metrics import holder_recall, ndcg, sharer_violation
from benchmarks.retrieval.runner import subset_queries


def test_holder_recall_counts_a_holder_in_the_top_k() -> None:
    assert holder_recall(["a", "h"], {"h"}, 1) == 0.0
    assert holder_recall(["a", "h"], {"h"}, 3) == 1.0


def test_a_non_sharer_above_a_holder_is_a_violation() -> None:
    assert sharer_violation(["h", "s", "x"], {"h"}, {"h", "s"}) == 0.0
    assert sharer_violation(["x", "h"], {"h"}, {"h"}) == 1.0
    # A holder left out while a non-sharer is listed is one too.
    assert sharer_violation(["s", "x"], {"h"}, {"h", "s"}) == 1.0
    assert sharer_violation(["x"], set(), set()) == 0.0


def test_ndcg_rewards_the_ideal_order() -> None:
    gains = {"a": 1.0, "b": 0.5}
    assert ndcg(["a", "b"], gains) == pytest.approx(1.0)
    worse = ndcg(["b", "a"], gains)
    assert worse < 1.0
    assert worse == pytest.approx((0.5 + 1.0 / math.log2(3)) / (1.0 + 0.5 / math.log2(3)))
    assert ndcg(["x"], {}) == 1.0


def test_queries_are_seeded_subsets_of_meaningful_classes() -> None:
    records = [
        DatasetRecord(id="o/named", labels=("cat", "dog", "Cats", "horse", "cow", "sheep", "0")),
        DatasetRecord(id="o/digits", labels=tuple(str(i) for i in range(10))),
    ]
    first = subset_queries(records, (1, 2, 4, 8), 2, seed=3)
    assert first == subset_queries(records, (1, 2, 4, 8), 2, seed=3)
    assert {q.source for q in first} == {"o/named"}  # digits are not meaningful
    assert sorted({len(q.labels) for q in first}) == [1, 2, 4]  # 5 distinct names: no 8
    assert all(meaningful(label) for q in first for label in q.labels)


def test_the_data_is_the_catalog_plus_the_shared_fixtures() -> None:
    records, found = load_records(None)
    assert not found and len(records) >= 40 and len({r.id for r in records}) == len(records)
    if DEFAULT_SHARED_HF.is_dir():
        more, found = load_records(DEFAULT_SHARED_HF)
        assert found and len(more) > len(records)
