"""`task2box import-transfer`: a good file, a bad one (line numbers, nothing stored)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from backend.cli.app import build_cli
from backend.config import get_settings
from backend.db import migrate, repository
from backend.db.engine import session_factory_for, session_scope
from tests.transfer_fixtures import descriptions_csv, scores_csv

app = build_cli()


@pytest.fixture
def db_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    url = f"sqlite:///{tmp_path / 'atlas.db'}"
    migrate.upgrade(url)
    monkeypatch.setenv("T2B_DATABASE_URL", url)
    monkeypatch.setenv("T2B_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("T2B_LOG_LEVEL", "WARNING")
    get_settings.cache_clear()
    yield url
    get_settings.cache_clear()


def _count(url: str) -> tuple[int, int]:
    with session_scope(session_factory_for(url)) as session:
        return repository.count_transfer_scores(session), repository.count_datasets(session).total


def test_import_transfer_command(db_env: str, tmp_path: Path) -> None:
    scores, descriptions = tmp_path / "scores.csv", tmp_path / "tasks.csv"
    scores.write_text(scores_csv())
    descriptions.write_text(descriptions_csv())
    result = CliRunner().invoke(
        app, ["import-transfer", str(scores), "--descriptions", str(descriptions), "--json"]
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["rows"] == report["total_scores"] > 100
    assert len(report["created"]) == 12  # an empty database: every task is new
    assert _count(db_env) == (report["rows"], 12)
    result = CliRunner().invoke(app, ["import-transfer", str(scores), "--replace"])
    assert result.exit_code == 0 and "0 new tasks" in result.output
    assert "task2box train --relation transfer" in result.output


def test_a_bad_file_prints_its_lines_and_stores_nothing(db_env: str, tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("source,target,score\na,b,0.1\nb,b,0.2\nc,d,-1\n")
    result = CliRunner().invoke(app, ["import-transfer", str(bad)])
    assert result.exit_code == 1
    assert "bad.csv: 2 errors; nothing imported" in result.output
    assert "line 3: 'b' is both source and target" in result.output
    assert "line 4: score -1.0 is negative" in result.output
    assert _count(db_env) == (0, 0)
