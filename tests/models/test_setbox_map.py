"""`models.setbox_map`: closed-world pairs, the fit, and the placer's checkpoint."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from models import ops, setbox_map
from models.pairs import PairSet
from models.setbox import LabelSets
from models.setbox_map import (
    EpochSampler,
    SetBoxPlacer,
    closed_world_pairs,
    fit_set_map,
    set_map_config,
    stopping_pairs,
)


def _toy() -> tuple[np.ndarray, LabelSets, PairSet]:
    rng = np.random.default_rng(0)
    emb = rng.normal(size=(12, 8)).astype(np.float32)
    sets = LabelSets.from_lists([[0, 1, 2, 3], [0, 1], [4, 5, 6], [4], [7, 8, 9, 10, 11], [9]])
    # y(A ⊆ B) > 0 pairs only: a closed world.
    pairs = PairSet(
        np.array([1, 0, 3, 2, 5, 4]),
        np.array([0, 1, 2, 3, 4, 5]),
        np.array([1.0, 0.5, 1.0, 1 / 3, 1.0, 0.2]),
        closed_world=True,
    )
    return emb, sets, pairs


def test_small_closed_worlds_list_every_ordered_pair() -> None:
    _, sets, pairs = _toy()
    listed = closed_world_pairs(pairs, len(sets))
    assert listed is not None and len(listed) == 6 * 5
    assert set(zip(listed.i.tolist(), listed.j.tolist(), strict=True)) == {
        (a, b) for a in range(6) for b in range(6) if a != b
    }
    keys = zip(listed.i.tolist(), listed.j.tolist(), strict=True)
    y = dict(zip(keys, listed.y.tolist(), strict=True))
    assert y[(1, 0)] == 1.0 and y[(0, 1)] == 0.5 and y[(0, 2)] == 0.0


def test_large_closed_worlds_are_sampled_afresh_each_epoch(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _, sets, pairs = _toy()
    monkeypatch.setattr(setbox_map, "MAX_LISTED_PAIRS", 10)
    assert closed_world_pairs(pairs, len(sets)) is None
    monkeypatch.setattr(setbox_map, "SAMPLED_POSITIVES", 4)
    sampler = EpochSampler(pairs, len(sets), seed=1)
    first, second = sampler(1), sampler(2)
    again = EpochSampler(pairs, len(sets), seed=1)(1)
    universe = pairs.universe(len(sets))
    listed = dict(
        zip(zip(pairs.i.tolist(), pairs.j.tolist(), strict=True), pairs.y.tolist(), strict=True)
    )
    for li, lj, y in (first, second):
        i, j = universe[li], universe[lj]
        assert (i != j).all()
        assert len(y) <= 4 + 4 * 4
        for a, b, target in zip(i.tolist(), j.tolist(), y.tolist(), strict=True):
            assert target == pytest.approx(listed.get((a, b), 0.0))  # looked up, never invented
        assert (y > 0).sum() >= 4  # the sampled positives, at least
    np.testing.assert_array_equal(first[0], again[0])  # seeded per epoch
    assert not np.array_equal(first[0], second[0])


def test_early_stopping_reads_a_bounded_sample_with_every_positive(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(setbox_map, "MAX_STOPPING_PAIRS", 5)
    val = PairSet(np.arange(10), np.arange(10) + 1, np.array([1, 0, 0, 1, 0, 0, 0, 0, 0, 1.0]))
    got = stopping_pairs(val)
    assert len(got) == 5 and got.y.sum() == 3
    monkeypatch.setattr(setbox_map, "MAX_STOPPING_PAIRS", 50)
    assert stopping_pairs(val) is val


def test_a_sampled_fit_trains_within_the_universe(monkeypatch: pytest.MonkeyPatch) -> None:
    emb, sets, pairs = _toy()
    monkeypatch.setattr(setbox_map, "MAX_LISTED_PAIRS", 10)
    model = fit_set_map(emb, sets, pairs, set_map_config(dim=2, epochs=20, device="cpu"))
    lo, hi = model.boxes()
    assert lo.shape == (6, 2) and (hi > lo).all()


def _trained() -> SetBoxPlacer:
    emb, sets, pairs = _toy()
    config = set_map_config(dim=2, epochs=60, device="cpu")
    model = fit_set_map(emb, sets, pairs, config)
    return SetBoxPlacer.from_model(model)


@settings(max_examples=25, deadline=None)
@given(
    superset=st.lists(st.integers(0, 11), min_size=1, max_size=12, unique=True),
    data=st.data(),
)
def test_a_label_subset_is_inside_its_superset(superset: list[int], data: st.DataObject) -> None:
    placer = _PLACER
    subset = data.draw(st.lists(st.sampled_from(superset), min_size=1, unique=True))
    emb = _toy()[0]
    lo_b, hi_b = placer.place(emb[superset])
    lo_a, hi_a = placer.place(emb[subset])
    # Exact up to float rounding: a label's point may differ in its last bits between two
    # forward passes of different batch sizes (BLAS blocking).
    assert (lo_b <= lo_a + 1e-5).all() and (hi_a <= hi_b + 1e-5).all()
    p = ops.containment(
        torch.from_numpy(lo_a)[None],
        torch.from_numpy(hi_a)[None],
        torch.from_numpy(lo_b)[None],
        torch.from_numpy(hi_b)[None],
        beta=placer.beta,
        gumbel_beta=placer.gumbel_beta,
    )
    assert float(p[0]) == pytest.approx(1.0, abs=1e-4)


_PLACER = _trained()


def test_the_placer_round_trips_through_bytes() -> None:
    emb = _toy()[0]
    again = SetBoxPlacer.from_bytes(_PLACER.to_bytes())
    for rows in ([0, 1, 2], [5], list(range(12))):
        for got, want in zip(again.place(emb[rows]), _PLACER.place(emb[rows]), strict=True):
            np.testing.assert_array_equal(got, want)
    assert (again.beta, again.gumbel_beta) == (_PLACER.beta, _PLACER.gumbel_beta)


def test_the_placer_refuses_bad_input() -> None:
    with pytest.raises(ValueError, match="non-empty"):
        _PLACER.place(np.zeros((0, 8), np.float32))
    with pytest.raises(ValueError, match="non-empty"):
        _PLACER.place(np.zeros((2, 3), np.float32))
    with pytest.raises(ValueError, match="NaN"):
        _PLACER.place(np.full((1, 8), np.nan, np.float32))
    with pytest.raises(ValueError, match="checkpoint"):
        SetBoxPlacer.from_payload({"format": "task2box-boxnet", "version": 1})


def test_the_fit_separates_unrelated_sets() -> None:
    emb = _toy()[0]
    lo0, hi0 = _PLACER.place(emb[[0, 1, 2, 3]])
    lo2, hi2 = _PLACER.place(emb[[4, 5, 6]])
    p = ops.containment(
        torch.from_numpy(lo2)[None],
        torch.from_numpy(hi2)[None],
        torch.from_numpy(lo0)[None],
        torch.from_numpy(hi0)[None],
        beta=_PLACER.beta,
        gumbel_beta=None,
    )
    assert float(p[0]) < 0.5  # trained negatives: {4,5,6} is not inside {0,1,2,3}
