"""`task2box bench speed` at tiny N: the table and the JSON have the documented shape."""

from __future__ import annotations

import inspect
import json
from pathlib import Path

import numpy as np
from typer.testing import CliRunner

from backend.cli.app import build_cli
from benchmarks.speed import LARGE_N_EPOCHS, large_n_config
from benchmarks.speed_cli import speed
from benchmarks.synthetic import random_hierarchy

app = build_cli()


def test_bench_speed_prints_a_table_and_writes_json(tmp_path: Path) -> None:
    out = tmp_path / "speed.json"
    args = ["bench", "speed", "--min-n", "100", "--max-n", "120", "--epochs", "1"]
    args += ["--fit-n", "60", "--fit-epochs", "2", "--place-repeats", "3", "--device", "cpu"]
    args += ["--threads", "1", "--json", str(out)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "Trainer epoch time vs N" in result.output
    assert "Placement of one unseen dataset" in result.output
    report = json.loads(out.read_text(encoding="utf-8"))
    assert report["benchmark"] == "speed" and report["device"] == "cpu"
    assert report["trainer"]["hidden"] == [128, 64]
    assert report["trainer"]["feature_rank"] == 128
    rows = {(r["n"], r["mode"]) for r in report["epochs"]}
    assert rows == {(100, "full"), (100, "sampled"), (120, "full"), (120, "sampled")}
    for r in report["epochs"]:
        assert r["epoch_s"] > 0 and r["pairs_per_epoch"] > 0
        # One optimizer step per `batch_pairs` (120k) pairs: tiny N takes one.
        assert r["steps_per_epoch"] == 1
    full_100 = next(r for r in report["epochs"] if r["n"] == 100 and r["mode"] == "full")
    assert full_100["pairs_per_epoch"] == 100 * 99
    assert report["fit"]["n"] == 60 and report["fit"]["epochs"] == 2
    assert 0.0 <= report["fit"]["train_f1"] <= 1.0
    assert report["fit"]["cpu_seconds"] > 0
    assert report["place_ms_median"] > 0


def test_fit_epochs_default_is_the_preset_s() -> None:
    assert inspect.signature(speed).parameters["fit_epochs"].default == LARGE_N_EPOCHS
    assert large_n_config(dim=2, device="cpu").epochs == LARGE_N_EPOCHS


def test_random_hierarchy_features_follow_label_containment() -> None:
    h = random_hierarchy(50, embed_dim=8, seed=1)
    assert h.x.shape == (50, 16) and h.parent[0] == -1
    assert (h.parent[1:] < np.arange(1, 50)).all()
    # Every non-root node has its parent among its ancestors, and pairs are unique.
    pairs = set(zip(h.child.tolist(), h.ancestor.tolist(), strict=True))
    assert len(pairs) == h.child.size
    assert all((v, int(h.parent[v])) in pairs for v in range(1, 50))
    assert np.isfinite(h.x).all() and (h.x[:, 8:] >= 0).all()  # variances
    # The root's label set is everything: its mean is the mean of all labels, which for
    # random unit vectors is much shorter than a leaf's (2 labels).
    norms = np.linalg.norm(h.x[:, :8], axis=1)
    leaves = np.setdiff1d(np.arange(50), h.parent)
    assert norms[0] < norms[leaves].mean()
