from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from backend.db.engine import make_engine, make_session_factory, session_scope


def test_sqlite_file_gets_wal_foreign_keys_and_parent_dir(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "dir" / "a.db"
    engine = make_engine(f"sqlite:///{path}")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30_000
    assert path.exists()
    engine.dispose()


def test_memory_sqlite_is_shared_between_sessions() -> None:
    factory = make_session_factory(make_engine("sqlite://"))
    with session_scope(factory) as s:
        s.execute(text("CREATE TABLE t (x INTEGER)"))
        s.execute(text("INSERT INTO t VALUES (1)"))
        s.commit()
    with session_scope(factory) as s:
        assert s.execute(text("SELECT x FROM t")).scalar() == 1


def test_session_scope_rolls_back_on_error(tmp_path: Path) -> None:
    factory = make_session_factory(make_engine(f"sqlite:///{tmp_path / 'a.db'}"))
    with session_scope(factory) as s:
        s.execute(text("CREATE TABLE t (x INTEGER)"))
        s.commit()
    with pytest.raises(RuntimeError, match="boom"), session_scope(factory) as s:
        s.execute(text("INSERT INTO t VALUES (1)"))
        raise RuntimeError("boom")
    with session_scope(factory) as s:
        assert s.execute(text("SELECT COUNT(*) FROM t")).scalar() == 0


def test_bad_url_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="not a valid database URL"):
        make_engine("not a url")
