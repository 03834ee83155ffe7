"""Alembic environment: runs migrations against the configured URL, online only."""

from __future__ import annotations

from alembic import context

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
            context.configure(
                connection=connection,
                target_metadata=target_metadata,
                # SQLite cannot ALTER most things; batch mode rebuilds tables instead.
                render_as_batch=connection.dialect.name == "sqlite",
                compare_type=True,
            )
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise RuntimeError("offline (--sql) migrations are not supported; run them online")
_run_online()
