"""`task2box crawl` against the fake Hub and a real SQLite file."""

from __future__ import annotations

import json
from collections.abc import Generator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from backend.cli.app import build_cli
from backend.config import get_settings
from backend.db import repository as repo
from backend.db.engine import session_factory_for, session_scope
from tests.fakehub import FakeHub, Fault
from tests.fakehub_fixtures import fake_hub

app = build_cli()

__all__ = ["fake_hub"]
runner = CliRunner()


@pytest.fixture
def env(
    fake_hub: FakeHub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Generator[str, None, None]:
    url = f"sqlite:///{tmp_path / 'cli' / 'atlas.db'}"
    for name, value in {
        "T2B_DATABASE_URL": url,
        "T2B_DATA_DIR": str(tmp_path / "data"),
        "T2B_HUB_ENDPOINT": fake_hub.url,
        "T2B_VIEWER_ENDPOINT": fake_hub.viewer_url,
        "T2B_CRAWL_BUILDER_FALLBACK": "false",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("HF_TOKEN", raising=False)
    get_settings.cache_clear()
    yield url
    get_settings.cache_clear()


def test_crawl_prints_a_summary_and_stores_datasets(env: str) -> None:
    result = runner.invoke(app, ["crawl", "--limit", "5"])
    assert result.exit_code == 0, result.output
    assert "fetched" in result.output and "unchanged" in result.output
    with session_scope(session_factory_for(env)) as s:
        assert repo.count_datasets(s).total == 5


def test_crawl_json_then_incremental_rerun(env: str) -> None:
    first = runner.invoke(app, ["crawl", "--json"])
    assert first.exit_code == 0, first.output
    summary = json.loads(first.output.strip().splitlines()[-1])
    assert summary["fetched"] == 8 and summary["skipped"]["gated"] == 1
    again = json.loads(runner.invoke(app, ["crawl", "--json"]).output.strip().splitlines()[-1])
    assert again["unchanged"] == 15 and again["fetched"] == 0


def test_a_broken_listing_exits_non_zero_and_says_how_to_resume(
    env: str, fake_hub: FakeHub
) -> None:
    fake_hub.faults.append(Fault(path="^/api/datasets$", status=403, times=None))
    result = runner.invoke(app, ["crawl"])
    assert result.exit_code == 1
    assert "crawl stopped early" in result.output and "run `task2box crawl` again" in result.output
    assert "committed batches are kept" in result.output


def test_limit_must_be_positive(env: str) -> None:
    assert runner.invoke(app, ["crawl", "--limit", "0"]).exit_code != 0


def test_a_listing_that_is_always_malformed_exits_non_zero_with_one_clear_line(
    env: str, fake_hub: FakeHub
) -> None:
    third_page = "cursor=eyJvZmZzZXQiOiA4fQ"  # base64 of {"offset": 8}
    fake_hub.faults.append(
        Fault(path="^/api/datasets$", query=third_page, malformed=True, times=None)
    )
    result = runner.invoke(app, ["crawl"], env={"T2B_CRAWL_BACKOFF_S": "0.01"})
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    lines = [line for line in result.output.splitlines() if "crawl stopped early" in line]
    assert len(lines) == 1, result.output
    assert "malformed JSON" in lines[0] and "committed batches are kept" in lines[0]
    assert "Traceback" not in result.output
    with session_scope(session_factory_for(env)) as s:
        assert repo.count_datasets(s).total == 8
