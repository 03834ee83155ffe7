"""Transferability estimates against direct implementations, and their properties."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from models.transferability import (
    LOGME_FLOOR,
    LOGME_MAX_ITER,
    LOGME_TOL,
    ProbeConfig,
    Tasks,
    estimate_transfer,
    leep,
    logme,
    nce,
    normalize_estimates,
)

# --- direct implementations: one sample, one class at a time, as the papers write them ---


def naive_leep(theta: np.ndarray, y: np.ndarray) -> float:
    n, cs = theta.shape
    ct = int(y.max()) + 1
    joint = np.zeros((cs, ct))
    for i in range(n):
        for z in range(cs):
            joint[z, y[i]] += theta[i, z] / n
    total = 0.0
    for i in range(n):
        eep = 0.0
        for z in range(cs):
            p_z = joint[z].sum()
            if p_z > 0:
                eep += joint[z, y[i]] / p_z * theta[i, z]
        total += math.log(eep)
    return total / n


def naive_nce(theta: np.ndarray, y: np.ndarray) -> float:
    n = len(y)
    z = theta.argmax(axis=1)
    pairs: dict[tuple[int, int], int] = {}
    for zi, yi in zip(z, y, strict=True):
        pairs[(int(zi), int(yi))] = pairs.get((int(zi), int(yi)), 0) + 1
    out = 0.0
    for (zi, _), count in pairs.items():
        p_z = sum(c for (a, _), c in pairs.items() if a == zi) / n
        out += count / n * math.log(count / n / p_z)
    return out


def naive_logme(f: np.ndarray, y: np.ndarray) -> float:
    """LogME as its authors' reference code computes it (per class, explicit residual)."""
    n, d = f.shape
    s, v = np.linalg.eigh(f.T @ f)
    s = np.clip(s, 0.0, None)
    evidences = []
    for k in range(int(y.max()) + 1):
        yk = (y == k).astype(np.float64)
        tmp = v.T @ (f.T @ yk)
        alpha, beta = 1.0, 1.0
        lam = alpha / beta
        for _ in range(LOGME_MAX_ITER):
            gamma = (s / (s + lam)).sum()
            m = v @ (tmp * beta / (alpha + beta * s))
            alpha_de = float((m * m).sum())
            alpha = max(gamma / (alpha_de + 1e-5), LOGME_FLOOR)
            beta_de = float(((yk - f @ m) ** 2).sum())
            beta = max((n - gamma) / (beta_de + 1e-5), LOGME_FLOOR)
            new_lam = alpha / beta
            if abs(new_lam - lam) / lam < LOGME_TOL:
                break
            lam = new_lam
        evidence = (
            d / 2 * math.log(alpha)
            + n / 2 * math.log(beta)
            - 0.5 * np.log(alpha + beta * s).sum()
            - beta / 2 * (beta_de + 1e-5)
            - alpha / 2 * (alpha_de + 1e-5)
            - n / 2 * math.log(2 * math.pi)
        )
        evidences.append(evidence / n)
    return float(np.mean(evidences))


def entropy(y: np.ndarray) -> float:
    p = np.bincount(y) / len(y)
    p = p[p > 0]
    return float(-(p * np.log(p)).sum())


# --- strategies: a probe's outputs on a target, and the target's labels ---


@st.composite
def probe_outputs(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray]:
    n = draw(st.integers(2, 12))
    cs = draw(st.integers(1, 4))
    ct = draw(st.integers(1, 4))
    logits = draw(arrays(np.float64, (n, cs), elements=st.floats(-6, 6)))
    theta = np.exp(logits - logits.max(axis=1, keepdims=True))
    theta /= theta.sum(axis=1, keepdims=True)
    y = draw(arrays(np.int64, (n,), elements=st.integers(0, ct - 1)))
    _, y = np.unique(y, return_inverse=True)  # every class has a sample
    return theta, y.reshape(-1)


def _score(fn: object, theta: np.ndarray, y: np.ndarray) -> float:
    t = torch.as_tensor(theta)
    mask = torch.ones(len(y), dtype=torch.bool)
    return float(fn(t, torch.as_tensor(y), mask, int(y.max()) + 1))  # type: ignore[operator]


@given(probe_outputs())
def test_leep_is_the_textbook_formula_and_at_most_zero(data: tuple[np.ndarray, np.ndarray]) -> None:
    theta, y = data
    value = _score(leep, theta, y)
    assert value == pytest.approx(naive_leep(theta, y), rel=1e-9, abs=1e-12)
    assert value <= 1e-12


@given(probe_outputs())
def test_nce_is_minus_the_conditional_entropy_and_at_most_zero(
    data: tuple[np.ndarray, np.ndarray],
) -> None:
    theta, y = data
    value = _score(nce, theta, y)
    assert value == pytest.approx(naive_nce(theta, y), rel=1e-9, abs=1e-12)
    assert value <= 1e-12


@given(probe_outputs())
def test_a_constant_probe_scores_lowest(data: tuple[np.ndarray, np.ndarray]) -> None:
    # A probe that says nothing about the sample leaves the label entropy: -H(Y), the floor
    # of both scores (LEEP ≥ the soft joint's -H(Y|Z) ≥ -H(Y) by Jensen).
    theta, y = data
    constant = np.full_like(theta, 1.0 / theta.shape[1])
    floor = -entropy(y)
    for fn in (leep, nce):
        assert _score(fn, constant, y) == pytest.approx(floor, abs=1e-9)
        assert _score(fn, theta, y) >= floor - 1e-9


@given(probe_outputs())
def test_a_probe_predicting_the_labels_exactly_scores_highest(
    data: tuple[np.ndarray, np.ndarray],
) -> None:
    theta, y = data
    exact = np.eye(int(y.max()) + 1)[y]
    for fn in (leep, nce):
        assert _score(fn, exact, y) == pytest.approx(0.0, abs=1e-12)
        assert _score(fn, exact, y) >= _score(fn, theta, y) - 1e-12


@given(probe_outputs(), st.randoms(use_true_random=False))
def test_scores_ignore_how_the_labels_are_numbered(
    data: tuple[np.ndarray, np.ndarray], random: object
) -> None:
    theta, y = data
    ct, cs = int(y.max()) + 1, theta.shape[1]
    rename = np.array(random.sample(range(ct), ct))  # type: ignore[attr-defined]
    columns = np.array(random.sample(range(cs), cs))  # type: ignore[attr-defined]
    features = torch.as_tensor(theta)
    mask = torch.ones(len(y), dtype=torch.bool)
    classes = torch.tensor(ct)
    # With a tie for a row's top class, reordering the source classes can change NCE's argmax.
    unique_top = bool(((theta == theta.max(axis=1, keepdims=True)).sum(axis=1) == 1).all())
    for fn in (leep, nce):
        before = _score(fn, theta, y)
        assert _score(fn, theta, rename[y]) == pytest.approx(before, rel=1e-9, abs=1e-12)
        if fn is leep or unique_top:
            assert _score(fn, theta[:, columns], y) == pytest.approx(before, rel=1e-9, abs=1e-12)
    base = float(logme(features, torch.as_tensor(y), mask, classes))
    renamed = float(logme(features, torch.as_tensor(rename[y]), mask, classes))
    assert renamed == pytest.approx(base, rel=1e-9, abs=1e-9)


@settings(deadline=None)
@given(
    st.integers(3, 15).flatmap(
        lambda n: st.tuples(
            arrays(np.float64, (n, 4), elements=st.floats(-3, 3)),
            arrays(np.int64, (n,), elements=st.integers(0, 2)),
        )
    ),
    st.integers(1, 4),
)
def test_logme_matches_the_reference_loop(data: tuple[np.ndarray, np.ndarray], d: int) -> None:
    f, y = data
    f = f[:, :d]
    _, y = np.unique(y, return_inverse=True)
    y = y.reshape(-1)
    value = float(
        logme(
            torch.as_tensor(f),
            torch.as_tensor(y),
            torch.ones(len(y), dtype=torch.bool),
            torch.tensor(int(y.max()) + 1),
        )
    )
    assert value == pytest.approx(naive_logme(f, y), rel=1e-6, abs=1e-6)


def test_padding_rows_and_classes_changes_no_score() -> None:
    rng = np.random.default_rng(1)
    f, y = rng.normal(size=(9, 3)), np.array([0, 1, 2, 0, 1, 2, 0, 1, 2])
    alone = Tasks.stack([(f, y)], dtype=torch.float64)
    big = Tasks.stack([(f, y), (rng.normal(size=(20, 3)), np.arange(20) % 5)], dtype=torch.float64)
    direct = naive_logme(f, y)
    for tasks in (alone, big):
        got = logme(tasks.features, tasks.labels, tasks.mask, tasks.classes)
        assert float(got[0]) == pytest.approx(direct, rel=1e-6)
    a = estimate_transfer(alone, alone)
    b = estimate_transfer(big, big)
    for name, matrix in a.items():
        assert b[name][0, 0] == pytest.approx(matrix[0, 0], rel=1e-4, abs=1e-6), name


def _clusters(rng: np.random.Generator, per: int = 15) -> tuple[np.ndarray, np.ndarray]:
    centres = np.array([[0.0, 0.0], [6.0, 0.0], [0.0, 6.0], [6.0, 6.0]])
    fine = np.repeat(np.arange(4), per)
    return centres[fine] + rng.normal(scale=0.3, size=(len(fine), 2)), fine


def test_fine_to_coarse_transfers_and_coarse_to_fine_does_not() -> None:
    rng = np.random.default_rng(0)
    x, fine = _clusters(rng)
    coarse = fine // 2  # pairs of clusters: the fine labels determine it, not the reverse
    tasks = Tasks.stack([(x, fine), (x, coarse)], dtype=torch.float64)
    scores = estimate_transfer(tasks, tasks, probe=ProbeConfig(steps=300))
    leep_m, nce_m = scores["leep"], scores["nce"]
    assert leep_m[0, 1] > -0.1 and nce_m[0, 1] == pytest.approx(0.0, abs=1e-12)
    # The coarse probe cannot tell apart the two clusters of a pair: H(fine | coarse) = log 2.
    assert leep_m[1, 0] == pytest.approx(-math.log(2), abs=0.1)
    assert nce_m[1, 0] == pytest.approx(-math.log(2), abs=1e-9)
    assert scores["logme"][0, 1] > scores["logme"][1, 1] - 1.0
    assert leep_m[0, 1] != pytest.approx(leep_m[1, 0], abs=0.3)


def test_a_source_with_unrelated_labels_ranks_below_a_related_one() -> None:
    rng = np.random.default_rng(2)
    x, fine = _clusters(rng)
    # A third feature that varies independently of the clusters, and a source whose labels
    # follow it only: its probe learns nothing about the clusters.
    x = np.concatenate([x, rng.uniform(-3, 3, size=(len(x), 1))], axis=1)
    unrelated = (x[:, 2] > 0).astype(int)
    tasks = Tasks.stack([(x, fine), (x, unrelated), (x, fine % 2)], dtype=torch.float64)
    scores = estimate_transfer(tasks, tasks)
    for name in ("leep", "nce", "logme"):
        assert scores[name][0, 2] > scores[name][1, 2], name


def test_logme_on_features_gives_one_score_per_target() -> None:
    rng = np.random.default_rng(3)
    x, fine = _clusters(rng)
    tasks = Tasks.stack([(x, fine), (x, fine // 2)])
    scores = estimate_transfer(tasks, tasks, estimators=["logme"], logme_on="features")
    assert set(scores) == {"logme"}
    np.testing.assert_allclose(scores["logme"][0], scores["logme"][1])


def test_blocks_of_sources_give_the_same_scores() -> None:
    rng = np.random.default_rng(4)
    tasks = Tasks.stack(
        [(rng.normal(size=(12, 3)), rng.integers(0, c, size=12)) for c in (2, 3, 4)],
        dtype=torch.float64,
    )
    whole = estimate_transfer(tasks, tasks)
    one_at_a_time = estimate_transfer(tasks, tasks, block_elements=1)
    for name in whole:
        np.testing.assert_allclose(one_at_a_time[name], whole[name], rtol=1e-9)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
def test_the_gpu_gives_the_cpu_s_scores() -> None:
    rng = np.random.default_rng(5)
    raw = [(rng.normal(size=(30, 8)), rng.integers(0, 3, size=30)) for _ in range(4)]
    cpu = estimate_transfer(Tasks.stack(raw), Tasks.stack(raw))
    gpu_tasks = Tasks.stack(raw, device="cuda")
    gpu = estimate_transfer(gpu_tasks, gpu_tasks)
    for name in cpu:
        np.testing.assert_allclose(gpu[name], cpu[name], rtol=1e-3, atol=1e-4)


@pytest.mark.parametrize(
    ("tasks", "message"),
    [
        ([], "at least one task"),
        ([(np.zeros((0, 2)), np.zeros(0))], "n >= 1"),
        ([(np.zeros((3, 2)), np.zeros(2))], "labels must have shape"),
        ([(np.full((2, 2), np.nan), np.zeros(2))], "NaN"),
        ([(np.zeros((2, 2)), np.zeros(2)), (np.zeros((2, 3)), np.zeros(2))], "3-d"),
    ],
)
def test_stack_refuses_bad_tasks(tasks: list[tuple[np.ndarray, np.ndarray]], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Tasks.stack(tasks)


def test_estimate_refuses_an_unknown_estimator() -> None:
    tasks = Tasks.stack([(np.eye(2), np.array([0, 1]))])
    with pytest.raises(ValueError, match="estimators must be among"):
        estimate_transfer(tasks, tasks, estimators=["h-score"])
    with pytest.raises(ValueError, match="steps must be >= 1"):
        ProbeConfig(steps=0)


@given(
    # Scores on a grid of 1/8: two values closer than float resolution at the shift's
    # magnitude become equal once shifted (absorption), which turns an order into a tie;
    # that is rounding, not a scale the normalization could keep.
    arrays(np.float64, (4, 3), elements=st.integers(-400, 0).map(lambda v: v / 8)),
    st.floats(0.01, 100),
    st.floats(-10, 10),
)
def test_normalized_estimates_are_non_negative_and_per_target_affine_invariant(
    scores: np.ndarray, scale: float, shift: float
) -> None:
    valid = np.ones(scores.shape, dtype=bool)
    valid[0, 0] = False
    out = normalize_estimates(scores, valid)
    assert np.isnan(out[0, 0]) and (out[valid] >= 0).all()
    moved = scores.copy()
    moved[:, 1] = moved[:, 1] * scale + shift
    np.testing.assert_allclose(normalize_estimates(moved, valid), out, rtol=1e-6, atol=1e-9)


def test_normalized_estimates_keep_each_target_s_order() -> None:
    scores = np.array([[-0.1, -2.0], [-0.5, -1.0], [-0.3, -3.0]])
    out = normalize_estimates(scores)
    assert list(np.argsort(out[:, 0])) == list(np.argsort(scores[:, 0]))
    assert list(np.argsort(out[:, 1])) == list(np.argsort(scores[:, 1]))
    with pytest.raises(ValueError, match="finite"):
        normalize_estimates(np.array([[np.nan, 0.0]]))


@given(probe_outputs())
def test_logme_ranks_label_revealing_features_above_constant_ones(
    data: tuple[np.ndarray, np.ndarray],
) -> None:
    # Features that encode the labels exactly explain them; constant ones explain only the
    # class frequencies.
    _, y = data
    ct = int(y.max()) + 1
    assume(ct >= 2)
    mask = torch.ones(len(y), dtype=torch.bool)

    def score(features: np.ndarray) -> float:
        return float(logme(torch.as_tensor(features), torch.as_tensor(y), mask, torch.tensor(ct)))

    assert score(np.eye(ct)[y]) > score(np.ones((len(y), 1)))
