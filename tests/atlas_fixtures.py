"""A real atlas database for the API and job tests, built once per test session.

Datasets arrive the way production gets them (see `_seed`), then the real train job runs
(MiniLM label-text features, containment targets, a short fit) and publishes a 2-D and a 3-D
map. Tests that only read share it; tests that write get a copy (`SeededAtlas.copy`).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from backend.catalog.loader import load_catalog
from backend.config import Settings
from backend.db import migrate, repository
from backend.db.engine import session_factory_for, session_scope
from backend.jobs.train_job import TrainRequest, TrainSummary, run_train

EPOCHS = 40
DIMS = (2, 3)
# Catalog datasets with few classes: enough structure (digits, cats and dogs, CIFAR-like
# sets) for containment, few labels to embed, so the session fixture stays quick.
_MAX_SEED_LABELS = 20


def settings_for(db_path: Path, data_dir: Path, **overrides: Any) -> Settings:
    """Test settings: this database, this cache, a short fit, no environment."""
    fields: dict[str, Any] = {
        "database_url": f"sqlite:///{db_path}",
        "data_dir": data_dir,
        "train_epochs": EPOCHS,
        "map_dims": list(DIMS),
        "train_val_fraction": 0.2,
        "admin_token": None,
        "log_level": "WARNING",
        "hf_token": None,
    }
    fields.update(overrides)
    return Settings(_env_file=None, **fields)  # type: ignore[call-arg]


def _seed(settings: Settings) -> None:
    records = [r for r in load_catalog() if len(r.labels) <= _MAX_SEED_LABELS]
    with session_scope(session_factory_for(settings.database_url)) as session:
        repository.save_crawl_batch(session, records=records, crawled_at=datetime.now(UTC))


@dataclass(frozen=True)
class SeededAtlas:
    """The seeded database, its settings and what the train job reported."""

    settings: Settings
    db_path: Path
    summary: TrainSummary

    @property
    def map_ids(self) -> dict[int, int]:
        """Published map id per dimension."""
        return {m.dim: m.map_id for m in self.summary.maps}

    def copy(self, directory: Path, **overrides: Any) -> Settings:
        """Settings for a private copy of the database (the embedding cache is shared)."""
        directory.mkdir(parents=True, exist_ok=True)
        target = directory / "atlas.db"
        # The backup API copies a consistent snapshot, WAL content included.
        with sqlite3.connect(self.db_path) as src, sqlite3.connect(target) as dst:
            src.backup(dst)
        return settings_for(target, self.settings.data_dir, **overrides)


@pytest.fixture(scope="session")
def seeded_atlas(tmp_path_factory: pytest.TempPathFactory) -> SeededAtlas:
    """Seeded, represented, trained and published: a real atlas."""
    root = tmp_path_factory.mktemp("atlas")
    settings = settings_for(root / "atlas.db", root / "data")
    migrate.upgrade(settings.database_url)
    _seed(settings)
    summary = run_train(settings, TrainRequest(dims=DIMS, epochs=EPOCHS))
    return SeededAtlas(settings=settings, db_path=root / "atlas.db", summary=summary)
