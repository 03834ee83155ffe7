"""`task2box bench transfer`: the quick run on Taskonomy, a generic CSV, and the skip."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

import benchmarks.transfer.cli as bench_cli
from backend.cli.app import build_cli
from backend.config import get_settings
from benchmarks.transfer.protocol import SETTINGS
from tests.transfer_fixtures import descriptions_csv, scores_csv

app = build_cli()

TASKONOMY = bench_cli.DEFAULT_TASKONOMY
_BASELINE_KEYS = {"model", "setting", "rho_mean", "rho_std", "rho_cases"}
_TASK2BOX_KEYS = _BASELINE_KEYS | {"loss", "dim"}


@pytest.fixture
def bench_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("T2B_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("T2B_LOG_LEVEL", "WARNING")
    monkeypatch.setenv("T2B_DEVICE", "cpu")
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


def _rows(path: Path) -> tuple[dict[str, object], dict[tuple[str, str], dict[str, object]]]:
    data = json.loads(path.read_text())
    return data, {(str(r["model"]), str(r["setting"])): r for r in data["rows"]}


@pytest.mark.slow
@pytest.mark.shared_data
@pytest.mark.skipif(not (TASKONOMY / "affinity.csv").is_file(), reason=f"{TASKONOMY} is absent")
def test_quick_bench_on_taskonomy(bench_env: Path) -> None:
    out = bench_env / "transfer.json"
    args = ["bench", "transfer", "--quick", "--dims", "2", "--losses", "ours", "--jobs", "1"]
    result = CliRunner().invoke(app, [*args, "--json", str(out)])
    assert result.exit_code == 0, result.output
    data, rows = _rows(out)
    assert data["benchmark"] == "transfer" and data["cases"] == 2
    assert (data["tasks"], data["pairs"]) == (26, 550)  # pseudo-sources and diagonal dropped
    assert set(rows) == {(m, s) for m in ("task2box", "mlp", "linear", "random") for s in SETTINGS}
    for (model, _), row in rows.items():
        assert set(row) == (_TASK2BOX_KEYS if model == "task2box" else _BASELINE_KEYS)
        assert -1.0 <= float(row["rho_mean"]) <= 1.0  # type: ignore[arg-type]
    assert rows[("task2box", "existing-80")]["dim"] == 2
    rho = {key: float(row["rho_mean"]) for key, row in rows.items()}  # type: ignore[arg-type]
    # Even a quick fit ranks held-out transfers far better than chance.
    for model in ("task2box", "mlp"):
        assert rho[(model, "existing-80")] > rho[("random", "existing-80")] + 0.4, rho
    assert "existing-80" in result.stdout and "task2box" in result.stdout


def test_bench_reads_a_generic_csv(bench_env: Path) -> None:
    scores, descriptions = bench_env / "scores.csv", bench_env / "tasks.csv"
    scores.write_text(scores_csv())
    descriptions.write_text(descriptions_csv())
    out = bench_env / "generic.json"
    args = ["bench", "transfer", "--affinity", str(scores), "--descriptions", str(descriptions)]
    args += ["--quick", "--dims", "2", "--losses", "paper", "--jobs", "1", "--json", str(out)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    data, rows = _rows(out)
    assert data["data"] == "scores.csv" and data["tasks"] == 12
    assert rows[("task2box", "novel")]["loss"] == "paper"


def test_bench_refuses_bad_input_and_skips_without_data(
    bench_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bad = bench_env / "bad.csv"
    bad.write_text("source,target,score\na,b,1\nb,b,2\n")
    result = CliRunner().invoke(app, ["bench", "transfer", "--affinity", str(bad)])
    assert result.exit_code != 0 and "line 3" in result.output
    result = CliRunner().invoke(app, ["bench", "transfer", "--features", "pixels"])
    assert result.exit_code != 0 and "--features" in result.output
    monkeypatch.setattr(bench_cli, "DEFAULT_TASKONOMY", bench_env / "absent")
    result = CliRunner().invoke(app, ["bench", "transfer", "--quick"])
    assert result.exit_code == 0 and "skipped" in result.output
