"""Storage faults are named: the driver's error text becomes one `StorageError` with the cause."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import text

from backend.db.engine import make_engine
from backend.db.storage_faults import storage_error
from backend.errors import StorageError


@pytest.mark.parametrize(
    ("driver_text", "starts"),
    [
        ("database or disk is full", "database or disk is full: /data/atlas.db cannot grow"),
        ("attempt to write a readonly database", "the database file /data/atlas.db is read-only"),
        (
            "unable to open database file",
            "cannot open the database file /data/atlas.db (data directory not writable?)",
        ),
    ],
)
def test_sqlite_storage_faults_are_named(driver_text: str, starts: str) -> None:
    error = storage_error(sqlite3.OperationalError(driver_text), database="/data/atlas.db")
    assert isinstance(error, StorageError)
    assert str(error).startswith(starts)
    assert "/data" not in error.reason and error.reason in str(error).replace(" /data/atlas.db", "")


def test_other_database_errors_keep_their_type() -> None:
    for driver_text in ("no such table: datasets", "database is locked"):
        assert storage_error(sqlite3.OperationalError(driver_text), database="/x.db") is None


def test_postgres_sqlstates_are_named() -> None:
    class DiskFull(Exception):
        sqlstate = "53100"

    class ReadOnly(Exception):
        sqlstate = "25006"

    url = "postgresql+psycopg://atlas:***@db/atlas"
    assert str(storage_error(DiskFull("could not extend file"), database=url)).startswith(
        f"database or disk is full: {url}"
    )
    assert str(storage_error(ReadOnly("read-only transaction"), database=url)).startswith(
        f"the database {url} is read-only (the server refuses writes)"
    )


def test_an_engine_raises_the_named_fault_on_a_read_only_database(tmp_path: Path) -> None:
    # mode=ro opens the file read-only for every user, root included (file modes do not
    # stop root): SQLite answers a write with SQLITE_READONLY.
    path = tmp_path / "atlas.db"
    with sqlite3.connect(path) as raw:
        raw.execute("CREATE TABLE t (x INTEGER)")
    raw.close()
    engine = make_engine(f"sqlite:///file:{path}?mode=ro&uri=true")
    try:
        with pytest.raises(StorageError) as caught, engine.connect() as conn:
            conn.execute(text("INSERT INTO t VALUES (1)"))
    finally:
        engine.dispose()
    assert str(caught.value).startswith(f"the database file {path} is read-only")


def test_the_api_answers_a_storage_fault_with_503_and_no_path() -> None:
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    from backend.api.errors import install_error_handlers

    app = FastAPI()
    install_error_handlers(app)

    @app.get("/write")
    def write() -> None:
        error = storage_error(
            sqlite3.OperationalError("database or disk is full"), database="/srv/secret/atlas.db"
        )
        assert error is not None
        raise error

    response = TestClient(app).get("/write")
    assert response.status_code == 503
    assert response.json() == {
        "error": "storage_unavailable",
        "detail": "database or disk is full",
    }


def test_a_database_directory_that_cannot_be_made_is_named(tmp_path: Path) -> None:
    # A regular file where the data directory should be: mkdir fails for root too.
    (tmp_path / "data").write_text("not a directory")
    path = tmp_path / "data" / "sub" / "atlas.db"
    with pytest.raises(StorageError) as caught:
        make_engine(f"sqlite:///{path}")
    assert str(caught.value).startswith(
        f"cannot open the database file {path} (data directory not writable?)"
    )
