"""Stacked training: every member learns exactly as it would alone."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from benchmarks.transfer_estimate.measure import (
    Nets,
    TrainSettings,
    fine_tune_accuracies,
    fit,
    new_nets,
    pad,
    train_sources,
)


def _member(nets: Nets, i: int) -> Nets:
    return Nets(
        [p[i : i + 1].clone() for p in nets.body],
        [p[i : i + 1].clone() for p in nets.head],
        nets.class_bias[i : i + 1].clone(),
    )


def test_stacked_networks_train_as_if_alone() -> None:
    rng = np.random.default_rng(0)
    data = [
        (rng.uniform(size=(12, 64)).astype(np.float32), rng.integers(0, 3, size=12)),
        (rng.uniform(size=(7, 64)).astype(np.float32), rng.integers(0, 2, size=7)),
    ]
    settings = TrainSettings(source_steps=15)
    stacked = new_nets([3, 2], seed=4)
    alone = [_member(stacked, 0), _member(stacked, 1)]
    before = stacked.member_features(1, data[1][0])
    fit(stacked, *pad(data), 15, settings)
    for i, nets in enumerate(alone):
        fit(nets, *pad([data[i]]), 15, settings)
        np.testing.assert_allclose(
            stacked.member_features(i, data[i][0]),
            nets.member_features(0, data[i][0]),
            rtol=1e-4,
            atol=1e-5,
        )
    assert not np.allclose(before, stacked.member_features(1, data[1][0]))
    assert torch.isinf(stacked.class_bias[1, 0, 2]) and stacked.class_bias[0, 0, 2] == 0


def test_fine_tuning_returns_one_accuracy_per_source_and_the_scratch_one() -> None:
    rng = np.random.default_rng(1)
    x = rng.uniform(size=(40, 64)).astype(np.float32)
    y = (x[:, 0] > 0.5).astype(np.int64)
    sources = train_sources([(x, y), (x, 1 - y), (x, y * 0)], [2, 2, 1], TrainSettings(20, 5))
    tuned, scratch = fine_tune_accuracies(
        sources, (x[:10], y[:10]), (x[10:], y[10:]), 2, TrainSettings(20, 5), seed=0
    )
    assert tuned.shape == (3,) and ((tuned >= 0) & (tuned <= 1)).all() and 0 <= scratch <= 1


def test_a_lower_body_rate_keeps_the_pre_trained_layers_closer() -> None:
    rng = np.random.default_rng(2)
    x = torch.as_tensor(rng.uniform(size=(30, 64)).astype(np.float32))
    y = torch.as_tensor((x[:, 0] > 0.5).numpy().astype(np.int64))[None, :]
    mask = torch.ones(1, 30)
    settings = TrainSettings(20, 20)
    moved = {}
    for scale in (1.0, 0.1):
        nets = new_nets([2], seed=0)
        before = [p.clone() for p in nets.body]
        head_before = nets.head[0].clone()
        fit(nets, x, y, mask, 20, settings, body_lr_scale=scale)
        moved[scale] = sum(
            float((p - q).abs().sum()) for p, q in zip(nets.body, before, strict=True)
        )
        assert not torch.allclose(nets.head[0], head_before)  # the head trains at full rate
    assert moved[0.1] < 0.2 * moved[1.0]


def test_the_body_rate_must_be_a_share_of_the_rate() -> None:
    for bad in (0.0, -0.1, 1.5):
        with pytest.raises(ValueError, match="body_lr_scale"):
            TrainSettings(body_lr_scale=bad)


def test_a_member_s_head_probs_are_its_own_softmax_over_its_real_classes() -> None:
    rng = np.random.default_rng(3)
    x = rng.uniform(size=(25, 64)).astype(np.float32)
    y = (x[:, 0] * 3).astype(np.int64)  # 3 classes
    nets = train_sources([(x, y), (x, (y > 0).astype(np.int64))], [3, 2], TrainSettings(30, 5))
    features = torch.as_tensor(nets.member_features(1, x))
    probs = nets.member_head_probs(1, features)
    assert probs.shape == (25, 2) and probs.dtype == torch.float64  # the padded class dropped
    torch.testing.assert_close(probs.sum(dim=-1), torch.ones(25, dtype=torch.float64))
    with torch.no_grad():
        logits = nets.logits(torch.as_tensor(x))[1, :, :2]
    torch.testing.assert_close(probs, torch.softmax(logits, -1).double(), rtol=1e-4, atol=1e-5)
