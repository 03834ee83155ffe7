"""`task2box estimate-transfer --limit N --estimator E`: sample, estimate, fit, in one command,
against the fake Hub's viewer rows and a tiny random-weight CLIP."""

from __future__ import annotations

from collections.abc import Generator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from backend.cli.app import build_cli
from backend.config import get_settings
from backend.db import repository
from backend.db.engine import session_factory_for, session_scope
from tests.clip_fixtures import clip_dir
from tests.fakehub import FakeHub
from tests.fakehub_fixtures import fake_hub
from tests.fakehub_rows import mixed_colour_datasets
from tests.transfer_settings import OFFLINE_TRANSFER, as_env

app = build_cli()
runner = CliRunner()
__all__ = ["clip_dir", "fake_hub"]
DATASETS = 4


@pytest.fixture
def env(
    fake_hub: FakeHub, tmp_path: Path, clip_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> Generator[str, None, None]:
    fake_hub.datasets.clear()
    fake_hub.add(*mixed_colour_datasets(DATASETS))
    url = f"sqlite:///{tmp_path / 'atlas.db'}"
    for name, value in {
        "T2B_DATABASE_URL": url,
        "T2B_DATA_DIR": str(tmp_path / "data"),
        "T2B_HUB_ENDPOINT": fake_hub.url,
        "T2B_VIEWER_ENDPOINT": fake_hub.viewer_url,
        "T2B_CLIP_MODEL": str(clip_dir),
        **as_env(OFFLINE_TRANSFER),
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("HF_TOKEN", raising=False)
    get_settings.cache_clear()
    yield url
    get_settings.cache_clear()


def test_one_command_samples_estimates_and_fits_the_chosen_estimator(env: str) -> None:
    assert runner.invoke(app, ["crawl"]).exit_code == 0
    result = runner.invoke(app, ["estimate-transfer", "--limit", "3", "--estimator", "nce"])
    assert result.exit_code == 0, result.output
    factory = session_factory_for(env)
    with session_scope(factory) as session:
        nce = repository.get_transfer_estimates(session, estimator="nce")
        maps = [m for m in repository.list_maps(session) if m.relation == "transfer"]
    # The three most downloaded datasets were sampled; the fourth was not (--limit 3).
    assert len(nce) == 3 * 2
    assert {e.target_id for e in nce} == {f"colours/set-{i}" for i in range(3)}
    (published,) = [m for m in maps if m.status == "published"]
    assert published.params["estimator"] == "nce"  # not the configured default, leep
    assert published.params["estimated_pairs"] == 6


def test_without_features_it_says_how_to_get_them(env: str) -> None:
    assert runner.invoke(app, ["crawl"]).exit_code == 0
    result = runner.invoke(app, ["estimate-transfer"])
    assert result.exit_code == 1
    assert "task2box image-features" in result.output


def test_an_unknown_estimator_is_refused(env: str) -> None:
    result = runner.invoke(app, ["estimate-transfer", "--estimator", "kl"])
    assert result.exit_code == 2 and "kl" in result.output
