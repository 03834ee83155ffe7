"""The label-set box network: containment by construction, set semantics, training."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from models import ops
from models.metrics import average_precision
from models.pairs import PairSet
from models.setbox import LabelSets, SetBoxConfig, SetBoxNet
from models.setbox_train import SetTrainConfig, fit_set_boxes

_E = 8
_M = 12  # labels in the table


def _net(dim: int, temperature: float | None, seed: int) -> SetBoxNet:
    return SetBoxNet(SetBoxConfig(_E, dim, (16,), temperature, seed)).eval()


def _emb(seed: int) -> torch.Tensor:
    return torch.from_numpy(np.random.default_rng(seed).normal(size=(_M, _E)).astype(np.float32))


def _boxes(net: SetBoxNet, emb: torch.Tensor, sets: LabelSets) -> tuple[torch.Tensor, ...]:
    with torch.no_grad():
        return net(emb, torch.from_numpy(sets.index), torch.from_numpy(sets.mask))


_subset_case = st.tuples(
    st.sets(st.integers(0, _M - 1), min_size=1, max_size=_M),
    st.integers(1, 5),
    st.sampled_from([None, 0.05, 1.0]),
    st.integers(0, 10_000),
    st.data(),
)


@settings(max_examples=40, deadline=None)
@given(_subset_case)
def test_a_label_subset_is_contained_exactly(
    case: tuple[set[int], int, float | None, int, st.DataObject],
) -> None:
    parent, dim, temperature, seed, data = case
    child = data.draw(st.sets(st.sampled_from(sorted(parent)), min_size=1))
    net = _net(dim, temperature, seed)
    lo, hi = _boxes(net, _emb(seed), LabelSets.from_lists([sorted(child), sorted(parent)]))
    assert (hi > lo).all()
    assert (lo[0] >= lo[1]).all() and (hi[0] <= hi[1]).all()
    p = ops.containment(lo[0], hi[0], lo[1], hi[1], beta=10.0)
    assert float(p) == 1.0


@settings(max_examples=30, deadline=None)
@given(
    st.lists(st.integers(0, _M - 1), min_size=1, max_size=8),
    st.sampled_from([None, 0.1]),
    st.integers(0, 10_000),
)
def test_boxes_ignore_order_and_padding(
    labels: list[int], temperature: float | None, seed: int
) -> None:
    net, emb = _net(3, temperature, seed), _emb(seed)
    rng = np.random.default_rng(seed)
    shuffled = list(rng.permutation(labels))
    # The first set is padded to the second's width; padding rows point at label 0 (or
    # anything else) and must not move the box.
    sets = LabelSets.from_lists([labels, shuffled, list(range(_M))])
    index = sets.index.copy()
    index[~sets.mask] = int(rng.integers(0, _M))
    lo, hi = _boxes(net, emb, LabelSets(index, sets.mask))
    lo_alone, hi_alone = _boxes(net, emb, LabelSets.from_lists([labels]))
    torch.testing.assert_close(lo[0], lo[1])
    torch.testing.assert_close(hi[0], hi[1])
    torch.testing.assert_close(lo[0], lo_alone[0])
    torch.testing.assert_close(hi[0], hi_alone[0])


def test_hard_boxes_are_the_bounding_box_plus_the_margin() -> None:
    net, emb = _net(2, None, 0), _emb(0)
    lo, hi = _boxes(net, emb, LabelSets.from_lists([[1, 4, 7]]))
    with torch.no_grad():
        pts, m = net.points(emb)[[1, 4, 7]], net.margin()
    torch.testing.assert_close(lo[0], pts.min(dim=0).values - m)
    torch.testing.assert_close(hi[0], pts.max(dim=0).values + m)


@settings(max_examples=30, deadline=None)
@given(
    st.lists(st.integers(0, _M - 1), min_size=1, max_size=_M, unique=True),
    st.integers(1, 5),
    st.sampled_from([None, 0.1]),
    st.integers(0, 10_000),
)
def test_a_single_box_is_exactly_what_forward_gives(
    labels: list[int], dim: int, temperature: float | None, seed: int
) -> None:
    net, emb = _net(dim, temperature, seed), _emb(seed)
    lo, hi = _boxes(net, emb[labels], LabelSets.from_lists([list(range(len(labels)))]))
    with torch.inference_mode():
        lo_one, hi_one = net.single_box(emb[labels])
    assert torch.equal(lo_one, lo[0]) and torch.equal(hi_one, hi[0])


@pytest.mark.parametrize(
    ("index", "mask", "message"),
    [
        (np.zeros((2, 3), dtype=np.int64), np.ones((2, 2), dtype=bool), "one shape"),
        (np.zeros((1, 2), dtype=np.int64), np.zeros((1, 2), dtype=bool), "at least one"),
        (-np.ones((1, 1), dtype=np.int64), np.ones((1, 1), dtype=bool), ">= 0"),
    ],
)
def test_bad_label_sets_raise(index: np.ndarray, mask: np.ndarray, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        LabelSets(index, mask)


def _tree() -> tuple[np.ndarray, LabelSets, np.ndarray]:
    """Root over 2 branches over 2 leaves each; each leaf owns 2 labels (8 in all)."""
    leaves = [[0, 1], [2, 3], [4, 5], [6, 7]]
    sets = [list(range(8)), [0, 1, 2, 3], [4, 5, 6, 7], *leaves]
    emb = np.random.default_rng(0).normal(size=(8, _E)).astype(np.float32)
    member = np.zeros((len(sets), 8), dtype=bool)
    for r, s in enumerate(sets):
        member[r, s] = True
    overlap = (member[:, None] & member[None]).sum(-1) / member.sum(1)[:, None]
    return emb, LabelSets.from_lists(sets), overlap.astype(np.float32)


def test_training_separates_non_ancestors_and_is_reproducible() -> None:
    emb, sets, y = _tree()
    n = len(sets)
    i, j = (a.ravel() for a in np.meshgrid(np.arange(n), np.arange(n), indexing="ij"))
    off = i != j
    pairs = PairSet(i[off], j[off], y[i[off], j[off]])
    config = SetTrainConfig(dim=2, hidden=(16,), epochs=150, device="cpu", seed=3)
    model = fit_set_boxes(emb, sets, pairs, config)
    p = model.predict_pairs(pairs.i, pairs.j)
    truth = pairs.y >= 1.0
    assert (p[truth] == 1.0).all()  # subsets: exactly contained
    assert p[~truth].max() < 0.5, p[~truth]
    again = fit_set_boxes(emb, sets, pairs, config).predict_pairs(pairs.i, pairs.j)
    np.testing.assert_array_equal(p, again)
    lo, hi = model.boxes(np.array([3]))
    placed = model.place(emb[[0, 1]])
    np.testing.assert_allclose(placed[0], lo[0], rtol=1e-6)
    np.testing.assert_allclose(placed[1], hi[0], rtol=1e-6)


def test_early_stopping_keeps_the_best_validation_weights() -> None:
    emb, sets, y = _tree()
    i = np.array([3, 4, 5, 6, 3, 5, 1, 2])
    j = np.array([1, 1, 2, 2, 2, 1, 2, 1])
    train = PairSet(i, j, y[i, j])
    vi, vj = np.array([4, 6, 1, 2]), np.array([2, 1, 0, 0])
    val = PairSet(vi, vj, (y[vi, vj] >= 1).astype(np.float32))
    config = SetTrainConfig(dim=2, hidden=(16,), epochs=60, device="cpu", patience=20)
    model = fit_set_boxes(emb, sets, train, config, val=val)
    assert average_precision(val.y, model.predict_pairs(vi, vj)) == 1.0


def test_fit_rejects_bad_inputs() -> None:
    emb, sets, _ = _tree()
    pairs = PairSet(np.array([3]), np.array([1]), np.array([1.0], dtype=np.float32))
    config = SetTrainConfig(device="cpu", epochs=1)
    with pytest.raises(ValueError, match="out of range"):
        fit_set_boxes(emb[:4], sets, pairs, config)
    with pytest.raises(ValueError, match="finite"):
        fit_set_boxes(emb * np.nan, sets, pairs, config)
    with pytest.raises(ValueError, match="pos_weight"):
        replace(config, pos_weight=-1.0)
