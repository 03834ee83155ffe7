"""The database's own faults (a full disk, a read-only file, a directory it cannot open), named.

A driver reports them as an `OperationalError` whose text only a reader of SQLite's (or
Postgres') error codes understands, and a session that failed on one masks it with its own
"prepared state" or `PendingRollbackError` when used again. The engine's `handle_error` hook
(`backend/db/engine.py`) turns them into one `StorageError` at the point they happen, with the
cause first and the file that caused it, so a job, the API and the CLI all report the real
cause in one line. Every other database error keeps its own type.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from backend.errors import StorageError

# SQLite's messages for SQLITE_FULL, SQLITE_READONLY, SQLITE_CANTOPEN and SQLITE_IOERR (the
# texts of `sqlite3_errstr`, stable across releases), and Postgres' SQLSTATE classes for a
# full disk (53100 disk_full) and a read-only server (25006 read_only_sql_transaction).
_SQLITE_FULL = "database or disk is full"
_SQLITE_READONLY = "attempt to write a readonly database"
_SQLITE_CANTOPEN = "unable to open database file"
_SQLITE_IOERR = "disk I/O error"
_PG_DISK_FULL = "53100"
_PG_READ_ONLY = "25006"
CANTOPEN_REASON = "cannot open the database file (data directory not writable?)"
# Less free space than one WAL index file and a few pages: an I/O error is the disk being full.
_NEARLY_FULL_BYTES = 256 * 1024


def storage_error(error: BaseException, *, database: str | None) -> StorageError | None:
    """The `StorageError` that names `error`'s cause, or None when it is no storage fault.

    Args:
        error: the driver's exception (`sqlite3.OperationalError`, a psycopg error).
        database: the SQLite file, or a redacted URL for a server database; None if unknown.
    """
    text = str(error)
    sqlstate = getattr(error, "sqlstate", None)
    where = database or "the database"
    # A disk too full for SQLite to create its shared-memory file reports an I/O error.
    full_disk = _SQLITE_IOERR in text and _nearly_full(database)
    if _SQLITE_FULL in text or sqlstate == _PG_DISK_FULL or full_disk:
        return StorageError(
            f"database or disk is full: {where} cannot grow; free space on its file system "
            "and run again (what was committed is kept)",
            reason="database or disk is full",
        )
    if sqlstate == _PG_READ_ONLY:
        return StorageError(
            f"the database {where} is read-only (the server refuses writes): point "
            "T2B_DATABASE_URL at a writable primary, or let this user write",
            reason="the database is read-only",
        )
    if _SQLITE_READONLY in text:
        return StorageError(
            f"the database file {where} is read-only (SQLite: {_SQLITE_READONLY}): give this "
            f"user write access to it and to its directory{_directory(database)}",
            reason="the database file is read-only",
        )
    if _SQLITE_CANTOPEN in text:
        return StorageError(
            f"cannot open the database file {where} (data directory not writable?): "
            f"its directory{_directory(database)} must exist and be writable by this user, "
            "for the file and its -wal and -shm companions",
            reason=CANTOPEN_REASON,
        )
    if _SQLITE_IOERR in text:
        return StorageError(
            f"disk I/O error on the database file {where} (is its disk full, read-only or "
            "failing?)",
            reason="disk I/O error on the database file",
        )
    return None


def _nearly_full(database: str | None) -> bool:
    if database is None or "://" in database:
        return False
    try:
        return shutil.disk_usage(Path(database).parent).free < _NEARLY_FULL_BYTES
    except OSError:
        return False


def _directory(database: str | None) -> str:
    if database is None or "://" in database:
        return ""
    return f" ({Path(database).parent})"
