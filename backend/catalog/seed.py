"""Seeds the database from the catalog: on demand (`task2box seed`) or on a first run."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from backend.catalog.loader import load_catalog
from backend.db import repository

log = logging.getLogger(__name__)


def seed_catalog(session: Session, *, now: datetime | None = None) -> int:
    """Upserts every catalog dataset not already known from the Hub; returns how many.

    Idempotent: running it twice changes nothing the second time (labels are only replaced
    when they differ). Datasets crawled from the Hub are never overwritten by the catalog.
    """
    records = load_catalog()
    sources = repository.get_dataset_sources(session, ids=[r.id for r in records])
    fresh = [r for r in records if sources.get(r.id, "catalog") == "catalog"]
    repository.save_crawl_batch(session, records=fresh, crawled_at=now or datetime.now(UTC))
    log.info("seeded %d catalog datasets", len(fresh))
    return len(fresh)


def seed_if_empty(session: Session) -> int:
    """Seeds the catalog only when the database holds no dataset at all; returns how many.

    This is the first-run path: with no Hub reachable, the app still has datasets to map.
    """
    if repository.count_datasets(session).total > 0:
        return 0
    return seed_catalog(session)
