"""Alembic environment: runs migrations against the configured URL, online only."""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from backend.db.engine import make_engine
from backend.db.tables import Base

config = context.config
target_metadata = Base.metadata


def _run_online() -> None:
    url = config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("no sqlalchemy.url in the Alembic config; use backend.db.migrate")
    # The same engine factory as the app: the SQLite pragmas (foreign keys, WAL) apply here too.
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            sqlite = connection.dialect.name == "sqlite"
            if sqlite:
                # Batch mode rebuilds a table (copy, drop the old one, rename). With foreign
                # keys on, dropping the old `maps` would cascade: every box, neighbour row and
                # label match of every map deleted. The pragma only takes effect outside a
                # transaction, hence before `begin_transaction`.
                connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
                connection.commit()
            context.configure(
                connection=connection,
                target_metadata=target_metadata,
                # SQLite cannot ALTER most things; batch mode rebuilds tables instead.
                render_as_batch=sqlite,
                compare_type=True,
            )
            with context.begin_transaction():
                before = context.get_context().get_current_revision()
                context.run_migrations()
                # Only after a migration ran: a check scans every table, and `serve` migrates
                # (to nothing, usually) at each start.
                if sqlite and context.get_context().get_current_revision() != before:
                    _check_foreign_keys(connection)
            if sqlite:
                connection.exec_driver_sql("PRAGMA foreign_keys=ON")
    finally:
        engine.dispose()


def _check_foreign_keys(connection: Connection) -> None:
    """Refuses (rolling the migration back) a database whose rows lost their parents while
    foreign keys were off."""
    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    if broken:
        tables = sorted({str(row[0]) for row in broken})
        raise RuntimeError(f"the migration left rows without their parents in {tables}")


if context.is_offline_mode():
    raise RuntimeError("offline (--sql) migrations are not supported; run them online")
_run_online()
