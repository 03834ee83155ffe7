"""`task2box doctor`: each check against real states of a real installation."""

from __future__ import annotations

import json
import socket
import sqlite3
from collections.abc import Generator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from backend.cli.app import build_cli
from backend.config import Settings, get_settings
from backend.db import migrate
from backend.doctor import Check, check_data_dir, check_embedding_model, run_checks
from tests.atlas_fixtures import SeededAtlas, seeded_atlas, settings_for
from tests.fakehub import FakeHub
from tests.fakehub_fixtures import fake_hub

app = build_cli()

__all__ = ["fake_hub", "seeded_atlas"]

runner = CliRunner()


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _offline(tmp_path: Path, **overrides: object) -> Settings:
    return settings_for(
        tmp_path / "db" / "atlas.db",
        tmp_path / "data",
        hub_endpoint=f"http://127.0.0.1:{_closed_port()}",
        **overrides,
    )


def _by_name(checks: list[Check]) -> dict[str, Check]:
    return {c.name: c for c in checks}


def test_a_fresh_machine_warns_but_nothing_is_broken(tmp_path: Path) -> None:
    checks = _by_name(run_checks(_offline(tmp_path), load_model=False, hub_timeout_s=2))
    assert list(checks) == ["database", "data dir", "device", "embedding model", "hub", "maps"]
    assert checks["database"].status == "warn" and "no database yet" in checks["database"].summary
    assert checks["data dir"].status == "ok" and "made on first use" in checks["data dir"].summary
    assert checks["device"].status == "ok" and checks["device"].details["device"] == "cpu"
    assert checks["embedding model"].status == "skip"
    assert checks["hub"].status == "warn" and "not reachable" in checks["hub"].summary
    assert checks["maps"].status == "warn"
    # Read-only: the doctor created nothing.
    assert not (tmp_path / "db").exists() and not (tmp_path / "data").exists()


def test_a_seeded_atlas_is_healthy(seeded_atlas: SeededAtlas, fake_hub: FakeHub) -> None:
    settings = seeded_atlas.settings.model_copy(update={"hub_endpoint": fake_hub.url})
    checks = _by_name(run_checks(settings, load_model=False, hub_timeout_s=5))
    database = checks["database"]
    assert database.status == "ok", database
    assert database.details["revision"] == migrate.head_revision()
    assert database.details["datasets"]["ok"] == seeded_atlas.crawl.fetched
    assert checks["hub"].status == "ok" and checks["hub"].details["reachable"] is True
    maps = checks["maps"]
    assert maps.status == "ok", maps
    published = {(m["relation"], m["dim"]): m["id"] for m in maps.details["published"]}
    assert published == {("containment", d): i for d, i in seeded_atlas.map_ids.items()}
    assert all(m["neighbour_table"] for m in maps.details["published"])  # trained this way
    assert "per request" not in maps.summary


def test_maps_trained_before_neighbour_tables_are_named(
    seeded_atlas: SeededAtlas, tmp_path: Path
) -> None:
    settings = seeded_atlas.copy(tmp_path / "db")
    old = seeded_atlas.map_ids[2]
    with sqlite3.connect(settings.database_url.removeprefix("sqlite:///")) as db:
        db.execute("DELETE FROM map_neighbors WHERE map_id = ?", (old,))
    maps = _by_name(run_checks(settings, load_model=False, hub_timeout_s=1))["maps"]
    assert maps.status == "ok"  # correct answers, only slower ones
    assert f"#{old} rank related datasets per request" in maps.summary
    flags = {m["id"]: m["neighbour_table"] for m in maps.details["published"]}
    assert flags == {i: i != old for i in seeded_atlas.map_ids.values()}


def test_a_database_from_a_newer_version_fails(tmp_path: Path) -> None:
    settings = _offline(tmp_path)
    migrate.upgrade(settings.database_url)
    with sqlite3.connect(tmp_path / "db" / "atlas.db") as db:
        db.execute("UPDATE alembic_version SET version_num = 'ffffffffffff'")
    check = _by_name(run_checks(settings, load_model=False, hub_timeout_s=1))["database"]
    assert check.status == "fail"
    assert "ffffffffffff" in check.summary and "newer version" in check.summary


def test_an_unmigrated_database_says_how_to_migrate(tmp_path: Path) -> None:
    (tmp_path / "db").mkdir()
    sqlite3.connect(tmp_path / "db" / "atlas.db").close()
    check = _by_name(run_checks(_offline(tmp_path), load_model=False, hub_timeout_s=1))["database"]
    assert check.status == "warn" and "task2box migrate" in check.summary


def test_a_data_dir_that_is_a_file_fails(tmp_path: Path) -> None:
    (tmp_path / "data").write_text("not a directory")
    check = check_data_dir(_offline(tmp_path))
    assert check.status == "fail" and "not a directory" in check.summary


def test_the_embedding_model_loads_and_embeds() -> None:
    check = check_embedding_model(load=True)
    assert check.status == "ok", check
    assert "loads and embeds" in check.summary and check.details["load_seconds"] >= 0


@pytest.fixture
def cli_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Generator[Path, None, None]:
    monkeypatch.setenv("T2B_DATABASE_URL", f"sqlite:///{tmp_path / 'atlas.db'}")
    monkeypatch.setenv("T2B_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("T2B_HUB_ENDPOINT", f"http://127.0.0.1:{_closed_port()}")
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


def test_the_command_prints_json_and_exits_zero_when_nothing_is_broken(cli_env: Path) -> None:
    result = runner.invoke(app, ["doctor", "--no-model", "--timeout", "1", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["ok"] is True
    assert report["checks"][0]["name"] == "database"


def test_the_command_exits_one_when_something_is_broken(cli_env: Path) -> None:
    (cli_env / "data").write_text("a file where the data dir should be")
    result = runner.invoke(app, ["doctor", "--no-model", "--timeout", "1"])
    assert result.exit_code == 1
    assert "broken:" in result.output and "data dir" in result.output


@pytest.mark.parametrize(
    "url",
    ["not a url", "s3cret-password@db.example/atlas", "nosuchdb://user:s3cret@host/atlas"],
)
@pytest.mark.parametrize("command", [["doctor", "--no-model"], ["crawl"], ["migrate"]])
def test_a_database_url_that_is_not_a_url_is_one_clear_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, url: str, command: list[str]
) -> None:
    monkeypatch.setenv("T2B_DATABASE_URL", url)
    monkeypatch.setenv("T2B_DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()
    try:
        result = runner.invoke(app, command)
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit)  # no exception escaped the command
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    assert lines[0].startswith("error: T2B_DATABASE_URL ")
    assert "s3cret" not in result.output  # the URL may hold a password: never echoed
    assert not (tmp_path / "data").exists()


def test_settings_refuse_a_database_url_that_is_not_a_url() -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="not a database URL"):
        Settings(_env_file=None, database_url="not a url")
    with pytest.raises(ValidationError, match="unknown database dialect or driver"):
        Settings(_env_file=None, database_url="postgresql+nodriver://h/db")
    url = "postgresql+psycopg://atlas:secret@db.example:5432/atlas"
    assert Settings(_env_file=None, database_url=url).database_url == url


def test_the_checks_report_a_bad_database_url_instead_of_crashing(tmp_path: Path) -> None:
    # Settings built in code skip nothing of the checks: each says the URL is bad.
    settings = _offline(tmp_path).model_copy(update={"database_url": "not a url"})
    checks = _by_name(run_checks(settings, load_model=False, hub_timeout_s=1))
    assert checks["database"].status == "fail" and checks["maps"].status == "fail"
    assert "not a database URL" in checks["maps"].summary


def test_any_invalid_setting_is_one_line_per_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("T2B_MAX_LABELS", "many")
    monkeypatch.setenv("T2B_ADMIN_TOKEN", "changethis")
    get_settings.cache_clear()
    try:
        result = runner.invoke(app, ["doctor", "--no-model"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 2, result.output
    lines = sorted(result.output.strip().splitlines())
    assert len(lines) == 2, result.output
    assert lines[0].startswith("error: T2B_ADMIN_TOKEN is a placeholder")
    assert lines[1].startswith("error: T2B_MAX_LABELS: Input should be a valid integer")
    assert "changethis" not in result.output.replace("is a placeholder", "")
