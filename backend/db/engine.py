"""Engines and sessions: the only place a `Session` is made.

SQLite gets the pragmas a multi-reader, one-writer app needs: WAL (readers never block the
writer and see the last committed state), foreign keys ON (SQLite leaves them off by default),
and a busy timeout (a second writer waits instead of failing at once).
"""

from __future__ import annotations

import logging
from collections.abc import Generator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import ExceptionContext, make_url
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool

from backend.db.storage_faults import CANTOPEN_REASON, storage_error
from backend.errors import StorageError

log = logging.getLogger(__name__)

SessionFactory = sessionmaker[Session]

# Long enough for a crawl batch or a map publish to finish; short enough that a wedged writer
# shows up as an error rather than a hang.
_BUSY_TIMEOUT_MS = 30_000


def _is_memory_sqlite(database: str | None) -> bool:
    return database in (None, "", ":memory:") or "mode=memory" in (database or "")


def _sqlite_path(database: str) -> str:
    """The file of a SQLite database name (`file:` URIs lose their scheme and query)."""
    if database.startswith("file:"):
        database = database.removeprefix("file:").split("?", 1)[0]
    return str(Path(database).expanduser())


def redacted_url(url: str) -> str:
    """`url` without its password, for printing; a string that is no URL prints as a marker."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # not a URL: print none of it, it may hold a secret
        return "<invalid database URL>"


def make_engine(url: str, *, echo: bool = False) -> Engine:
    """An engine for `url`; SQLite files get WAL, foreign keys and a busy timeout.

    The parent directory of a SQLite file is created, so `sqlite:///data/atlas.db` works on a
    fresh checkout. In-memory SQLite shares one connection (`StaticPool`), otherwise every
    session would see its own empty database.

    Args:
        url: any SQLAlchemy URL (`sqlite:///path.db`, `postgresql+psycopg://...`).
        echo: log every SQL statement.

    Raises:
        ValueError: if `url` is not a valid SQLAlchemy URL.
        StorageError: if a SQLite file's directory cannot be created.
    """
    try:
        parsed = make_url(url)
    except Exception as e:  # sqlalchemy raises ArgumentError; callers see one clear type
        raise ValueError(f"not a valid database URL: {url!r}") from e
    if parsed.get_backend_name() != "sqlite":
        engine = create_engine(parsed, echo=echo, pool_pre_ping=True)
        _name_storage_faults(engine, parsed.render_as_string(hide_password=True))
        return engine

    kwargs: dict[str, Any] = {"connect_args": {"check_same_thread": False}}
    memory = _is_memory_sqlite(parsed.database)
    if memory:
        kwargs["poolclass"] = StaticPool
    elif parsed.database and not parsed.database.startswith("file:"):
        parent = Path(parsed.database).expanduser().parent
        try:
            parent.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise StorageError(
                f"cannot open the database file {parsed.database} (data directory not "
                f"writable?): its directory {parent} cannot be created: {e.strerror or e}",
                reason=CANTOPEN_REASON,
            ) from e
    engine = create_engine(parsed, echo=echo, **kwargs)
    _name_storage_faults(engine, None if memory else _sqlite_path(parsed.database or ""))

    @event.listens_for(engine, "connect")
    def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
        cursor = dbapi_conn.cursor()
        try:
            if not memory:
                cursor.execute("PRAGMA journal_mode=WAL")
                # NORMAL is durable against a killed process in WAL mode; only an OS crash or
                # power loss can roll back the last commits.
                cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute(f"PRAGMA busy_timeout={_BUSY_TIMEOUT_MS}")
        finally:
            cursor.close()

    return engine


def _name_storage_faults(engine: Engine, database: str | None) -> None:
    """Makes `engine` raise a `StorageError` naming the cause for a full disk, a read-only
    file or a directory it cannot open (every other error keeps its type)."""

    @event.listens_for(engine, "handle_error")
    def _storage_fault(context: ExceptionContext) -> None:
        error = storage_error(context.original_exception, database=database)
        if error is not None:
            raise error from context.original_exception


def make_session_factory(engine: Engine) -> SessionFactory:
    """A sessionmaker whose objects stay readable after commit (records are built from them)."""
    return sessionmaker(bind=engine, expire_on_commit=False, autoflush=False)


@lru_cache(maxsize=8)
def session_factory_for(url: str) -> SessionFactory:
    """The process-wide session factory (and engine, with its pool) for `url`."""
    return make_session_factory(make_engine(url))


@contextmanager
def session_scope(factory: SessionFactory) -> Generator[Session, None, None]:
    """One session for one unit of work; rolled back on error, always closed.

    It does not commit: the repository commits what it writes, so a block that only reads
    never takes the write lock.
    """
    session = factory()
    try:
        yield session
    except BaseException:
        try:
            session.rollback()
        except Exception:  # the error being raised says more than a failed rollback would
            log.debug("rollback after an error failed too", exc_info=True)
        raise
    finally:
        session.close()
