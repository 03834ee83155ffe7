"""`task2box train` and `task2box serve` against a copy of the seeded atlas."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from backend.cli.app import build_cli
from backend.config import Settings, get_settings
from tests.atlas_fixtures import SeededAtlas, seeded_atlas

app = build_cli()

__all__ = ["seeded_atlas"]
ROOT = Path(__file__).resolve().parents[3]
START_TIMEOUT_S = 120.0


def _env(settings: Settings) -> dict[str, str]:
    return {
        "T2B_DATABASE_URL": settings.database_url,
        "T2B_DATA_DIR": str(settings.data_dir),
        "T2B_LOG_LEVEL": "WARNING",
        "T2B_TRAIN_EPOCHS": "2",
    }


@pytest.fixture
def atlas_env(
    seeded_atlas: SeededAtlas, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Settings]:
    settings = seeded_atlas.copy(tmp_path / "db")
    for key, value in _env(settings).items():
        monkeypatch.setenv(key, value)
    get_settings.cache_clear()
    yield settings
    get_settings.cache_clear()


def test_train_command_publishes_a_map(atlas_env: Settings) -> None:
    result = CliRunner().invoke(app, ["train", "--dim", "2", "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    (outcome,) = summary["maps"]
    assert outcome["dim"] == 2 and outcome["status"] == "published"
    assert summary["datasets"] > 20


def test_train_command_fails_cleanly_without_data(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("T2B_DATABASE_URL", f"sqlite:///{tmp_path / 'empty.db'}")
    monkeypatch.setenv("T2B_DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, ["train", "--dim", "2"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 1
    assert "at least 2" in result.output


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.parametrize("workers", [1, 2])
def test_serve_command_answers_and_stops(atlas_env: Settings, workers: int) -> None:
    port = _free_port()
    env = {**os.environ, **_env(atlas_env)}
    command = [sys.executable, "-m", "backend.cli", "serve", "--port", str(port)]
    proc = subprocess.Popen(
        [*command, "--workers", str(workers)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5)
                break
            except httpx.TransportError:
                assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
                assert time.monotonic() < deadline, "server did not start"
                time.sleep(0.2)
        assert health.status_code == 200 and health.json()["status"] == "ok"
        related = httpx.get(
            f"http://127.0.0.1:{port}/api/datasets/ylecun/mnist/related", timeout=30
        )
        assert related.status_code == 200 and related.json()["items"]
    finally:
        proc.send_signal(signal.SIGTERM)
        # uvicorn shuts down gracefully, then re-raises the signal it caught.
        assert proc.wait(timeout=60) in (0, -signal.SIGTERM)
