"""The trainer: learns a small hierarchy, both pair plans, early stopping, failures, checkpoints."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from models import losses as losses_module
from models import train as train_module
from models.errors import TrainingError
from models.pairs import PairSet
from models.train import TrainConfig, TrainedBoxModel, fit, select_device
from tests.models.helpers import all_pairs, ancestor_pairs, f1_at_half, random_tree

# Small trunk: the behaviour under test does not depend on width, and CPU time is shared.
SMALL = {"hidden": (64, 32), "device": "cpu", "lr": 3e-3}


@pytest.fixture(scope="module")
def tree40() -> tuple[np.ndarray, PairSet]:
    return all_pairs(40, seed=0)


@pytest.fixture(scope="module")
def trained40(tree40: tuple[np.ndarray, PairSet]) -> TrainedBoxModel:
    x, pairs = tree40
    return fit(x, pairs, TrainConfig(epochs=300, **SMALL))


def test_fit_learns_a_random_tree(
    tree40: tuple[np.ndarray, PairSet], trained40: TrainedBoxModel
) -> None:
    x, pairs = tree40
    p = trained40.predict_pairs(x, pairs.i, pairs.j)
    assert f1_at_half(p, pairs.y) > 0.95
    assert len(trained40.history) == 300 and trained40.best_epoch == 300
    assert trained40.history[-1]["loss"] < trained40.history[0]["loss"]  # type: ignore[operator]


def test_paper_loss_trains_too(tree40: tuple[np.ndarray, PairSet]) -> None:
    x, pairs = tree40
    model = fit(x, pairs, TrainConfig(loss="paper", epochs=150, **SMALL))
    p = model.predict_pairs(x, pairs.i, pairs.j)
    # The paper's loss learns much less in the same budget; it must still beat chance.
    assert model.gumbel_beta is None
    assert f1_at_half(p, pairs.y) > 0.3


def test_closed_world_sampled_training_learns_from_positives_only() -> None:
    n = 60
    parent = random_tree(n, seed=3)
    c, a = ancestor_pairs(parent)
    x = np.random.default_rng(4).normal(size=(n, 16)).astype(np.float32)
    positives = PairSet(c, a, np.ones(c.size, np.float32), closed_world=True)
    config = TrainConfig(epochs=250, full_batch_max_pairs=0, **SMALL)
    model = fit(x, positives, config)
    # Sampled: far fewer pairs per epoch than the n(n-1) of the full batch.
    assert all(int(h["pairs"]) < n * (n - 1) // 2 for h in model.history)  # type: ignore[arg-type]
    _, everything = all_pairs(n, seed=3)
    p = model.predict_pairs(x, everything.i, everything.j)
    assert f1_at_half(p, everything.y) > 0.8


def test_open_world_sampled_training_uses_listed_negatives(
    tree40: tuple[np.ndarray, PairSet],
) -> None:
    x, pairs = tree40
    config = TrainConfig(epochs=200, full_batch_max_pairs=100, **SMALL)
    model = fit(x, pairs, config)
    assert int(model.history[0]["pairs"]) < len(pairs)  # type: ignore[arg-type]
    assert f1_at_half(model.predict_pairs(x, pairs.i, pairs.j), pairs.y) > 0.8


def test_closed_world_full_batch_matches_listing_all_pairs(
    tree40: tuple[np.ndarray, PairSet],
) -> None:
    x, pairs = tree40
    pos = pairs.y > 0
    closed = PairSet(pairs.i[pos], pairs.j[pos], pairs.y[pos], closed_world=True)
    a = fit(x, closed, TrainConfig(epochs=5, **SMALL))
    b = fit(x, pairs, TrainConfig(epochs=5, **SMALL))
    assert a.history[0]["pairs"] == 40 * 39
    # Same pairs, same order: both runs see the identical problem.
    np.testing.assert_allclose(a.boxes(x).lo, b.boxes(x).lo, rtol=1e-5, atol=1e-6)


def test_early_stopping_keeps_the_best_validation_weights(
    tree40: tuple[np.ndarray, PairSet],
) -> None:
    x, pairs = tree40
    # Validation asks for the reverse relation, so it only gets worse as training succeeds.
    pos = pairs.y > 0
    inverted = PairSet(pairs.j[pos], pairs.i[pos], np.ones(int(pos.sum()), np.float32))
    val = PairSet(
        np.r_[inverted.i, pairs.i[pos]],
        np.r_[inverted.j, pairs.j[pos]],
        np.r_[np.ones(int(pos.sum())), np.zeros(int(pos.sum()))].astype(np.float32),
    )
    config = TrainConfig(epochs=400, patience=30, eval_every=5, **SMALL)
    model = fit(x, pairs, config, val=val)
    assert len(model.history) < 400  # stopped early
    evaluated = [h for h in model.history if h["val"] is not None]
    best = max(evaluated, key=lambda h: float(h["val"]))  # type: ignore[arg-type]
    assert model.best_epoch == best["epoch"]
    assert len(model.history) - model.best_epoch >= 30
    # The returned weights are the best epoch's: re-scoring reproduces its metric.
    from models.metrics import validation_metric

    again = validation_metric("auto", val.y, model.predict_pairs(x, val.i, val.j))
    assert again == pytest.approx(float(best["val"]), abs=1e-6)  # type: ignore[arg-type]


def test_min_epochs_is_a_warm_up_for_early_stopping(
    tree40: tuple[np.ndarray, PairSet],
) -> None:
    x, pairs = tree40
    # The same worsening validation as above: without a warm-up it stops near epoch 30.
    pos = pairs.y > 0
    val = PairSet(
        np.r_[pairs.j[pos], pairs.i[pos]],
        np.r_[pairs.i[pos], pairs.j[pos]],
        np.r_[np.ones(int(pos.sum())), np.zeros(int(pos.sum()))].astype(np.float32),
    )
    config = TrainConfig(epochs=400, patience=30, eval_every=5, min_epochs=150, **SMALL)
    model = fit(x, pairs, config, val=val)
    # Nothing before epoch 150 is kept or starts the patience count.
    assert model.best_epoch >= 150
    assert 150 + 30 <= len(model.history) < 400
    counted = [h for h in model.history if h["val"] is not None and int(h["epoch"]) >= 150]
    # Equal scores keep the later weights.
    best = max(counted, key=lambda h: (float(h["val"]), int(h["epoch"])))  # type: ignore[arg-type]
    assert model.best_epoch == best["epoch"]


def test_min_epochs_beyond_the_budget_keeps_the_last_weights(
    tree40: tuple[np.ndarray, PairSet],
) -> None:
    x, pairs = tree40
    config = TrainConfig(epochs=40, patience=5, eval_every=5, min_epochs=1000, **SMALL)
    model = fit(x, pairs, config, val=pairs)
    assert len(model.history) == 40
    assert model.best_epoch == 40


def test_min_epochs_must_not_be_negative() -> None:
    with pytest.raises(ValueError, match="min_epochs must be >= 0"):
        TrainConfig(min_epochs=-1)


def test_nan_loss_raises_training_error(
    tree40: tuple[np.ndarray, PairSet], monkeypatch: pytest.MonkeyPatch
) -> None:
    x, pairs = tree40

    def nan_loss(lo: torch.Tensor, *_: object) -> torch.Tensor:
        return lo.sum() * float("nan")

    broken = losses_module.LossSpec("ours", nan_loss, True, 0.0)
    monkeypatch.setattr(train_module, "get_loss", lambda _name: broken)
    with pytest.raises(TrainingError, match="loss became nan at epoch 1"):
        fit(x, pairs, TrainConfig(epochs=3, **SMALL))


def test_checkpoint_round_trip_gives_identical_boxes(
    tree40: tuple[np.ndarray, PairSet], trained40: TrainedBoxModel, tmp_path: Path
) -> None:
    x, _ = tree40
    path = tmp_path / "sub" / "model.pt"
    trained40.save(path)
    raw = torch.load(path, weights_only=True)  # safe loading must work
    assert raw["format"] == "task2box-boxnet"
    loaded = TrainedBoxModel.load(path)
    before, after = trained40.boxes(x), loaded.boxes(x)
    np.testing.assert_array_equal(before.lo, after.lo)
    np.testing.assert_array_equal(before.hi, after.hi)
    assert loaded.config == trained40.config
    assert loaded.history == trained40.history and loaded.best_epoch == trained40.best_epoch
    assert list(tmp_path.joinpath("sub").iterdir()) == [path]  # no temp files left


def test_load_rejects_foreign_files(tmp_path: Path) -> None:
    path = tmp_path / "x.pt"
    torch.save({"hello": 1}, path)
    with pytest.raises(ValueError, match="not a task2box-boxnet checkpoint"):
        TrainedBoxModel.load(path)


def test_unseen_rows_are_placed_and_never_influence_training(
    tree40: tuple[np.ndarray, PairSet],
) -> None:
    x, pairs = tree40
    train_rows = (pairs.i < 30) & (pairs.j < 30)
    sub = PairSet(pairs.i[train_rows], pairs.j[train_rows], pairs.y[train_rows])
    config = TrainConfig(epochs=20, **SMALL)
    a = fit(x, sub, config)
    wild = x.copy()
    wild[30:] = 1e3 * np.random.default_rng(9).normal(size=(10, x.shape[1]))
    b = fit(wild, sub, config)
    # Rows 30.. are in no training pair: changing them changes nothing about training.
    np.testing.assert_array_equal(a.boxes(x[:30]).lo, b.boxes(x[:30]).lo)
    placed = a.boxes(x[30:])
    assert len(placed) == 10 and placed.dim == 2
    assert (placed.hi > placed.lo).all()


def test_same_seed_same_boxes(tree40: tuple[np.ndarray, PairSet]) -> None:
    x, pairs = tree40
    config = TrainConfig(epochs=10, dropout=0.2, **SMALL)
    a, b = fit(x, pairs, config), fit(x, pairs, config)
    np.testing.assert_array_equal(a.boxes(x).lo, b.boxes(x).lo)


@pytest.mark.parametrize("d", [1, 3, 5])
def test_fit_any_dimension(tree40: tuple[np.ndarray, PairSet], d: int) -> None:
    x, pairs = tree40
    model = fit(x, pairs, TrainConfig(dim=d, epochs=3, **SMALL))
    assert model.boxes(x).dim == d


def test_progress_callback_sees_every_epoch(tree40: tuple[np.ndarray, PairSet]) -> None:
    x, pairs = tree40
    seen: list[tuple[int, int]] = []
    fit(x, pairs, TrainConfig(epochs=4, **SMALL), progress=lambda e, t, _l: seen.append((e, t)))
    assert seen == [(1, 4), (2, 4), (3, 4), (4, 4)]


def test_cpu_override_works_and_missing_cuda_is_a_clear_error() -> None:
    assert select_device("cpu") == torch.device("cpu")
    assert select_device("auto").type in {"cpu", "cuda", "mps"}
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    with pytest.raises(RuntimeError, match="'cuda' was requested but CUDA is not available"):
        select_device("cuda")
    with pytest.raises(ValueError, match="device must be one of"):
        select_device("tpu")


def test_fit_with_unavailable_device_fails_before_training(
    tree40: tuple[np.ndarray, PairSet],
) -> None:
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    x, pairs = tree40
    with pytest.raises(RuntimeError, match="CUDA is not available"):
        fit(x, pairs, TrainConfig(epochs=1, hidden=(8,), device="cuda"))


@pytest.mark.parametrize(
    ("x", "pairs", "message"),
    [
        (np.zeros((0, 3)), PairSet(np.array([0]), np.array([1]), np.array([1.0])), "non-empty"),
        (
            np.array([[np.nan, 0.0], [0.0, 0.0]]),
            PairSet(np.array([0]), np.array([1]), np.array([1.0])),
            "NaN or inf",
        ),
        (np.zeros((2, 3)), PairSet(np.array([0]), np.array([5]), np.array([1.0])), "index 5"),
        (np.zeros((2, 3)), PairSet(np.zeros(0, int), np.zeros(0, int), np.zeros(0)), "no training"),
    ],
)
def test_bad_inputs_raise_value_error(x: np.ndarray, pairs: PairSet, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        fit(x, pairs, TrainConfig(epochs=1, hidden=(8,), device="cpu"))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"loss": "mse"}, "valid losses: ours, paper"),
        ({"dim": 0}, "dim must be >= 1, got 0"),
        ({"lr": 0.0}, "lr must be > 0, got 0.0"),
        ({"device": "tpu"}, "device must be one of"),
        ({"val_metric": "acc"}, "val_metric must be one of"),
        ({"gumbel_beta": -1.0}, "gumbel_beta must be > 0 or None, got -1.0"),
    ],
)
def test_bad_config_raises_with_the_value(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        TrainConfig(**kwargs)  # type: ignore[arg-type]


def test_feature_rank_projects_onto_the_training_span(
    tree40: tuple[np.ndarray, PairSet],
) -> None:
    x, pairs = tree40
    model = fit(x, pairs, TrainConfig(epochs=3, feature_rank=5, **SMALL))
    assert model.net.config.input_rank == 5
    assert model.net.feature_basis.shape == (16, 5)
    basis = model.net.feature_basis.double()
    torch.testing.assert_close(
        basis.T @ basis, torch.eye(5, dtype=torch.float64), atol=1e-5, rtol=0
    )
    # A rank above D keeps the features whole; a held-out row is still placed.
    whole = fit(x, pairs, TrainConfig(epochs=3, feature_rank=64, **SMALL))
    assert whole.net.config.input_rank is None
    assert len(model.boxes(x[:2] + 1.0)) == 2


def test_eval_mode_reproduces_the_boxes_training_fitted(
    tree40: tuple[np.ndarray, PairSet], trained40: TrainedBoxModel
) -> None:
    # BatchNorm statistics are recalibrated on the training nodes, so eval mode (placement)
    # and train mode (what the loss saw) agree.
    x, _ = tree40
    net = trained40.net
    feats = torch.from_numpy(x)
    with torch.no_grad():
        net.eval()
        lo_eval, _ = net(feats)
        net.train()  # (this forward updates the running statistics, so it comes second)
        lo_train, _ = net(feats)
        net.eval()
    torch.testing.assert_close(lo_eval, lo_train, atol=1e-4, rtol=1e-4)


def test_use_threads_sets_the_count_in_the_calling_thread(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # With OpenMP the count is per OS thread: a worker keeps the default unless it sets its
    # own (`torch.get_num_threads()` would say 1 there all the same), so `use_threads` acts
    # in each thread, once per thread and value.
    import threading

    from models import device

    calls: list[tuple[int, int]] = []
    real = torch.set_num_threads
    monkeypatch.setattr(
        device.torch, "set_num_threads",
        lambda n: (calls.append((threading.get_ident(), n)), real(n))[1],
    )  # fmt: skip

    def work() -> None:
        device.use_threads(1)
        device.use_threads(1)  # already set in this thread: no second call

    monkeypatch.setattr(device._thread_state, "threads", None, raising=False)  # a fresh main
    work()
    barrier = threading.Barrier(2)  # both alive at once: two distinct OS threads

    def worker() -> None:
        barrier.wait()
        work()

    workers = [threading.Thread(target=worker) for _ in range(2)]
    for t in workers:
        t.start()
    for t in workers:
        t.join()
    assert len(calls) == 3 and len({ident for ident, _ in calls}) == 3
    assert {n for _, n in calls} == {1}
    with pytest.raises(ValueError, match="threads"):
        device.use_threads(0)
