from __future__ import annotations

from pathlib import Path
from typing import Any

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


def test_upgrading_keeps_every_row_that_hangs_off_a_rebuilt_table(tmp_path: Path) -> None:
    # SQLite batch migrations rebuild a table by dropping the old one. With foreign keys on,
    # rebuilding `maps` (0004) cascaded into `boxes`: every published map lost its boxes.
    import sqlite3

    url = f"sqlite:///{tmp_path / 'a.db'}"
    migrate.upgrade(url, "0003")
    with sqlite3.connect(tmp_path / "a.db") as conn:
        conn.execute("PRAGMA foreign_keys=ON")
        _insert_row(conn, "datasets", id="a/b", status="ok")
        conn.execute(
            "INSERT INTO maps (relation, dim, representation, status, params, metrics, "
            "num_boxes, created_at) VALUES ('containment', 2, 't', 'published', '{}', '{}', 1, "
            "'2026-12-01 00:00:00')"
        )
        conn.execute(
            "INSERT INTO boxes (map_id, dataset_id, lo, hi) VALUES (1, 'a/b', x'00', x'01')"
        )
    migrate.upgrade(url)
    with sqlite3.connect(tmp_path / "a.db") as conn:
        assert conn.execute("SELECT count(*) FROM boxes").fetchone() == (1,)
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    # The app's connections still enforce foreign keys after a migration.
    engine = make_engine(url)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    engine.dispose()


def _insert_row(conn: Any, table: str, **values: object) -> None:
    """A row with `values` and a plain value for every other NOT NULL column without a
    default, whatever the schema of the revision under test."""
    plain = {"INT": 0, "BOOL": 0, "FLOAT": 0.0, "REAL": 0.0, "BLOB": b"", "JSON": "{}"}
    row = dict(values)
    for _cid, name, kind, notnull, default, _pk in conn.execute(f"PRAGMA table_info({table})"):
        if name in row or not notnull or default is not None:
            continue
        kind = str(kind).upper()
        fallback = next((v for k, v in plain.items() if k in kind), None)
        row[name] = (
            fallback
            if fallback is not None
            else ("2026-12-01 00:00:00" if "DATE" in kind or "TIME" in kind else "")
        )
    columns = ", ".join(row)
    marks = ", ".join("?" for _ in row)
    conn.execute(f"INSERT INTO {table} ({columns}) VALUES ({marks})", tuple(row.values()))


def test_the_sha_revision_keeps_features_sampled_since_the_last_fetch(tmp_path: Path) -> None:
    # Before 0007 a features row did not say which revision it was sampled at. Upgrading
    # gives it the dataset's sha only where the crawl last wrote the dataset before the
    # features were indexed; otherwise the revision is unknown (NULL: sampled again).
    import sqlite3

    url = f"sqlite:///{tmp_path / 'a.db'}"
    migrate.upgrade(url, "0006")
    with sqlite3.connect(tmp_path / "a.db") as conn:
        for name, fetched in (
            ("a/same", "2026-12-01 00:00:00"),
            ("a/newer", "2026-12-03 00:00:00"),
        ):
            _insert_row(
                conn, "datasets", id=name, status="ok", sha=f"sha-{name}", updated_at=fetched
            )
            _insert_row(
                conn,
                "image_features",
                dataset_id=name,
                feature_model="clip",
                status="ready",
                updated_at="2026-12-02 00:00:00",
            )
    migrate.upgrade(url)
    with sqlite3.connect(tmp_path / "a.db") as conn:
        rows = conn.execute("SELECT dataset_id, dataset_sha FROM image_features ORDER BY 1")
        assert rows.fetchall() == [("a/newer", None), ("a/same", "sha-a/same")]
    migrate.downgrade(url, "0006")
    with sqlite3.connect(tmp_path / "a.db") as conn:
        assert conn.execute("SELECT count(*) FROM image_features").fetchone() == (2,)
