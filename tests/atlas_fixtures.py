"""A real atlas database for the API and job tests, built once per test session.

Datasets arrive the way production gets them: the crawler reads the fake Hub on 127.0.0.1
(`tests/fakehub.py`), which serves the hand-written fixtures (gated, script, disabled and
label-less repos included) plus the built-in catalog's small datasets as Hub repos. Then the
real train job runs (MiniLM label-text features, containment targets, a short fit) and
publishes a 2-D and a 3-D map. Tests that only read share it; tests that write get a copy
(`SeededAtlas.copy`).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from huggingface_hub import constants
from huggingface_hub.utils import _detect_agent

from backend.catalog.loader import load_catalog
from backend.config import Settings
from backend.db import migrate
from backend.jobs.crawl_job import CrawlSummary, run_crawl
from backend.jobs.train import TrainRequest, TrainSummary, run_train
from tests.fakehub import FakeHub
from tests.fakehub_catalog import FakeDataset, card_info, fixture_catalog, sha_of

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


def hub_catalog() -> list[FakeDataset]:
    """The fixtures plus the catalog's small datasets, as repos of the fake Hub."""
    repos = fixture_catalog()
    known = {d.id for d in repos}
    for i, record in enumerate(load_catalog()):
        if record.id in known or len(record.labels) > _MAX_SEED_LABELS:
            continue
        info = card_info({record.label_column or "label": record.labels}, record.splits)
        card = {"license": record.license, "pretty_name": record.pretty_name}
        repos.append(
            FakeDataset(
                id=record.id,
                sha=sha_of(record.id),
                card_data={**card, "dataset_info": info},
                downloads=1000 - i,
                likes=i,
            )
        )
    return repos


@contextmanager
def serving_hub(tmp: Path, repos: list[FakeDataset]) -> Iterator[FakeHub]:
    """The fake Hub, with huggingface_hub's import-time constants pointed at it."""
    with FakeHub(repos, page_size=8) as hub, pytest.MonkeyPatch.context() as mp:
        mp.setattr(constants, "ENDPOINT", hub.url)
        mp.setattr(
            constants,
            "HUGGINGFACE_CO_URL_TEMPLATE",
            hub.url + "/{repo_id}/resolve/{revision}/{filename}",
        )
        mp.setattr(constants, "AGENT_HARNESSES_PATH", str(tmp / "agents.json"))
        mp.setattr(constants, "HF_HUB_CACHE", str(tmp / "hf-hub"))
        mp.setattr(_detect_agent, "_registry", None)
        yield hub


def hub_overrides(hub: FakeHub) -> dict[str, Any]:
    """Settings that send the crawler to `hub`, with quick retries."""
    return {
        "hub_endpoint": hub.url,
        "viewer_endpoint": hub.viewer_url,
        "crawl_backoff_s": 0.01,
        "crawl_max_retries": 2,
        "crawl_builder_fallback": False,
    }


def _seed(settings: Settings, tmp: Path) -> CrawlSummary:
    with serving_hub(tmp, hub_catalog()) as hub:
        crawl_settings = settings.model_copy(update=hub_overrides(hub))
        summary = run_crawl(crawl_settings)
    assert summary.error is None and summary.fetched > 20, summary
    return summary


@dataclass(frozen=True)
class SeededAtlas:
    """The seeded database, its settings and what the train job reported."""

    settings: Settings
    db_path: Path
    crawl: CrawlSummary
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
    crawl = _seed(settings, root)
    summary = run_train(settings, TrainRequest(dims=DIMS, epochs=EPOCHS))
    return SeededAtlas(settings=settings, db_path=root / "atlas.db", crawl=crawl, summary=summary)
