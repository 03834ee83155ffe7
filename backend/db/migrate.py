"""Alembic, driven from code: works from a source checkout and from an installed wheel.

The scripts live in the package (`backend/db/migrations`), found relative to this file, so no
`alembic.ini` or working directory is needed. `alembic.ini` beside it serves the `alembic`
command line during development only.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def alembic_config(url: str) -> Config:
    """An Alembic config pointing at the packaged scripts and at `url`."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    # `%` would be read as interpolation by configparser (passwords may contain it).
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def head_revision() -> str:
    """The newest revision the code knows."""
    head = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
    assert head is not None, "no migrations found"
    return head


def is_known_revision(revision: str) -> bool:
    """Whether `revision` is one of this code's migrations (False: a newer version wrote it)."""
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    try:
        return script.get_revision(revision) is not None
    except Exception:  # alembic raises ResolutionError (or a subclass) for unknown ids
        return False


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at; None for an empty database."""
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(url: str, revision: str = "head") -> None:
    """Brings the database at `url` up to `revision` (creating it if needed)."""
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str, revision: str) -> None:
    """Takes the database at `url` down to `revision` (`"base"` drops every table)."""
    command.downgrade(alembic_config(url), revision)
