"""`task2box bench soak` at a tiny scale: real server, fake Hub and CLI fit processes on
loopback, readers throughout, one fit killed with -9."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from benchmarks.cli import bench_app
from benchmarks.soak import SoakConfig, report_json, run_soak

pytestmark = pytest.mark.slow


def test_a_tiny_soak_loses_nothing_and_errs_nowhere(tmp_path: Path) -> None:
    config = SoakConfig(datasets=40, crawl_datasets=20, fit_epochs=3, readers=3)
    report = run_soak(config, tmp_path)
    by_name = {e.endpoint: e for e in report.endpoints}
    assert set(by_name) == {"/api/datasets/{id}/related", "/api/maps/{id}/boxes", "POST /api/place"}
    for stats in report.endpoints:
        assert stats.requests > 0 and stats.errors == 0, stats
        assert stats.p50_ms is not None and stats.p99_ms is not None
        assert stats.p50_ms <= stats.p99_ms
    assert report.errors == 0 and report.requests == sum(e.requests for e in report.endpoints)
    assert report.rows_lost == 0 and report.maps_left_training == 0
    assert report.killed_job["status"] == "failed"
    assert "owner process" in report.killed_job["error"]
    assert report.crawl_job["status"] == "succeeded"
    assert report.fit_submit_status == 202 and report.fit_job["status"] == "succeeded"
    assert (tmp_path / "server.log").exists()
    assert json.loads(report_json(report))["rows_lost"] == 0


def test_the_command_is_registered_and_bounds_its_options() -> None:
    runner = CliRunner()
    assert "soak" in runner.invoke(bench_app, ["--help"]).output
    refused = runner.invoke(bench_app, ["soak", "--datasets", "5"])
    assert refused.exit_code != 0 and "datasets" in refused.output.lower()
