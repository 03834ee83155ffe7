"""Database fixtures: a real SQLite file in tmp_path, created through the Alembic migrations."""

from __future__ import annotations

from collections.abc import Generator
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from backend.db import migrate
from backend.db.engine import SessionFactory, make_engine, make_session_factory, session_scope


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    """The URL of a fresh database migrated to head."""
    url = f"sqlite:///{tmp_path / 'db' / 'atlas.db'}"
    migrate.upgrade(url)
    return url


@pytest.fixture
def sessions(db_url: str) -> Generator[SessionFactory, None, None]:
    engine = make_engine(db_url)
    yield make_session_factory(engine)
    engine.dispose()


@pytest.fixture
def session(sessions: SessionFactory) -> Generator[Session, None, None]:
    with session_scope(sessions) as s:
        yield s
