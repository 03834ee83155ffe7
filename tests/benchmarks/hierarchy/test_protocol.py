from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from benchmarks.hierarchy.graph import Hierarchy
from benchmarks.hierarchy.protocol import (
    decide,
    evaluate,
    existing_split,
    f1_score,
    make_split,
    novel_split,
    tune_threshold,
)


def _keys(pairs: np.ndarray) -> set[tuple[int, int]]:
    return {(int(a), int(b)) for a, b in pairs}


@pytest.mark.parametrize("fraction", [0.8, 0.5])
def test_existing_split_partitions_pairs_and_keeps_reverses_together(fraction: float) -> None:
    n = 20
    s = existing_split(n, fraction, np.random.default_rng(0))
    train, val, test = _keys(s.train), _keys(s.val), _keys(s.test)
    assert not (train & val) and not (train & test) and not (val & test)
    assert len(train | val | test) == n * (n - 1)
    for part in (train, val, test):
        assert all((b, a) in part for a, b in part)
    assert len(train) == 2 * round(fraction * n * (n - 1) / 2)
    assert len(val) == 2 * round(0.1 * n * (n - 1) / 2)
    assert s.setting == f"existing-{round(fraction * 100)}"


def test_splits_are_reproducible_per_case_and_differ_across_cases() -> None:
    childless = np.arange(10, 30)
    a = make_split("existing-80", 30, childless, seed=1, case=0)
    b = make_split("existing-80", 30, childless, seed=1, case=0)
    c = make_split("existing-80", 30, childless, seed=1, case=1)
    np.testing.assert_array_equal(a.test, b.test)
    assert _keys(a.test) != _keys(c.test)
    with pytest.raises(ValueError, match="unknown setting"):
        make_split("existing-70", 30, childless, seed=1, case=0)


def test_novel_split_holds_out_childless_nodes_only() -> None:
    n, childless = 40, np.arange(15, 40)
    s = novel_split(n, childless, np.random.default_rng(3))
    held = set(s.held_out.tolist())
    assert held <= set(childless.tolist())
    assert len(held) == round(0.15 * n) + round(0.10 * n)
    assert not held & set(np.unique(s.train).tolist())  # training never sees a held-out node
    test_nodes = {a for a, b in _keys(s.test) if a in held} | {
        b for a, b in _keys(s.test) if b in held
    }
    val_nodes = {a for a, b in _keys(s.val) if a in held} | {
        b for a, b in _keys(s.val) if b in held
    }
    assert test_nodes.isdisjoint(val_nodes) and test_nodes | val_nodes == held
    for part in (s.test, s.val):  # each evaluated pair joins one held-out and one training node
        assert all((a in held) != (b in held) for a, b in _keys(part))
    train_nodes = n - len(held)
    assert len(s.train) == train_nodes * (train_nodes - 1)


def test_novel_split_shrinks_when_few_nodes_are_childless() -> None:
    s = novel_split(40, np.array([5, 6, 7]), np.random.default_rng(0))
    assert set(s.held_out.tolist()) <= {5, 6, 7} and len(s.held_out) == 3
    with pytest.raises(ValueError, match="childless"):
        novel_split(40, np.array([5]), np.random.default_rng(0))


def test_f1_and_decision_rule() -> None:
    truth = np.array([True, True, False, False])
    assert f1_score(np.array([True, False, True, False]), truth) == pytest.approx(0.5)
    assert f1_score(truth, truth) == 1.0
    assert f1_score(np.zeros(4, bool), np.zeros(4, bool)) == 1.0
    assert f1_score(np.zeros(4, bool), truth) == 0.0
    fwd, bwd = np.array([0.9, 0.9, 0.4]), np.array([0.95, 0.1, 0.1])
    assert decide(fwd, bwd, 0.5).tolist() == [False, True, False]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.floats(0, 1, width=32), st.floats(0, 1, width=32), st.booleans()),
        min_size=1,
        max_size=40,
    )
)
def test_tuned_threshold_is_as_good_as_any_threshold(rows: list[tuple[float, float, bool]]) -> None:
    fwd = np.array([r[0] for r in rows], dtype=np.float64)
    bwd = np.array([r[1] for r in rows], dtype=np.float64)
    truth = np.array([r[2] for r in rows])
    t = tune_threshold(fwd, bwd, truth)
    best = f1_score(decide(fwd, bwd, t), truth)
    candidates = np.concatenate([fwd, fwd - 1e-9, [-1.0, 2.0]])
    brute = max(f1_score(decide(fwd, bwd, c), truth) for c in candidates)
    if truth.any():
        assert best == pytest.approx(brute)


def _chain(n: int) -> Hierarchy:
    # node k has labels {k..n-1}: a chain where node k+1 lies under node k.
    return Hierarchy(
        names=tuple(f"n{k}" for k in range(n)),
        labels=tuple(tuple(str(x) for x in range(k, n + 1)) for k in range(n)),
        label_text={str(x): str(x) for x in range(n + 1)},
        edges=tuple((k, k + 1) for k in range(n - 1)),
    )


def test_evaluate_rewards_an_oracle_and_punishes_its_reverse() -> None:
    h = _chain(12)
    c, d = h.contained(), h.direct()
    split = make_split("existing-50", h.size, h.childless(), seed=0, case=0)
    oracle = evaluate(lambda i, j: c[i, j].astype(float), split, c, d)
    assert oracle.f1 == 1.0
    reverse = evaluate(lambda i, j: c[j, i].astype(float), split, c, d)
    assert reverse.f1 == 0.0


def test_edge_f1_ignores_indirect_ancestors() -> None:
    h = _chain(12)
    c, d = h.contained(), h.direct()
    split = make_split("existing-50", h.size, h.childless(), seed=0, case=1)
    # A transitive oracle finds grandparents too; the edge metric must not charge it for them.
    assert evaluate(lambda i, j: c[i, j].astype(float), split, c, d).f1_edge == 1.0
    # A model that knows only the direct edges scores 1 on edges but misses the ancestors.
    direct_only = evaluate(lambda i, j: d[i, j].astype(float), split, c, d)
    assert direct_only.f1_edge == 1.0 and direct_only.f1 < 1.0
