"""`task2box migrate`, `seed` and `represent` against a real SQLite file."""

from __future__ import annotations

from collections.abc import Generator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from backend.cli.app import build_cli
from backend.config import get_settings
from backend.db import repository as repo
from backend.db.engine import session_factory_for, session_scope
from tests.factories import T0, dataset_record

app = build_cli()

runner = CliRunner()


@pytest.fixture
def db_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Generator[str, None, None]:
    url = f"sqlite:///{tmp_path / 'cli' / 'atlas.db'}"
    monkeypatch.setenv("T2B_DATABASE_URL", url)
    monkeypatch.setenv("T2B_DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()
    yield url
    get_settings.cache_clear()


def test_migrate_then_seed(db_url: str) -> None:
    result = runner.invoke(app, ["migrate"])
    assert result.exit_code == 0, result.output
    assert "database at revision" in result.output

    result = runner.invoke(app, ["seed"])
    assert result.exit_code == 0, result.output
    assert "seeded" in result.output
    again = runner.invoke(app, ["seed"])
    assert again.exit_code == 0
    with session_scope(session_factory_for(db_url)) as s:
        count = repo.count_datasets(s).ok
    assert count >= 40


def test_represent_computes_only_what_is_stale(db_url: str) -> None:
    assert runner.invoke(app, ["migrate"]).exit_code == 0
    with session_scope(session_factory_for(db_url)) as s:
        repo.save_crawl_batch(
            s,
            records=[dataset_record("a/x"), dataset_record("b/y", labels=("cat", "tulip"))],
            crawled_at=T0,
        )
    result = runner.invoke(app, ["represent", "--kind", "label-text"])
    assert result.exit_code == 0, result.output
    assert "computed 2, unchanged 0, of 2 datasets" in result.output
    result = runner.invoke(app, ["represent"])
    assert "computed 0, unchanged 2, of 2 datasets" in result.output


@pytest.mark.slow  # imports transformers
def test_represent_clip_without_weights_fails_clearly(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("T2B_CLIP_MODEL", "no-such-org/no-such-clip")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    get_settings.cache_clear()
    runner.invoke(app, ["seed"])
    result = runner.invoke(app, ["represent", "--kind", "clip"])
    assert result.exit_code == 1
    assert "cannot be loaded here" in result.output
