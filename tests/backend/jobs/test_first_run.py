"""The first-run plan of `task2box up`, and running it as jobs on a real JobRunner."""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pytest
from sqlalchemy.orm import Session

from backend import schemas
from backend.catalog import seed_catalog
from backend.config import Settings
from backend.db import repository
from backend.db.engine import SessionFactory, session_scope
from backend.errors import CrawlError
from backend.jobs.first_run import FirstRun, FirstRunPlan, Step, plan_first_run
from backend.jobs.runner import JobContext, JobFn, JobRunner
from backend.jobs.train import TrainRequest
from tests.factories import dataset_record


def _settings(**overrides: Any) -> Settings:
    fields: dict[str, Any] = {"crawl_on_start": 300, "first_map_epochs": 150, "train_epochs": 1350}
    return Settings(_env_file=None, **(fields | overrides))


def _publish_a_map(session: Session) -> None:
    seed_catalog(session)
    ids = [r.id for r in repository.search_datasets(session, limit=3).items]
    record = repository.create_map(session, relation="containment", dim=2, representation="t")
    lo = np.zeros((3, 2), dtype=np.float32)
    repository.save_map_boxes(session, map_id=record.id, dataset_ids=ids, lo=lo, hi=lo + 1)
    repository.finish_map(session, map_id=record.id, metrics={})
    repository.publish_map(session, map_id=record.id)


def _crawl_job(session: Session, result: dict[str, Any]) -> None:
    job = repository.create_job(session, kind="crawl")
    repository.claim_job(session, job_id=job.id)
    repository.finish_job(session, job_id=job.id, result=result)


def _steps(plan: FirstRunPlan) -> list[tuple[str, int | None, int | None, bool]]:
    return [(s.kind, s.epochs, s.limit, s.only_after_new_data) for s in plan.steps]


def test_offline_with_no_map_fits_a_quick_first_map_only(session: Session) -> None:
    plan = plan_first_run(session, _settings(), hub_reachable=False)
    assert _steps(plan) == [("train", 150, None, False)]
    assert "quick first map" in plan.notes[0]


def test_online_with_no_map_fits_quick_then_crawls_then_fits_in_full(session: Session) -> None:
    plan = plan_first_run(session, _settings(), hub_reachable=True)
    assert _steps(plan) == [
        ("train", 150, None, False),
        ("crawl", None, 300, False),
        ("train", None, None, True),  # full epochs, only if the crawl stored something new
    ]


def test_transfer_on_start_adds_the_hub_transfer_step_after_the_full_fit(
    session: Session,
) -> None:
    plan = plan_first_run(session, _settings(transfer_on_start=True), hub_reachable=True)
    assert _steps(plan) == [
        ("train", 150, None, False),
        ("crawl", None, 300, False),
        ("train", None, None, True),
        ("hub-transfer", None, 300, True),  # the crawled datasets' images
    ]
    assert "T2B_TRANSFER_ON_START" in plan.notes[-1]
    # Offline there is nothing to sample: no step.
    offline = plan_first_run(session, _settings(transfer_on_start=True), hub_reachable=False)
    assert [s.kind for s in offline.steps] == ["train"]


def test_without_a_quick_map_the_full_fit_is_the_first(session: Session) -> None:
    offline = plan_first_run(session, _settings(first_map_epochs=0), hub_reachable=False)
    assert _steps(offline) == [("train", None, None, False)]
    online = plan_first_run(session, _settings(first_map_epochs=0), hub_reachable=True)
    # No map and no quick fit: the fit after the crawl must run even if it found nothing.
    assert _steps(online) == [("crawl", None, 300, False), ("train", None, None, False)]
    # A "quick" map as long as the full one is just the full one.
    same = plan_first_run(session, _settings(first_map_epochs=1350), hub_reachable=False)
    assert _steps(same) == [("train", None, None, False)]


def test_a_published_map_and_a_completed_crawl_leave_nothing_to_do(session: Session) -> None:
    _publish_a_map(session)
    assert _steps(plan_first_run(session, _settings(), hub_reachable=False)) == []
    first = plan_first_run(session, _settings(), hub_reachable=True)
    assert _steps(first) == [("crawl", None, 300, False), ("train", None, None, True)]
    _crawl_job(session, {"fetched": 12})
    assert plan_first_run(session, _settings(), hub_reachable=True).steps == ()


def test_a_crawl_that_broke_off_is_not_the_first_crawl(session: Session) -> None:
    _publish_a_map(session)
    _crawl_job(session, {"fetched": 3, "error": "listing failed: HTTP 500"})
    plan = plan_first_run(session, _settings(), hub_reachable=True)
    assert [s.kind for s in plan.steps] == ["crawl", "train"]


def test_crawling_on_start_can_be_turned_off(session: Session) -> None:
    plan = plan_first_run(session, _settings(crawl_on_start=0), hub_reachable=True)
    assert [s.kind for s in plan.steps] == ["train"]


class _Factories:
    """Stand-in job factories: record what was asked, run trivial job functions."""

    def __init__(self, fetched: int = 5, hold: threading.Event | None = None) -> None:
        self.fetched = fetched
        self.hold = hold
        self.calls: list[tuple[str, Any]] = []

    def train(self, request: TrainRequest) -> tuple[dict[str, Any], JobFn]:
        self.calls.append(("train", request))

        def run(ctx: JobContext) -> Mapping[str, Any]:
            if self.hold is not None:
                assert self.hold.wait(30)
            ctx.progress(1, 1, "fitted")
            return {"maps": []}

        return {"epochs": request.epochs}, run

    def crawl(self, body: schemas.CrawlJobRequest) -> tuple[dict[str, Any], JobFn]:
        self.calls.append(("crawl", body.limit))
        return {"limit": body.limit}, lambda _ctx: {"fetched": self.fetched}

    def hub_transfer(self, limit: int | None) -> tuple[dict[str, Any], JobFn]:
        self.calls.append(("hub-transfer", limit))
        return {"images_of": limit}, lambda _ctx: {"maps": []}


class _Recorder:
    def __init__(self) -> None:
        self.events: list[tuple[str, str, str]] = []

    def started(self, step: Step, job: repository.JobRecord) -> None:
        self.events.append(("started", step.kind, job.status))

    def progress(self, step: Step, job: repository.JobRecord) -> None:
        pass

    def finished(self, step: Step, job: repository.JobRecord) -> None:
        self.events.append(("finished", step.kind, job.status))

    def skipped(self, step: Step, reason: str) -> None:
        self.events.append(("skipped", step.kind, reason))


_FULL_PLAN = FirstRunPlan(
    (
        Step("train", "quick", epochs=7),
        Step("crawl", "crawl", limit=20),
        Step("train", "full", only_after_new_data=True),
    ),
    (),
)


def _run(sessions: SessionFactory, factories: _Factories, plan: FirstRunPlan = _FULL_PLAN) -> Any:
    recorder = _Recorder()
    runner = JobRunner(sessions)
    settings = _settings(map_dims=[2, 3])
    done = FirstRun(plan, settings, runner, factories, sessions, recorder).run()  # type: ignore[arg-type]
    return done, recorder.events


def test_the_steps_run_in_order_as_jobs(sessions: SessionFactory) -> None:
    factories = _Factories(fetched=5)
    done, events = _run(sessions, factories)
    assert [(j.kind, j.status) for j in done] == [
        ("train", "succeeded"),
        ("crawl", "succeeded"),
        ("train", "succeeded"),
    ]
    assert [(c[0], getattr(c[1], "epochs", c[1])) for c in factories.calls] == [
        ("train", 7),
        ("crawl", 20),
        ("train", None),  # None: the job takes T2B_TRAIN_EPOCHS
    ]
    assert {c[1].dims for c in factories.calls if c[0] == "train"} == {(2, 3)}
    assert events[0] == ("started", "train", "queued")
    with session_scope(sessions) as session:
        stored = repository.list_jobs(session)
    assert sorted(j.id for j in stored) == sorted(j.id for j in done)


def test_the_hub_transfer_step_runs_as_a_train_job_after_the_fit(sessions: SessionFactory) -> None:
    plan = FirstRunPlan(
        (*_FULL_PLAN.steps, Step("hub-transfer", "transfer", limit=20, only_after_new_data=True)),
        (),
    )
    factories = _Factories(fetched=5)
    done, _events = _run(sessions, factories, plan)
    assert [(j.kind, j.status) for j in done][-1] == ("train", "succeeded")
    assert factories.calls[-1] == ("hub-transfer", 20)
    # After a crawl that found nothing new, the transfer step is skipped like the full fit.
    quiet = _Factories(fetched=0)
    _run(sessions, quiet, plan)
    assert ("hub-transfer", 20) not in quiet.calls


def test_a_crawl_that_found_nothing_new_skips_the_full_fit(sessions: SessionFactory) -> None:
    done, events = _run(sessions, _Factories(fetched=0))
    assert [j.kind for j in done] == ["train", "crawl"]
    assert events[-1] == ("skipped", "train", "the crawl brought no new datasets")


class _BrokenCrawl(_Factories):
    """A crawl that commits one dataset, then fails as a listing that broke off does."""

    def __init__(self, sessions: SessionFactory) -> None:
        super().__init__()
        self.sessions = sessions

    def crawl(self, body: schemas.CrawlJobRequest) -> tuple[dict[str, Any], JobFn]:
        self.calls.append(("crawl", body.limit))

        def run(_ctx: JobContext) -> Mapping[str, Any]:
            with session_scope(self.sessions) as session:
                repository.save_crawl_batch(
                    session, [dataset_record("org/new")], crawled_at=datetime.now(UTC)
                )
            raise CrawlError("crawl stopped early: listing page is malformed JSON")

        return {"limit": body.limit}, run


def test_a_crawl_that_broke_off_after_committing_still_gets_the_full_fit(
    sessions: SessionFactory,
) -> None:
    factories = _BrokenCrawl(sessions)
    done, _events = _run(sessions, factories)
    assert [(j.kind, j.status) for j in done] == [
        ("train", "succeeded"),
        ("crawl", "failed"),
        ("train", "succeeded"),
    ]
    assert "malformed JSON" in (done[1].error or "")


def test_a_fit_already_running_elsewhere_is_skipped_not_doubled(sessions: SessionFactory) -> None:
    with session_scope(sessions) as session:
        other = repository.create_job(session, kind="train")
    plan = FirstRunPlan((Step("train", "quick", epochs=7), Step("crawl", "crawl", limit=2)), ())
    done, events = _run(sessions, _Factories(), plan)
    assert [j.kind for j in done] == ["crawl"]
    assert events[0][:2] == ("skipped", "train")
    assert f"job {other.id}" in events[0][2]


def test_a_stopping_runner_ends_the_plan(sessions: SessionFactory) -> None:
    hold = threading.Event()
    factories = _Factories(hold=hold)
    runner = JobRunner(sessions)
    first = FirstRun(_FULL_PLAN, _settings(), runner, factories, sessions, _Recorder())  # type: ignore[arg-type]
    thread = first.start()
    deadline = time.monotonic() + 30
    while not runner.running() and time.monotonic() < deadline:
        time.sleep(0.05)
    runner.stopping.set()
    hold.set()
    thread.join(30)
    assert not thread.is_alive()
    assert [c[0] for c in factories.calls] == ["train"]  # nothing submitted after the stop


def test_start_waits_for_its_condition(sessions: SessionFactory) -> None:
    ready = threading.Event()
    factories = _Factories()
    runner = JobRunner(sessions)
    plan = FirstRunPlan((Step("crawl", "crawl", limit=1),), ())
    thread = FirstRun(plan, _settings(), runner, factories, sessions, _Recorder()).start(  # type: ignore[arg-type]
        after=ready.is_set
    )
    thread.join(0.3)
    assert thread.is_alive() and factories.calls == []
    ready.set()
    thread.join(30)
    assert factories.calls == [("crawl", 1)]


@pytest.fixture(autouse=True)
def _no_env_file(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("T2B_CRAWL_ON_START", "T2B_FIRST_MAP_EPOCHS", "T2B_TRAIN_EPOCHS"):
        monkeypatch.delenv(name, raising=False)
