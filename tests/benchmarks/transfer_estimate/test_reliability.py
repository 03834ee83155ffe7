"""How well measured gains agree with themselves across seeds."""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks.transfer_estimate.runner import Reliability


def test_identical_seeds_agree_fully_and_one_seed_has_no_reliability() -> None:
    gain = np.random.default_rng(0).normal(size=(1, 6, 6))
    assert Reliability.of(gain) is None
    same = np.repeat(gain, 3, axis=0)
    agreed = Reliability.of(same)
    assert agreed is not None
    assert agreed.one_seed == pytest.approx(1.0) and agreed.mean_of_seeds == pytest.approx(1.0)


def test_independent_seeds_agree_near_zero_and_more_seeds_raise_the_mean_s() -> None:
    rng = np.random.default_rng(1)
    noise = Reliability.of(rng.normal(size=(4, 30, 30)))
    assert noise is not None and abs(noise.one_seed) < 0.05
    signal = rng.normal(size=(1, 30, 30))
    noisy = signal + rng.normal(size=(6, 30, 30))
    few, many = Reliability.of(noisy[:2]), Reliability.of(noisy)
    assert few is not None and many is not None
    assert 0.2 < many.one_seed < 0.8
    # Spearman-Brown: the mean of k seeds is more reliable than one.
    assert many.mean_of_seeds == pytest.approx(6 * many.one_seed / (1 + 5 * many.one_seed))
    assert many.mean_of_seeds > few.mean_of_seeds


def test_the_diagonal_is_not_counted() -> None:
    gain = np.random.default_rng(2).normal(size=(2, 5, 5))
    other = gain.copy()
    other[1][np.diag_indices(5)] = 100.0
    assert Reliability.of(gain) == Reliability.of(other)
