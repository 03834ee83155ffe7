from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from benchmarks.hierarchy.graph import Hierarchy
from benchmarks.hierarchy.protocol import SETTINGS
from benchmarks.hierarchy.runner import ModelSpec, run_benchmark
from benchmarks.hierarchy.zoo import BaselineFactory, Task2BoxFactory, model_specs
from models.setbox import LabelSets
from models.train import TrainConfig
from tests.benchmarks.hierarchy.helpers import synthetic_tree

_BASELINE_KEYS = {"model", "setting", "f1_mean", "f1_std"}
_TASK2BOX_KEYS = _BASELINE_KEYS | {"loss", "dim", "f1_edge_mean"}


def label_table_of(h: Hierarchy) -> tuple[np.ndarray, LabelSets]:
    """Random label embeddings, one row per distinct label, and each node's rows."""
    names = sorted({lab for labels in h.labels for lab in labels})
    row = {lab: k for k, lab in enumerate(names)}
    emb = np.random.default_rng(0).normal(size=(len(names), 16)).astype(np.float32)
    return emb, LabelSets.from_lists([[row[lab] for lab in labels] for labels in h.labels])


def _specs() -> list[ModelSpec]:
    return [
        ModelSpec("asym-cosine", BaselineFactory("asym-cosine", 1, "cpu")),
        ModelSpec("random", BaselineFactory("random", 1, "cpu")),
        ModelSpec("linear", BaselineFactory("linear", 30, "cpu")),
    ]


def test_runner_scores_every_model_in_every_setting() -> None:
    h, x = synthetic_tree(branching=3, depth=4)
    calls: list[str] = []
    result = run_benchmark(h, x, _specs(), cases=2, seed=0, device="cpu", on_fit=calls.append)
    assert len(calls) == 3 * len(SETTINGS) * 2
    data = result.to_json()
    assert data["benchmark"] == "hierarchy"
    assert (data["nodes"], data["edges"]) == (h.size, len(h.edges))
    assert {(r["model"], r["setting"]) for r in data["rows"]} == {
        (m, s) for m in ("asym-cosine", "random", "linear") for s in SETTINGS
    }
    for row in data["rows"]:
        assert set(row) == _BASELINE_KEYS
        assert 0.0 <= row["f1_mean"] <= 1.0 and row["f1_std"] >= 0.0
    f1 = {(r["model"], r["setting"]): r["f1_mean"] for r in data["rows"]}
    # Label spread reveals generality here, so the asymmetric cosine must beat chance.
    for setting in SETTINGS:
        assert f1[("asym-cosine", setting)] > f1[("random", setting)] + 0.2, f1


def test_runner_is_reproducible_and_seed_dependent() -> None:
    h, x = synthetic_tree()
    specs = _specs()[1:2]  # random: its scores depend only on the seeds
    a = run_benchmark(h, x, specs, cases=2, seed=5, device="cpu").to_json()["rows"]
    b = run_benchmark(h, x, specs, cases=2, seed=5, device="cpu").to_json()["rows"]
    c = run_benchmark(h, x, specs, cases=2, seed=6, device="cpu").to_json()["rows"]
    assert a == b
    assert a != c


def test_task2box_rows_carry_loss_dim_and_edge_f1() -> None:
    h, x = synthetic_tree(branching=2, depth=3)
    config = TrainConfig(dim=2, loss="ours", epochs=20, device="cpu", hidden=(16,))
    spec = ModelSpec("task2box", Task2BoxFactory(config), loss="ours", dim=2)
    rows = run_benchmark(h, x, [spec], cases=1, seed=0, device="cpu", settings=("existing-80",))
    (row,) = rows.to_json()["rows"]
    assert set(row) == _TASK2BOX_KEYS
    assert (row["model"], row["loss"], row["dim"], row["setting"]) == (
        "task2box",
        "ours",
        2,
        "existing-80",
    )
    assert 0.0 <= row["f1_edge_mean"] <= 1.0


def test_model_specs_cover_every_dim_loss_and_baseline() -> None:
    specs = model_specs([2, 5], quick=True, device="cpu")
    labels = [s.label for s in specs]
    assert labels[:4] == [
        "task2box 2D ours",
        "task2box 2D paper",
        "task2box 5D ours",
        "task2box 5D paper",
    ]
    assert labels[4:] == ["mlp", "linear", "kl", "asym-cosine", "random"]
    with pytest.raises(ValueError, match="unknown baseline"):
        BaselineFactory("svm", 1, "cpu")(0)


def test_label_set_model_adds_one_row_per_dim_and_scores_the_tree() -> None:
    h, x = synthetic_tree(branching=3, depth=3)
    emb, sets = label_table_of(h)
    specs = model_specs([2, 3], quick=True, device="cpu", losses=(), label_sets=(emb, sets))
    set_specs = [s for s in specs if s.model == "task2box-set"]
    assert [s.label for s in set_specs] == ["task2box-set 2D ours", "task2box-set 3D ours"]
    result = run_benchmark(h, x, set_specs[:1], cases=1, seed=0, device="cpu")
    for row in result.to_json()["rows"]:
        assert set(row) == _TASK2BOX_KEYS
        # Every ancestor pair is contained by construction (random scores reach ~0.2 here).
        assert row["f1_mean"] > 0.6, row


def test_runner_rejects_mismatched_features() -> None:
    h, x = synthetic_tree()
    with pytest.raises(ValueError, match="rows for"):
        run_benchmark(h, x[:-1], _specs(), cases=1, seed=0, device="cpu")


@pytest.mark.slow
def test_parallel_workers_give_the_same_rows() -> None:
    h, x = synthetic_tree()
    one = run_benchmark(h, x, _specs(), cases=2, seed=1, device="cpu", jobs=1).to_json()
    two = run_benchmark(h, x, _specs(), cases=2, seed=1, device="cpu", jobs=2).to_json()
    for a, b in zip(one["rows"], two["rows"], strict=True):
        assert a.keys() == b.keys()
        np.testing.assert_allclose([a["f1_mean"], a["f1_std"]], [b["f1_mean"], b["f1_std"]])


def test_a_subset_with_its_slots_reproduces_the_full_run() -> None:
    h, x = synthetic_tree()
    specs = [ModelSpec(f"random{k}", BaselineFactory("random", 1, "cpu")) for k in range(2)]
    full = run_benchmark(h, x, specs, cases=2, seed=3, device="cpu").to_json()["rows"]
    alone = [replace(specs[1], slot=1)]
    sub = run_benchmark(h, x, alone, cases=2, seed=3, device="cpu").to_json()["rows"]
    moved = run_benchmark(h, x, specs[1:], cases=2, seed=3, device="cpu").to_json()["rows"]
    assert sub == [r for r in full if r["model"] == "random1"]
    assert moved != sub  # without its slot, the model's seed follows its new position
