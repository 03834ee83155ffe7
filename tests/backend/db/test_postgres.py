"""The whole path on a real Postgres: migrate, seed, crawl the fake Hub, train, serve the API
(uvicorn on 127.0.0.1).

Everything else in the suite runs on SQLite; this module runs the same code on a throwaway
Postgres server (`tests/postgres_fixtures.py`), so a query, a type or a migration that only
SQLite accepts fails here. It skips, saying why, only where Postgres cannot be started.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass

import httpx
import pytest
from sqlalchemy import text

from backend.catalog import seed_catalog
from backend.config import Settings
from backend.db import migrate, repository
from backend.db.engine import make_engine, make_session_factory, session_scope
from backend.jobs.crawl_job import CrawlSummary, run_crawl
from backend.jobs.train import TrainRequest, TrainSummary, run_train
from backend.main import create_app
from tests.atlas_fixtures import hub_overrides, serving_hub, settings_for
from tests.fakehub_catalog import fixture_catalog
from tests.live_server import live_server
from tests.postgres_fixtures import postgres_url

__all__ = ["postgres_url"]

pytestmark = pytest.mark.slow

CIFAR10 = "uoft-cs/cifar10"


@dataclass(frozen=True)
class PostgresAtlas:
    settings: Settings
    seeded: int
    crawl: CrawlSummary
    train: TrainSummary


@pytest.fixture(scope="module")
def atlas(
    postgres_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Generator[PostgresAtlas, None, None]:
    root = tmp_path_factory.mktemp("pg-atlas")
    settings = settings_for(
        root / "unused.db",
        root / "data",
        database_url=postgres_url,
        map_dims=[2],
        train_epochs=8,
        set_epochs=8,
        train_val_fraction=0.2,
    )
    migrate.upgrade(postgres_url)
    engine = make_engine(postgres_url)
    sessions = make_session_factory(engine)
    with session_scope(sessions) as session:
        seeded = seed_catalog(session)
    with serving_hub(root, fixture_catalog()) as hub:
        crawl = run_crawl(settings.model_copy(update=hub_overrides(hub)), sessions=sessions)
    train = run_train(settings, TrainRequest(dims=(2,), epochs=8), sessions=sessions)
    engine.dispose()
    yield PostgresAtlas(settings=settings, seeded=seeded, crawl=crawl, train=train)


@pytest.fixture(scope="module")
def client(atlas: PostgresAtlas) -> Generator[httpx.Client, None, None]:
    """A client of the real app, served by uvicorn on 127.0.0.1, over the Postgres atlas."""
    with (
        live_server(create_app(atlas.settings)) as url,
        httpx.Client(base_url=url, timeout=60) as c,
    ):
        yield c


def test_the_migrations_reach_head_on_postgres(atlas: PostgresAtlas) -> None:
    engine = make_engine(atlas.settings.database_url)
    try:
        assert engine.dialect.name == "postgresql"
        assert migrate.current_revision(engine) == migrate.head_revision()
        with engine.connect() as conn:
            tables = set(
                conn.execute(
                    text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
                ).scalars()
            )
    finally:
        engine.dispose()
    assert {"datasets", "labels", "maps", "boxes", "jobs", "representations"} <= tables


def test_seed_and_crawl_store_their_datasets(atlas: PostgresAtlas) -> None:
    assert atlas.seeded > 20
    assert atlas.crawl.error is None and atlas.crawl.fetched == 8
    engine = make_engine(atlas.settings.database_url)
    try:
        with session_scope(make_session_factory(engine)) as session:
            counts = repository.count_datasets(session)
            cifar100 = repository.get_dataset(session, dataset_id="uoft-cs/cifar100")
    finally:
        engine.dispose()
    assert counts.ok >= atlas.seeded
    assert counts.skipped.get("gated") == 1
    assert cifar100 is not None and cifar100.num_labels == 100


def test_the_fit_is_published(atlas: PostgresAtlas) -> None:
    (outcome,) = atlas.train.maps
    assert (outcome.dim, outcome.status, outcome.error) == (2, "published", None)
    assert atlas.train.datasets > 20 and atlas.train.positive_pairs > 0


def test_the_api_serves_from_postgres(atlas: PostgresAtlas, client: httpx.Client) -> None:
    listed = client.get("/api/datasets", params={"q": "cifar", "limit": 5})
    assert listed.status_code == 200, listed.text
    assert CIFAR10 in {item["id"] for item in listed.json()["items"]}
    by_label = client.get("/api/datasets", params={"label": "airplane"}).json()
    assert CIFAR10 in {item["id"] for item in by_label["items"]}

    related = client.get(f"/api/datasets/{CIFAR10}/related", params={"k": 5})
    assert related.status_code == 200, related.text
    items = related.json()["items"]
    assert items and items[0]["measured"] is True and items[0]["id"] != CIFAR10

    map_id = atlas.train.maps[0].map_id
    boxes = client.get(f"/api/maps/{map_id}/boxes")
    assert boxes.status_code == 200, boxes.text
    assert len(boxes.json()["ids"]) == atlas.train.datasets

    placed = client.post("/api/place", json={"labels": ["cat", "dog", "horse"], "k": 3})
    assert placed.status_code == 200, placed.text
    body = placed.json()
    assert len(body["box"]["lo"]) == 2 and body["contained_in"]

    health = client.get("/healthz").json()
    assert health["database"] is True and health["published_maps"]["containment"] == map_id


def test_a_read_only_postgres_is_named(atlas: PostgresAtlas) -> None:
    # A hot standby, or a database an operator set read-only, refuses every write with
    # SQLSTATE 25006; the session option below is that same refusal, for real.
    from backend.db.engine import redacted_url
    from backend.errors import StorageError

    url = atlas.settings.database_url
    engine = make_engine(url)
    try:
        with engine.connect() as conn, pytest.raises(StorageError) as caught:
            conn.execute(text("SET default_transaction_read_only = on"))
            conn.commit()
            conn.execute(text("UPDATE jobs SET message = 'x'"))
    finally:
        engine.dispose()
    assert str(caught.value).startswith(f"the database {redacted_url(url)} is read-only")
