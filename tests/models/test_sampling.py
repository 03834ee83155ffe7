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
