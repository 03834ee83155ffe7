from __future__ import annotations

import numpy as np
import pytest

from models.research.baselines import (
    AsymmetricCosine,
    GaussianKL,
    PairClassifier,
    RandomScores,
    rank_auc,
)


def _all_pairs(n: int) -> np.ndarray:
    a, b = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
    keep = a != b
    return np.stack([a[keep], b[keep]], axis=1)


def _toy_relation(seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """4 groups x 6 levels; i lies under j iff same group and j is higher (smaller level).

    It needs an interaction between the two nodes' features (same group), so a model that
    scores f(i) + g(j) cannot express it but an MLP can.
    """
    rng = np.random.default_rng(seed)
    groups, levels = np.repeat(np.arange(4), 6), np.tile(np.arange(6), 4)
    x = np.concatenate(
        [np.eye(4)[groups], levels[:, None] / 5.0, rng.normal(0, 0.05, (24, 3))], axis=1
    )
    pairs = _all_pairs(24)
    i, j = pairs[:, 0], pairs[:, 1]
    y = ((groups[i] == groups[j]) & (levels[j] < levels[i])).astype(np.float64)
    return x, pairs, y


def _held_out_auc(model: PairClassifier, seed: int = 0) -> float:
    x, pairs, y = _toy_relation()
    test = np.random.default_rng(seed).random(len(pairs)) < 0.3
    model.fit(x, pairs[~test], y[~test])
    return rank_auc(model.score(x, pairs[test, 0], pairs[test, 1]), y[test] > 0.5)


def test_mlp_learns_an_asymmetric_relation_that_needs_interactions() -> None:
    assert _held_out_auc(PairClassifier((64, 32), epochs=400, lr=3e-3)) > 0.95


def test_linear_model_cannot_express_the_interaction() -> None:
    mlp = _held_out_auc(PairClassifier((64, 32), epochs=400, lr=3e-3))
    assert _held_out_auc(PairClassifier((), epochs=400, lr=3e-3)) < mlp - 0.05


def test_linear_model_learns_a_separable_order() -> None:
    # i under j iff j's first feature is larger: logit = w·(x_j0 − x_i0) is linear.
    x = np.random.default_rng(1).normal(size=(30, 4))
    pairs = _all_pairs(30)
    y = (x[pairs[:, 1], 0] > x[pairs[:, 0], 0]).astype(float)
    model = PairClassifier((), epochs=300, lr=1e-2).fit(x, pairs, y)
    assert model.name == "linear"
    assert rank_auc(model.score(x, pairs[:, 0], pairs[:, 1]), y > 0.5) > 0.98


def test_classifier_is_seeded_and_early_stops_on_validation() -> None:
    x, pairs, y = _toy_relation()
    a = PairClassifier((16,), epochs=50, seed=3).fit(x, pairs, y).score(x, pairs[:, 0], pairs[:, 1])
    b = PairClassifier((16,), epochs=50, seed=3).fit(x, pairs, y).score(x, pairs[:, 0], pairs[:, 1])
    np.testing.assert_array_equal(a, b)
    assert ((a >= 0) & (a <= 1)).all()
    # With val = train, training only stops once the loss stops improving; it must still learn.
    m = PairClassifier((32,), epochs=2000, lr=1e-2, patience=5).fit(x, pairs, y, val=(pairs, y))
    assert rank_auc(m.score(x, pairs[:, 0], pairs[:, 1]), y > 0.5) > 0.9


def _gaussians() -> np.ndarray:
    # [mean; variance] of three 2-D Gaussians: a narrow child inside a broad parent, and a
    # far-away narrow one.
    return np.array(
        [
            [0.0, 0.0, 1.0, 1.0],  # parent: broad
            [0.1, 0.0, 0.1, 0.1],  # child: narrow, near the parent's centre
            [5.0, 5.0, 0.1, 0.1],  # stranger
        ]
    )


def test_kl_is_zero_for_identical_and_asymmetric() -> None:
    x = _gaussians()
    idx = np.arange(3)
    np.testing.assert_allclose(GaussianKL.kl(x, idx, idx, 1e-6), 0.0, atol=1e-12)
    kl_cp = GaussianKL.kl(x, np.array([1]), np.array([0]), 1e-6)[0]
    kl_pc = GaussianKL.kl(x, np.array([0]), np.array([1]), 1e-6)[0]
    assert 0 < kl_cp < kl_pc  # the narrow child fits inside the broad parent, not vice versa


def test_kl_scores_child_under_parent_and_fits_its_floor() -> None:
    x = _gaussians()
    model = GaussianKL().fit(x, np.array([[1, 0], [0, 1], [2, 0]]), np.array([1.0, 0.0, 0.0]))
    s = model.score(x, np.array([1, 0, 2, 0]), np.array([0, 1, 0, 0]))
    assert s[0] > s[1] and s[0] > s[2]
    assert s[3] == pytest.approx(1.0)  # exp(-0) for a node with itself
    assert model.floor in model.floors
    with pytest.raises(ValueError, match="even width"):
        model.score(np.ones((2, 3)), np.array([0]), np.array([1]))


def test_asymmetric_cosine_direction_follows_generality() -> None:
    x = _gaussians()
    model = AsymmetricCosine().fit(x, np.array([[1, 0], [0, 1]]), np.array([1.0, 0.0]))
    fwd = model.score(x, np.array([1]), np.array([0]))
    bwd = model.score(x, np.array([0]), np.array([1]))
    assert fwd[0] > bwd[0]  # the broad parent is the more general one
    # Same-mean pair: only generality differs, so exactly the alpha term separates them.
    sym = model.score(x, np.array([1, 2]), np.array([2, 1]))
    assert sym[0] == pytest.approx(sym[1])


def test_asymmetric_cosine_fits_alpha_on_training_pairs() -> None:
    rng = np.random.default_rng(0)
    mean = rng.normal(size=(40, 8))
    spread = rng.random(40)
    x = np.concatenate([mean, np.repeat(spread[:, None], 8, axis=1)], axis=1)
    pairs = _all_pairs(40)
    y = (spread[pairs[:, 1]] > spread[pairs[:, 0]] + 0.3).astype(float)  # generality is all
    model = AsymmetricCosine().fit(x, pairs, y)
    assert model.alpha == max(model.alphas)


def test_random_scores_are_uniform_and_seeded() -> None:
    x, pairs, y = _toy_relation()
    a = RandomScores(7).fit(x, pairs, y).score(x, pairs[:, 0], pairs[:, 1])
    b = RandomScores(7).fit(x, pairs, y).score(x, pairs[:, 0], pairs[:, 1])
    np.testing.assert_array_equal(a, b)
    assert ((a >= 0) & (a < 1)).all() and 0.4 < a.mean() < 0.6
    assert 0.4 < rank_auc(a, y > 0.5) < 0.6


def test_rank_auc_matches_pairwise_definition() -> None:
    rng = np.random.default_rng(0)
    s, pos = rng.integers(0, 5, 50).astype(float), rng.random(50) < 0.4
    brute = np.mean([(a > b) + 0.5 * (a == b) for a in s[pos] for b in s[~pos]])
    assert rank_auc(s, pos) == pytest.approx(brute)
    assert rank_auc(s, np.zeros(50, bool)) == 0.5


@pytest.mark.parametrize(
    "model", [PairClassifier((4,), epochs=1), GaussianKL(), AsymmetricCosine(), RandomScores()]
)
def test_bad_pairs_are_rejected(model: object) -> None:
    x = np.ones((3, 4))
    with pytest.raises(ValueError, match="pair indices"):
        model.fit(x, np.array([[0, 3]]), np.array([1.0]))  # type: ignore[attr-defined]
    with pytest.raises(ValueError, match="pairs must be"):
        model.fit(x, np.array([0, 1]), np.array([1.0]))  # type: ignore[attr-defined]


def test_score_before_fit_is_an_error() -> None:
    with pytest.raises(RuntimeError, match="fit"):
        PairClassifier().score(np.ones((2, 4)), np.array([0]), np.array([1]))
