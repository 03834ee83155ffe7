"""`task2box migrate` and `task2box seed`."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console

from backend.config import get_settings

console = Console()


def migrate(
    revision: Annotated[str, typer.Option(help="Alembic revision to upgrade to.")] = "head",
) -> None:
    """Create or upgrade the database schema (Alembic)."""
    from backend.db import migrate as migrations
    from backend.db.engine import make_engine, redacted_url

    url = get_settings().database_url
    migrations.upgrade(url, revision)
    engine = make_engine(url)
    try:
        current = migrations.current_revision(engine)
    finally:
        engine.dispose()
    console.print(f"database at revision [bold]{current}[/] ({redacted_url(url)})")


def seed() -> None:
    """Load the built-in catalog of well-known datasets (idempotent; Hub data is kept)."""
    from backend.catalog import seed_catalog
    from backend.cli._database import open_database
    from backend.db import repository
    from backend.db.engine import session_scope

    with session_scope(open_database(get_settings())) as session:
        count = seed_catalog(session)
        counts = repository.count_datasets(session)
    console.print(
        f"seeded {count} catalog datasets; the database now holds {counts.ok} ok, "
        f"{sum(counts.skipped.values())} skipped, {counts.failed} failed"
    )
