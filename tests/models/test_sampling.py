"""Sampled pair plans: hard-negative neighbours and random negatives."""

from __future__ import annotations

import numpy as np

from models.pairs import PairLookup
from models.sampling import SampledPlan, _nearest_pairs


def test_nearest_pairs_are_the_exact_k_nearest_other_centres() -> None:
    rng = np.random.default_rng(0)
    centers = (rng.normal(size=(300, 2)) * 3 + 5).astype(np.float32)
    a, b = _nearest_pairs(centers, 4, rng, None)
    assert a.size == b.size == 300 * 4 and not (a == b).any()
    c64 = centers.astype(np.float64)
    dist = ((c64[:, None] - c64[None]) ** 2).sum(-1)
    np.fill_diagonal(dist, np.inf)
    kth = np.sort(dist, axis=1)[:, 3]
    got = ((c64[a] - c64[b]) ** 2).sum(-1).reshape(300, 4)
    np.testing.assert_allclose(np.sort(got, axis=1)[:, 3], kth, rtol=1e-4)
    assert (got <= kth[:, None] * (1 + 1e-4)).all()


def test_closed_world_random_negatives_corrupt_one_side_and_are_labelled() -> None:
    n = 50
    i = np.arange(1, n, dtype=np.int64)
    j = np.zeros(n - 1, dtype=np.int64)  # a star: every node inside node 0
    y = np.ones(n - 1, dtype=np.float32)
    plan = SampledPlan(
        i,
        j,
        y,
        n,
        closed_world=True,
        negatives_per_positive=3,
        hard_negatives_per_positive=0,
        neighbors=4,
    )
    pairs = plan.epoch_pairs(np.random.default_rng(1))
    assert len(pairs) > n - 1 and not (pairs.i == pairs.j).any()
    # Targets come from the listing: exactly the listed pairs are 1.
    np.testing.assert_array_equal(pairs.y, PairLookup(i, j, y, n)(pairs.i, pairs.j))
    neg = pairs.y == 0
    # In a star every (k, 0) is listed, so each negative kept its positive's child side and
    # had its container side replaced by another leaf.
    assert (pairs.j[neg] != 0).all() and (pairs.i[neg] != 0).all()
    assert neg.sum() >= 2 * (n - 1)


def test_a_positive_draw_bounds_the_epoch_and_keeps_each_datasets_share() -> None:
    # 20,000 positives: node k is inside k+1..k+m for a few nodes with many containers.
    rng = np.random.default_rng(0)
    n = 2_000
    i = np.repeat(np.arange(200, dtype=np.int64), 100)
    j = (i + 1 + np.tile(np.arange(100), 200)) % n
    y = np.ones(i.size, dtype=np.float32)
    plan = SampledPlan(
        i,
        j,
        y,
        n,
        closed_world=True,
        negatives_per_positive=4,
        hard_negatives_per_positive=2,
        neighbors=4,
        positives_per_epoch=1_000,
    )
    centers = rng.normal(size=(n, 2)).astype(np.float32)
    plan.refresh_hard_negatives(centers, centers + 1, beta=10.0, gumbel_beta=None, rng=rng)
    counts = np.zeros(n)
    for _ in range(40):
        pairs = plan.epoch_pairs(rng)
        # 1,000 positives, ~4,000 random pairs, at most 2,000 hard ones: never all 20,000.
        assert len(pairs) <= 1_000 + 4_000 + 2_000
        positive = pairs.y > 0
        assert positive.sum() >= 1_000
        counts += np.bincount(pairs.i[positive], minlength=n)
    # Every container-side node holds 1/200 of the positives, and keeps it in the draws.
    share = counts[:200] / counts[:200].sum()
    np.testing.assert_allclose(share, 1 / 200, atol=0.5 / 200)


def test_a_subgraph_epoch_touches_at_most_its_nodes() -> None:
    rng = np.random.default_rng(3)
    n = 3_000
    i = rng.integers(0, n, size=60_000)
    j = rng.integers(0, n, size=60_000)
    keep = i != j
    i, j = i[keep], j[keep]
    y = np.ones(i.size, dtype=np.float32)
    plan = SampledPlan(
        i, j, y, n, closed_world=True, negatives_per_positive=4,
        hard_negatives_per_positive=2, neighbors=4, positives_per_epoch=500,
        nodes_per_epoch=400,
    )  # fmt: skip
    centers = rng.normal(size=(n, 2)).astype(np.float32)
    plan.refresh_hard_negatives(centers, centers + 1, beta=10.0, gumbel_beta=None, rng=rng)
    lookup = PairLookup(i, j, y, n)
    touched = np.zeros(n)
    for _ in range(30):
        pairs = plan.epoch_pairs(rng)
        nodes = np.union1d(pairs.i, pairs.j)
        assert nodes.size <= 400 and not (pairs.i == pairs.j).any()
        np.testing.assert_array_equal(pairs.y, lookup(pairs.i, pairs.j))  # targets stay true
        assert (pairs.y > 0).sum() >= 500  # the draw, and random pairs that are positive
        touched[nodes] += 1
    # Over epochs, the subgraphs wander over the whole universe.
    assert (touched > 0).mean() > 0.95
