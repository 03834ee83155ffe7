"""The database as CLI commands open it: migrated to head, then a session factory."""

from __future__ import annotations

from backend.config import Settings
from backend.db import migrate
from backend.db.engine import SessionFactory, session_factory_for


def open_database(settings: Settings) -> SessionFactory:
    """Upgrades the configured database to head (a no-op when current) and returns sessions."""
    migrate.upgrade(settings.database_url)
    return session_factory_for(settings.database_url)
