"""`task2box bench transfer-estimate` at a tiny scale: the table and the JSON."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from typer.testing import CliRunner

from backend.cli.app import build_cli
from tests.clip_fixtures import tiny_clip

app = build_cli()


@pytest.mark.slow
def test_tiny_bench_prints_the_table_and_writes_json(tmp_path: Path) -> None:
    out = tmp_path / "estimate.json"
    args = ["bench", "transfer-estimate", "--max-tasks", "4", "--seeds", "1", "--shots", "3"]
    args += ["--source-steps", "30", "--target-steps", "10", "--no-label-text"]
    args += ["--json", str(out)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "transfer estimates vs. measured fine-tuning gains" in result.output
    assert "measured gain over scratch" in result.output
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["benchmark"] == "transfer-estimate"
    assert data["tasks"] == ["digits", "odd-even", "low", "three-eight"]
    rows = {r["name"]: r for r in data["rows"]}
    assert set(rows) == {
        "leep",
        "nce",
        "logme",
        "leep-head",
        "logme-features",
        "label-overlap",
        "random",
    }
    for row in rows.values():
        assert set(row["spearman_per_target"]) == set(data["tasks"])
        assert -1 <= row["spearman_mean"] <= 1 and -1 <= row["kendall_overall"] <= 1
    gain = data["gain"]
    assert [gain[i][i] for i in range(4)] == [None] * 4
    assert len(data["self_gain"]) == 4 and all(-1 <= g <= 1 for g in data["self_gain"])
    assert "own source: " in result.output  # rich may wrap the line before it
    assert all(-1 <= g <= 1 for i, r in enumerate(gain) for j, g in enumerate(r) if i != j)
    leep = data["scores"]["leep"]
    assert all(v <= 1e-9 for i, r in enumerate(leep) for j, v in enumerate(r) if i != j)
    # The 10-class source explains the 2-class targets' labels; the reverse cannot.
    assert leep[0][1] > leep[1][0] - 1 and data["scores"]["nce"][0][3] > -0.7


def test_bad_options_are_refused() -> None:
    result = CliRunner().invoke(app, ["bench", "transfer-estimate", "--max-tasks", "2"])
    assert result.exit_code != 0
    assert "max-tasks" in result.output


def test_speed_times_the_estimate_step_and_clip_features(tmp_path: Path) -> None:
    out = tmp_path / "speed.json"
    model = tiny_clip(tmp_path / "tiny-clip")
    args = ["bench", "transfer-estimate", "--speed", "--speed-datasets", "4"]
    args += ["--speed-samples", "12", "--speed-dim", "8", "--speed-classes", "3"]
    args += ["--speed-images", "5", "--speed-clip-model", str(model)]
    args += ["--device", "cpu", "--json", str(out)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "transfer estimate step on cpu" in result.output
    assert "CLIP image features on cpu" in result.output and "s per 1,000 images" in result.output
    data = json.loads(out.read_text(encoding="utf-8"))
    assert (data["datasets"], data["pairs"], data["device"]) == (4, 16, "cpu")
    assert data["probe_fit_s"] > 0 and data["estimate_s"] >= data["probe_fit_s"]
    phases = data["phases_s"]
    assert set(phases) == {"probe fit", "probe outputs", "leep", "nce", "logme"}
    assert all(math.isfinite(v) and v >= 0 for v in phases.values())
    assert sum(phases.values()) <= data["estimate_s"] + 1e-6
    clip = data["clip"]
    assert (clip["images"], clip["device"], clip["dim"]) == (5, "cpu", 8)
    assert clip["weights"] == f"local weights {model}"
    assert clip["seconds"] > 0 and math.isfinite(clip["images_per_s"])
    assert clip["s_per_1000"] == pytest.approx(clip["seconds"] / 5 * 1000)


def test_speed_without_images_skips_clip(tmp_path: Path) -> None:
    out = tmp_path / "speed.json"
    args = ["bench", "transfer-estimate", "--speed", "--speed-datasets", "3"]
    args += ["--speed-samples", "6", "--speed-dim", "4", "--speed-classes", "2"]
    args += ["--speed-images", "0", "--device", "cpu", "--json", str(out)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "CLIP" not in result.output
    assert json.loads(out.read_text(encoding="utf-8"))["clip"] is None


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--speed-classes", "400"], "classes"),
        (["--speed-datasets", "1"], "speed-datasets"),
        (["--speed-images", "-1"], "speed-images"),
        (["--speed-clip-model", "/nonexistent/clip"], "cannot be loaded"),
    ],
)
def test_speed_refuses_bad_options(extra: list[str], message: str) -> None:
    args = ["bench", "transfer-estimate", "--speed", "--speed-datasets", "2"]
    args += ["--speed-samples", "6", "--speed-dim", "4", "--speed-classes", "2"]
    args += ["--speed-images", "1", "--device", "cpu", *extra]
    bad = CliRunner().invoke(app, args)
    assert bad.exit_code != 0
    assert message in bad.output


@pytest.mark.slow
def test_speed_times_a_vit_b32_sized_clip_when_no_weights_are_cached(tmp_path: Path) -> None:
    out = tmp_path / "speed.json"
    args = ["bench", "transfer-estimate", "--speed", "--speed-datasets", "2"]
    args += ["--speed-samples", "6", "--speed-dim", "4", "--speed-classes", "2"]
    args += ["--speed-images", "2", "--device", "cpu", "--json", str(out)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    clip = json.loads(out.read_text(encoding="utf-8"))["clip"]
    assert clip["dim"] == 512 and clip["images"] == 2 and clip["seconds"] > 0
    if not clip["weights"].startswith("cached weights"):
        assert clip["weights"] == "random weights, ViT-B/32 architecture"
        assert "random weights, ViT-B/32" in result.output
