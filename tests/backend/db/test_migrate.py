from __future__ import annotations

from pathlib import Path

from sqlalchemy import inspect

from backend.db import migrate
from backend.db.engine import make_engine
from backend.db.tables import Base

TABLES = {
    "datasets",
    "labels",
    "representations",
    "maps",
    "boxes",
    "map_neighbors",
    "map_label_matches",
    "jobs",
    "transfer_scores",
}


def test_upgrade_head_then_downgrade_base_round_trips(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'a.db'}"
    migrate.upgrade(url)
    engine = make_engine(url)
    assert set(inspect(engine).get_table_names()) >= TABLES
    assert migrate.current_revision(engine) == migrate.head_revision()

    migrate.downgrade(url, "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    assert migrate.current_revision(engine) is None

    migrate.upgrade(url)  # and back up again
    assert set(inspect(engine).get_table_names()) >= TABLES
    engine.dispose()


def test_migrations_match_the_declared_tables(db_url: str) -> None:
    # A column added to tables.py without a migration would make this fail.
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    engine = make_engine(db_url)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    engine.dispose()
    assert diff == []
