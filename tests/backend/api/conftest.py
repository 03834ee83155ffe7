"""API tests run against the session's seeded atlas (a real SQLite file, a real fit)."""

from __future__ import annotations

from collections.abc import Callable, Generator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from backend.config import Settings
from backend.main import create_app
from tests.atlas_fixtures import SeededAtlas, seeded_atlas

__all__ = ["seeded_atlas"]

ClientFactory = Callable[..., TestClient]


@pytest.fixture(scope="module")
def client(seeded_atlas: SeededAtlas) -> Generator[TestClient, None, None]:
    """A client of the app over the shared atlas; tests using it must not write."""
    with TestClient(create_app(seeded_atlas.settings)) as c:
        yield c


@pytest.fixture
def make_client(
    seeded_atlas: SeededAtlas, tmp_path: Path
) -> Generator[Callable[..., tuple[TestClient, Settings]], None, None]:
    """Builds a client over a private copy of the atlas, with settings overrides.

    `make_client(admin_token="x")` → `(client, settings)`; `app_hook(app)` may install
    dependency overrides before the app starts.
    """
    with ExitStack() as stack:
        count = 0

        def make(
            app_hook: Callable[[FastAPI], None] | None = None, **overrides: Any
        ) -> tuple[TestClient, Settings]:
            nonlocal count
            count += 1
            settings = seeded_atlas.copy(tmp_path / f"copy{count}", **overrides)
            app = create_app(settings)
            if app_hook is not None:
                app_hook(app)
            return stack.enter_context(TestClient(app)), settings

        yield make
