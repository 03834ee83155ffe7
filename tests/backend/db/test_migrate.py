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


def test_the_lease_revision_fails_maps_a_killed_fit_left_training(tmp_path: Path) -> None:
    # Before 0004 a map did not name its job, so a fit killed mid-way left it `training`
    # forever; with no train job active, upgrading fails it and leaves every other map alone.
    import sqlite3

    url = f"sqlite:///{tmp_path / 'a.db'}"
    migrate.upgrade(url, "0003")
    with sqlite3.connect(tmp_path / "a.db") as conn:
        for status in ("training", "published", "failed"):
            conn.execute(
                "INSERT INTO maps (relation, dim, representation, status, params, metrics, "
                "num_boxes, created_at) VALUES ('containment', 2, 't', ?, '{}', '{}', 0, "
                "'2026-12-01 00:00:00')",
                (status,),
            )
    migrate.upgrade(url)
    with sqlite3.connect(tmp_path / "a.db") as conn:
        rows = conn.execute("SELECT id, status, error FROM maps ORDER BY id").fetchall()
    assert [(i, s) for i, s, _ in rows] == [(1, "failed"), (2, "published"), (3, "failed")]
    assert rows[0][2] == "interrupted: its train job stopped before this map was finished"
    assert rows[2][2] is None
