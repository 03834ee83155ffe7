"""The all-pairs estimate against the estimators applied to each pair directly.

`estimate_transfer` never builds one pair's probe outputs on its own (it works on blocks of
sources laid out for matrix products, and LogME from each pair's Gram); here every pair's
outputs are computed one at a time in numpy and scored by the papers' formulas.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from models.transferability import ESTIMATORS, Tasks, estimate_transfer, fit_probes
from tests.models.test_transferability import naive_leep, naive_logme, naive_nce

Raw = list[tuple[np.ndarray, np.ndarray]]


def _random_tasks(seed: int, count: int = 5, dim: int = 6) -> Raw:
    """Tasks of different sizes and class counts (so rows and classes are padded), with
    class-dependent features so the probes are neither uniform nor one-hot."""
    rng = np.random.default_rng(seed)
    out: Raw = []
    for _ in range(count):
        classes = int(rng.integers(2, 6))
        n = int(rng.integers(classes * 2, 25))
        labels = np.arange(n) % classes
        rng.shuffle(labels)
        means = rng.normal(scale=1.5, size=(classes, dim))
        out.append((means[labels] + rng.normal(size=(n, dim)), labels))
    return out


def _direct(raw: Raw, dtype: torch.dtype) -> dict[str, np.ndarray]:
    """Each pair scored alone: the source's probe applied to the target's real rows."""
    probes = fit_probes(Tasks.stack(raw, dtype=dtype))
    weight = probes.weight.double().numpy()
    bias = probes.bias.double().numpy()
    out = {name: np.zeros((len(raw), len(raw))) for name in ESTIMATORS}
    for i in range(len(raw)):
        for j, (x, y) in enumerate(raw):
            logits = x @ weight[i] + bias[i]  # padded classes: -inf, so probability 0
            theta = np.exp(logits - logits.max(axis=1, keepdims=True))
            theta /= theta.sum(axis=1, keepdims=True)
            out["leep"][i, j] = naive_leep(theta, y)
            out["nce"][i, j] = naive_nce(theta, y)
            out["logme"][i, j] = naive_logme(theta, y)
    return out


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_every_pair_matches_its_direct_scores(seed: int) -> None:
    raw = _random_tasks(seed)
    tasks = Tasks.stack(raw, dtype=torch.float64)
    expected = _direct(raw, torch.float64)
    for block in (1, 10**9):
        got = estimate_transfer(tasks, tasks, block_elements=block)
        for name in ESTIMATORS:
            np.testing.assert_allclose(got[name], expected[name], rtol=1e-6, atol=1e-9)


def test_float32_features_give_the_float64_scores_within_float32_tolerance() -> None:
    # The Hub job stores features in float16 and estimates in float32; LogME must not lose
    # digits to float32 sums (its Gram and FᵀY are accumulated in float64).
    raw = [(x.astype(np.float32).astype(np.float64), y) for x, y in _random_tasks(3, count=6)]
    expected = _direct(raw, torch.float32)
    got = estimate_transfer(Tasks.stack(raw), Tasks.stack(raw))
    for name in ESTIMATORS:
        np.testing.assert_allclose(got[name], expected[name], rtol=1e-4, atol=1e-5, err_msg=name)


def test_sources_and_targets_may_differ() -> None:
    raw = _random_tasks(4, count=6)
    expected = _direct(raw, torch.float64)
    sources = Tasks.stack(raw[:2], dtype=torch.float64)
    # Fitting only the first two sources gives them the same probes (each fit is independent).
    got = estimate_transfer(sources, Tasks.stack(raw, dtype=torch.float64))
    for name in ESTIMATORS:
        np.testing.assert_allclose(got[name], expected[name][:2], rtol=1e-6, atol=1e-9)


def test_seconds_are_added_up_per_phase() -> None:
    tasks = Tasks.stack(_random_tasks(5, count=3))
    seconds: dict[str, float] = {}
    estimate_transfer(tasks, tasks, seconds=seconds)
    assert set(seconds) == {"probe fit", "probe outputs", *ESTIMATORS}
    assert all(v >= 0 for v in seconds.values()) and seconds["probe fit"] > 0


def test_logme_chunks_change_no_score(monkeypatch: pytest.MonkeyPatch) -> None:
    # Every (pair, class) fixed point is independent, so solving them one at a time (a
    # chunk of one) gives the scores of solving them all at once.
    import models.logme as module

    tasks = Tasks.stack(_random_tasks(6, count=4), dtype=torch.float64)
    whole = estimate_transfer(tasks, tasks, estimators=["logme"])["logme"]
    monkeypatch.setattr(module, "_CHUNK_ELEMENTS", 1)
    alone = estimate_transfer(tasks, tasks, estimators=["logme"])["logme"]
    np.testing.assert_array_equal(alone, whole)


def test_sources_are_blocked_by_their_number_of_classes() -> None:
    from models.transferability import _source_blocks

    target = Tasks.stack([(np.zeros((10, 2)), np.arange(10) % 2)])  # 10 elements per class
    classes = torch.tensor([5, 2, 2, 9, 2])
    blocks = _source_blocks(classes, target, block_elements=60)
    assert [(list(rows), width) for rows, width in blocks] == [([1, 2, 4], 2), ([0], 5), ([3], 9)]
    # A source wider than a block still gets a block of its own.
    assert [len(rows) for rows, _ in _source_blocks(classes, target, block_elements=1)] == [1] * 5
