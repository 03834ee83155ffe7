"""pytest fixtures around the fake Hub; conftests import them by name.

huggingface_hub reads `HF_ENDPOINT` once, at import, into `constants.ENDPOINT` (and the URL
template derived from it). The one-time `GET /api/agent-harnesses` goes to that endpoint, so the
fixture points those constants at the fake Hub, resets the cached registry, and keeps the
library's caches under `tmp_path`. The crawler itself only uses `Settings.hub_endpoint`.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from pathlib import Path
from typing import Any

import pytest
from huggingface_hub import constants
from huggingface_hub.utils import _detect_agent

from backend.config import Settings
from tests.fakehub import FakeHub
from tests.fakehub_catalog import fixture_catalog


@pytest.fixture
def fake_hub(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Generator[FakeHub, None, None]:
    """The fake Hub serving the hand-written fixtures, four datasets per listing page."""
    with FakeHub(fixture_catalog(), page_size=4) as hub:
        monkeypatch.setattr(constants, "ENDPOINT", hub.url)
        monkeypatch.setattr(
            constants,
            "HUGGINGFACE_CO_URL_TEMPLATE",
            hub.url + "/{repo_id}/resolve/{revision}/{filename}",
        )
        monkeypatch.setattr(constants, "AGENT_HARNESSES_PATH", str(tmp_path / "agents.json"))
        monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hf-hub"))
        monkeypatch.setattr(_detect_agent, "_registry", None)
        yield hub


@pytest.fixture
def hub_settings(fake_hub: FakeHub, tmp_path: Path) -> Callable[..., Settings]:
    """Builds settings pointed at `fake_hub`, with fast retries; keyword overrides win."""

    def make(**overrides: Any) -> Settings:
        fields: dict[str, Any] = {
            "hub_endpoint": fake_hub.url,
            "viewer_endpoint": fake_hub.viewer_url,
            "hf_token": None,
            "data_dir": tmp_path / "data",
            "database_url": f"sqlite:///{tmp_path / 'crawl.db'}",
            "crawl_backoff_s": 0.01,
            "crawl_max_retries": 3,
            "http_timeout_s": 10.0,
            "crawl_concurrency": 4,
            "crawl_batch_size": 4,
        }
        fields.update(overrides)
        return Settings(_env_file=None, **fields)

    return make


class SleepRecorder:
    """A `sleep` that records each wait and really waits (so servers see real gaps)."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        import time

        self.waits.append(seconds)
        time.sleep(seconds)
