"""The crawl job against the fake Hub and a real (migrated) SQLite file."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy.orm import Session

from backend.config import Settings
from backend.crawler import HubClient, RawDataset
from backend.db import repository
from backend.db.engine import SessionFactory, session_scope
from backend.jobs import crawl_job
from backend.jobs.crawl_job import describe, run_crawl
from tests.fakehub import FakeHub, Fault
from tests.fakehub_catalog import card_info, sha_of

SettingsFactory = Callable[..., Settings]
OUTCOMES = {"ok": 10, "gated": 1, "script": 1, "disabled": 1, "no_labels": 2}


@pytest.fixture
def settings(hub_settings: SettingsFactory, db_url: str) -> Settings:
    # The builder fallback has its own tests; it would only slow these down.
    return hub_settings(database_url=db_url, crawl_builder_fallback=False)


def stored(sessions: SessionFactory, dataset_id: str) -> Any:
    with session_scope(sessions) as s:
        return repository.get_dataset(s, dataset_id=dataset_id)


def label_fetches(hub: FakeHub) -> int:
    return len(hub.requests("^/viewer/info$")) + len(hub.requests("/resolve/"))


def test_first_crawl_stores_every_dataset(
    fake_hub: FakeHub, settings: Settings, sessions: SessionFactory, session: Session
) -> None:
    summary = run_crawl(settings, sessions=sessions)
    assert summary.fetched == 8 and summary.unchanged == 0 and summary.failed == 0
    # Without the builder, the image folder and the legacy repo have no labels we can see.
    assert summary.skipped == {"gated": 1, "script": 1, "disabled": 1, "no_labels": 4}
    counts = repository.count_datasets(session)
    assert (counts.ok, counts.failed, counts.total) == (8, 0, 15)
    cifar = stored(sessions, "uoft-cs/cifar100")
    assert cifar.num_labels == 100 and cifar.label_column == "fine_label"
    assert cifar.sha == fake_hub.datasets["uoft-cs/cifar100"].sha
    assert stored(sessions, "Matthijs/snacks").labels[:2] == ("apple", "banana")
    assert describe(summary)["skipped"]["no_labels"] == 4


def test_commits_in_batches(
    fake_hub: FakeHub, settings: Settings, sessions: SessionFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    sizes: list[int] = []
    real = repository.save_crawl_batch

    def spy(session: Session, records: Any, *, crawled_at: Any) -> None:
        sizes.append(len(records))
        real(session, records, crawled_at=crawled_at)

    monkeypatch.setattr(crawl_job.repository, "save_crawl_batch", spy)
    run_crawl(settings, sessions=sessions)
    assert sum(sizes) == 15 and max(sizes) == settings.crawl_batch_size == 4
    assert len(sizes) == 4


def test_recrawl_is_incremental(
    fake_hub: FakeHub, settings: Settings, sessions: SessionFactory
) -> None:
    run_crawl(settings, sessions=sessions)
    before = label_fetches(fake_hub)
    fake_hub.datasets["Matthijs/snacks"].downloads = 123_456
    fake_hub.datasets["Matthijs/snacks"].likes = 77
    summary = run_crawl(settings, sessions=sessions)
    assert (summary.fetched, summary.unchanged, summary.skipped) == (0, 15, {})
    assert label_fetches(fake_hub) == before  # no viewer call, no README for unchanged shas
    snacks = stored(sessions, "Matthijs/snacks")
    assert (snacks.summary.downloads, snacks.summary.likes) == (123_456, 77)
    assert len(snacks.labels) == 20


def test_a_new_sha_is_fetched_again(
    fake_hub: FakeHub, settings: Settings, sessions: SessionFactory
) -> None:
    run_crawl(settings, sessions=sessions)
    beans = fake_hub.datasets["AI-Lab-Makerere/beans"]
    beans.sha = sha_of("beans v2")
    beans.card_data = {"dataset_info": card_info({"labels": ["healthy", "rust"]}, {"train": 9})}
    summary = run_crawl(settings, sessions=sessions)
    assert (summary.fetched, summary.unchanged) == (1, 14)
    record = stored(sessions, "AI-Lab-Makerere/beans")
    assert record.labels == ("healthy", "rust") and record.sha == beans.sha
    assert record.summary.num_examples == 9


def test_full_recrawl_ignores_stored_shas(
    fake_hub: FakeHub, settings: Settings, sessions: SessionFactory
) -> None:
    run_crawl(settings, sessions=sessions)
    summary = run_crawl(settings, sessions=sessions, full=True)
    assert summary.unchanged == 0 and summary.fetched == 8


def test_failed_datasets_are_stored_and_retried_next_time(
    fake_hub: FakeHub, settings: Settings, sessions: SessionFactory
) -> None:
    fault = Fault(path="^/viewer/info$", query="dataset=Matthijs/snacks", status=500, times=None)
    fake_hub.faults.append(fault)
    first = run_crawl(settings, sessions=sessions)
    assert first.failed == 1 and first.fetched == 7
    failed = stored(sessions, "Matthijs/snacks")
    assert failed.summary.status == "failed" and "HTTP 500" in failed.error and failed.sha is None
    fake_hub.faults.clear()
    second = run_crawl(settings, sessions=sessions)
    assert (second.fetched, second.failed, second.unchanged) == (1, 0, 14)
    assert stored(sessions, "Matthijs/snacks").summary.status == "ok"


def test_listing_that_breaks_off_keeps_what_was_committed_and_resumes(
    fake_hub: FakeHub, settings: Settings, sessions: SessionFactory
) -> None:
    # The third page (cursor offset 8) is refused: two pages are in, the rest are not.
    third_page = "cursor=eyJvZmZzZXQiOiA4fQ"  # base64 of {"offset": 8}
    fake_hub.faults.append(Fault(path="^/api/datasets$", query=third_page, status=403, times=None))
    first = run_crawl(settings, sessions=sessions)
    assert first.error is not None and "listing failed after 8 datasets" in first.error
    assert first.seen == 8
    with session_scope(sessions) as s:
        assert repository.count_datasets(s).total == 8
    fake_hub.faults.clear()
    second = run_crawl(settings, sessions=sessions)
    assert second.error is None and (second.unchanged, second.seen) == (8, 15)
    with session_scope(sessions) as s:
        assert repository.count_datasets(s).total == 15


def test_limit_caps_the_run(
    fake_hub: FakeHub, settings: Settings, sessions: SessionFactory
) -> None:
    progress: list[tuple[int, int | None]] = []
    summary = run_crawl(
        settings, sessions=sessions, limit=3, progress=lambda d, t: progress.append((d, t))
    )
    assert summary.seen == 3
    assert progress[-1] == (3, 3)
    with pytest.raises(ValueError, match="limit must be >= 1, got 0"):
        run_crawl(settings, sessions=sessions, limit=0)


def test_a_dataset_listed_twice_is_stored_once(
    fake_hub: FakeHub, settings: Settings, sessions: SessionFactory
) -> None:
    # Pages shift while downloads change during a crawl, so an id can come back.
    class Repeating(HubClient):
        def list_datasets(self, *, limit: int | None = None) -> Iterator[RawDataset]:
            items = list(super().list_datasets(limit=limit))
            yield from items[:6] + items[2:4] + items[6:]

    summary = run_crawl(settings, sessions=sessions, client=Repeating(settings))
    assert summary.duplicates == 2 and summary.seen == 15


THIRD_PAGE = "cursor=eyJvZmZzZXQiOiA4fQ"  # base64 of {"offset": 8}


def test_a_listing_page_that_is_always_malformed_stops_the_crawl_with_its_cause(
    fake_hub: FakeHub, settings: Settings, sessions: SessionFactory
) -> None:
    # Retries cannot help a page that is broken every time: the crawl must stop with a
    # summary that names the page's fault, not let the retry layer's error escape.
    fake_hub.faults.append(
        Fault(path="^/api/datasets$", query=THIRD_PAGE, malformed=True, times=None)
    )
    summary = run_crawl(settings, sessions=sessions)
    assert summary.error is not None
    assert "listing failed after 8 datasets" in summary.error
    assert "malformed JSON" in summary.error
    assert f"after {settings.crawl_max_retries} retries" in summary.error
    assert describe(summary)["error"] == summary.error
    with session_scope(sessions) as s:
        assert repository.count_datasets(s).total == 8  # the two good pages are kept


def test_a_crawl_job_whose_listing_broke_off_fails_with_the_cause(
    fake_hub: FakeHub, settings: Settings, sessions: SessionFactory
) -> None:
    from backend import schemas
    from backend.jobs.factories import JobFactories
    from backend.jobs.runner import JobRunner

    fake_hub.faults.append(Fault(path="^/api/datasets$", malformed=True, times=None))
    runner = JobRunner(sessions)
    params, fn = JobFactories(settings, sessions).crawl(schemas.CrawlJobRequest(limit=None))
    job = runner.submit("crawl", fn, params=params)
    assert runner.wait(job.id, timeout=120)
    with session_scope(sessions) as s:
        final = repository.get_job(s, job_id=job.id)
    assert final is not None and final.status == "failed"
    assert final.error is not None
    assert "malformed JSON" in final.error and "committed batches are kept" in final.error


def test_a_full_database_stops_the_crawl_with_the_real_cause(
    fake_hub: FakeHub, settings: Settings, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # SQLite's max_page_count caps the file as a full disk does: the write that needs one more
    # page fails with SQLITE_FULL. The crawl's own cleanup must not write on the failed session
    # again, or "prepared state" / PendingRollbackError replaces the cause.
    from sqlalchemy import event

    from backend.db.engine import make_engine, make_session_factory
    from backend.errors import StorageError

    engine = make_engine(db_url)
    with engine.connect() as conn:
        pages = int(conn.exec_driver_sql("PRAGMA page_count").scalar_one())

    @event.listens_for(engine, "connect")
    def _cap(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.execute(f"PRAGMA max_page_count={pages + 1}")

    engine.dispose()  # reconnect with the cap
    attempts: list[str] = []
    real = repository.save_crawl_batch

    def spy(session: Session, records: Any, *, crawled_at: Any) -> None:
        try:
            real(session, records, crawled_at=crawled_at)
        except Exception as e:
            attempts.append(type(e).__name__)
            raise
        attempts.append("ok")

    monkeypatch.setattr(crawl_job.repository, "save_crawl_batch", spy)
    with pytest.raises(StorageError) as caught:
        run_crawl(settings, sessions=make_session_factory(engine))
    assert str(caught.value).startswith("database or disk is full: ")
    assert db_url.removeprefix("sqlite:///") in str(caught.value)
    # The failed batch was the last write: nothing was tried again on the broken session.
    assert attempts[-1] == "StorageError" and attempts.count("StorageError") == 1
    engine.dispose()
