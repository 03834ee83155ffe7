"""`BoxNet`: shapes for any d, positive widths, seeded reproducibility, standardization."""

from __future__ import annotations

import pytest
import torch

from models.network import BoxNet, BoxNetConfig


@pytest.mark.parametrize("d", [1, 2, 3, 5, 8])
def test_boxnet_maps_features_to_d_dimensional_boxes(d: int) -> None:
    net = BoxNet(BoxNetConfig(in_dim=12, dim=d, hidden=(32, 16)))
    lo, hi = net(torch.randn(6, 12))
    assert lo.shape == hi.shape == (6, d)
    assert (hi - lo > 0).all()


def test_widths_stay_positive_for_extreme_inputs() -> None:
    net = BoxNet(BoxNetConfig(in_dim=4, dim=2, hidden=(8,), batchnorm=False)).eval()
    lo, hi = net(torch.tensor([[1e4, -1e4, 0.0, 3.0], [-1e4, 1e4, 1e3, -5.0]]))
    assert torch.isfinite(lo).all() and (hi >= lo).all()


def test_same_seed_gives_identical_outputs_and_different_seed_does_not() -> None:
    x = torch.randn(5, 10)
    a = BoxNet(BoxNetConfig(in_dim=10, seed=7)).eval()
    b = BoxNet(BoxNetConfig(in_dim=10, seed=7)).eval()
    c = BoxNet(BoxNetConfig(in_dim=10, seed=8)).eval()
    torch.testing.assert_close(a(x), b(x), rtol=0, atol=0)
    assert not torch.equal(a(x)[0], c(x)[0])


def test_building_a_net_leaves_the_global_rng_alone() -> None:
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    BoxNet(BoxNetConfig(in_dim=10))
    torch.testing.assert_close(torch.rand(3), expected)


def test_feature_stats_standardize_inputs() -> None:
    net = BoxNet(BoxNetConfig(in_dim=3, hidden=(4,), batchnorm=False)).eval()
    x = torch.tensor([[10.0, 0.0, 5.0]])
    before = net(torch.tensor([[0.0, 0.0, 0.0]]))
    net.set_feature_stats(torch.tensor([10.0, 0.0, 5.0]), torch.tensor([2.0, 0.0, 1.0]))
    torch.testing.assert_close(net(x), before)  # (x - mean) / std = 0; std 0 became 1
    assert net.feature_std.tolist() == [2.0, 1.0, 1.0]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"in_dim": 0}, "in_dim must be >= 1, got 0"),
        ({"in_dim": 3, "dim": 0}, "dim must be >= 1, got 0"),
        ({"in_dim": 3, "hidden": (4, 0)}, r"hidden widths must be >= 1, got \(4, 0\)"),
        ({"in_dim": 3, "dropout": 1.0}, r"dropout must be in \[0, 1\), got 1.0"),
    ],
)
def test_bad_config_raises_with_the_value(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        BoxNetConfig(**kwargs)  # type: ignore[arg-type]


def test_wrong_feature_width_is_rejected() -> None:
    net = BoxNet(BoxNetConfig(in_dim=3))
    with pytest.raises(ValueError, match=r"\(B, 3\), got \(2, 4\)"):
        net(torch.zeros(2, 4))


def test_dropout_and_no_batchnorm_variants_build() -> None:
    net = BoxNet(BoxNetConfig(in_dim=3, dim=2, hidden=(8, 8), batchnorm=False, dropout=0.5))
    assert not any(isinstance(m, torch.nn.BatchNorm1d) for m in net.modules())
    assert sum(isinstance(m, torch.nn.Dropout) for m in net.modules()) == 2
