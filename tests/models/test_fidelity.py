"""`models.fidelity`: the drawn boxes against counted containment."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from models import fidelity
from models.fidelity import fidelity_pairs, map_fidelity
from models.targets import containment_targets

# Nested label sets and 1-D boxes nested the same way: the picture agrees with the classes.
SETS = [["a", "b", "c", "d"], ["a", "b"], ["a"], ["x", "y"], ["x"]]
LO = np.array([[0.0], [0.0], [0.0], [10.0], [10.0]])
HI = np.array([[8.0], [4.0], [2.0], [14.0], [12.0]])


def test_boxes_nested_like_the_classes_are_faithful() -> None:
    targets = containment_targets(SETS)
    got = map_fidelity(LO, HI, targets, beta=10.0, gumbel_beta=None)
    assert got["f1"] == 1.0 and got["pairs"] == 20
    assert got["spearman"] > 0.8


def test_boxes_that_contradict_the_classes_score_low() -> None:
    targets = containment_targets(SETS)
    flipped = map_fidelity(LO[::-1].copy(), HI[::-1].copy(), targets, beta=10.0, gumbel_beta=None)
    assert flipped["f1"] < 0.6 and flipped["spearman"] < 0
    assert (
        flipped["spearman"] < map_fidelity(LO, HI, targets, beta=10.0, gumbel_beta=None)["spearman"]
    )


@settings(max_examples=30, deadline=None)
@given(n=st.integers(2, 60), cap=st.integers(4, 200), seed=st.integers(0, 100))
def test_large_atlases_keep_every_positive_and_stay_bounded(n: int, cap: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    sets = [
        list(rng.choice(list("abcdefgh"), size=rng.integers(1, 4), replace=False)) for _ in range(n)
    ]
    targets = containment_targets(sets)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(fidelity, "MAX_FIDELITY_PAIRS", cap)
        i, j = fidelity_pairs(targets, seed)
    assert (i != j).all()
    listed = set(zip(i.tolist(), j.tolist(), strict=True))
    if n * (n - 1) <= cap:
        assert len(listed) == n * (n - 1)
    else:
        assert set(zip(targets.rows.tolist(), targets.cols.tolist(), strict=True)) <= listed
        assert i.size <= max(cap, targets.rows.size)


def test_boxes_must_match_the_targets() -> None:
    with pytest.raises(ValueError, match="boxes"):
        map_fidelity(LO[:2], HI[:2], containment_targets(SETS), beta=1.0, gumbel_beta=None)
