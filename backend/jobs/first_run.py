"""What `task2box up` does after the server starts: a quick first map, a first crawl, a fit.

Every step is an ordinary job on the server's `JobRunner`, built by the same `JobFactories` as
`POST /api/jobs/crawl|train`, so the page's progress bar shows it, a concurrent
`task2box train` gets a 409 instead of a second fit, and a shutdown cancels it cleanly. The
steps run one after the other in a background thread while the page is already served.

The plan is decided once, from the database and one Hub probe:

1. No published containment map: fit a quick first map (`T2B_FIRST_MAP_EPOCHS`) on what the
   database holds (the built-in catalog on a first run), so the page has a map in about a
   minute instead of after a full fit.
2. The Hub answers, `T2B_CRAWL_ON_START` > 0 and no crawl has completed yet: crawl that many
   datasets (most downloaded first), then fit the full map (`T2B_TRAIN_EPOCHS`) if the crawl
   brought new datasets (or if there is still no map).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, Protocol

from sqlalchemy.orm import Session

from backend import schemas
from backend.config import Settings
from backend.db import repository
from backend.db.engine import SessionFactory, session_scope
from backend.errors import ConflictError, InvalidStateError
from backend.jobs.factories import JobFactories
from backend.jobs.runner import JobRunner
from backend.jobs.train import TrainRequest

log = logging.getLogger(__name__)

_POLL_S = 0.5
# Completed crawls looked at to decide whether "the first crawl" has happened.
_CRAWL_HISTORY = 20


@dataclass(frozen=True)
class Step:
    """One job of the plan."""

    kind: Literal["train", "crawl", "hub-transfer"]
    title: str
    epochs: int | None = None
    limit: int | None = None
    # A fit after a crawl is only worth it when the crawl stored something new.
    only_after_new_data: bool = False


@dataclass(frozen=True)
class FirstRunPlan:
    """The steps to run, and sentences that explain the plan to a person."""

    steps: tuple[Step, ...]
    notes: tuple[str, ...]


def completed_crawls(session: Session) -> int:
    """How many crawl jobs finished with the listing read to the end (no `error`)."""
    jobs = repository.list_jobs(session, kind="crawl", status="succeeded", limit=_CRAWL_HISTORY)
    return sum(1 for job in jobs if not job.result.get("error"))


def plan_first_run(session: Session, settings: Settings, *, hub_reachable: bool) -> FirstRunPlan:
    """Decides what `task2box up` runs in the background (see the module docstring).

    Args:
        session: a session on the app's database (read only).
        settings: crawl size and epochs.
        hub_reachable: the answer of the one Hub probe at start.
    """
    has_map = repository.get_published_map(session, relation="containment") is not None
    crawl = hub_reachable and settings.crawl_on_start > 0 and completed_crawls(session) == 0
    quick = 0 < settings.first_map_epochs < settings.train_epochs
    steps: list[Step] = []
    notes: list[str] = []
    if not has_map:
        if quick:
            steps.append(
                Step(
                    "train",
                    f"quick first map ({settings.first_map_epochs} epochs)",
                    epochs=settings.first_map_epochs,
                )
            )
            notes.append(
                "No map is published yet: a quick first map is trained in the background; "
                "the page shows its progress and draws it when it is ready."
            )
        elif not crawl:
            steps.append(Step("train", f"first map ({settings.train_epochs} epochs)"))
            notes.append(
                "No map is published yet: the first map is trained in the background; the "
                "page shows its progress and draws it when it is ready."
            )
    if crawl:
        steps.append(
            Step(
                "crawl",
                f"first crawl of the Hub ({settings.crawl_on_start} datasets)",
                limit=settings.crawl_on_start,
            )
        )
        steps.append(
            Step(
                "train",
                f"full map ({settings.train_epochs} epochs)",
                only_after_new_data=has_map or quick,
            )
        )
        notes.append(
            f"First crawl: the {settings.crawl_on_start} most downloaded image-classification "
            "datasets, then a full fit of the map."
        )
        if settings.transfer_on_start:
            steps.append(
                Step(
                    "hub-transfer",
                    f"transfer estimated from the images of {settings.crawl_on_start} datasets",
                    limit=settings.crawl_on_start,
                    only_after_new_data=has_map or quick,
                )
            )
            notes.append(
                "Then transfer between them, estimated from a few images of each, and a "
                "transfer map fitted to it (T2B_TRANSFER_ON_START)."
            )
    return FirstRunPlan(tuple(steps), tuple(notes))


class Observer(Protocol):
    """Told about each step (the CLI draws progress bars from this)."""

    def started(self, step: Step, job: repository.JobRecord) -> None: ...

    def progress(self, step: Step, job: repository.JobRecord) -> None: ...

    def finished(self, step: Step, job: repository.JobRecord) -> None: ...

    def skipped(self, step: Step, reason: str) -> None: ...


class LogObserver:
    """Logs each step's start and end (progress itself is logged by the jobs)."""

    def started(self, step: Step, job: repository.JobRecord) -> None:
        log.info("first run: %s started (job %d)", step.title, job.id)

    def progress(self, step: Step, job: repository.JobRecord) -> None:
        pass

    def finished(self, step: Step, job: repository.JobRecord) -> None:
        if job.status == "succeeded":
            log.info("first run: %s done (job %d)", step.title, job.id)
        else:
            log.warning("first run: %s %s (job %d): %s", step.title, job.status, job.id, job.error)

    def skipped(self, step: Step, reason: str) -> None:
        log.info("first run: %s skipped: %s", step.title, reason)


class FirstRun:
    """Runs a plan's steps as jobs, one after the other.

    Args:
        plan: what to run.
        settings: the app's settings (map dimensions).
        runner: the server's job runner.
        factories: the server's job factories (their hooks warm the map cache).
        sessions: the app's session factory.
        observer: told about each step; defaults to log lines.
    """

    def __init__(
        self,
        plan: FirstRunPlan,
        settings: Settings,
        runner: JobRunner,
        factories: JobFactories,
        sessions: SessionFactory,
        observer: Observer | None = None,
    ) -> None:
        self.plan = plan
        self.settings = settings
        self.runner = runner
        self.factories = factories
        self.sessions = sessions
        self.observer = observer or LogObserver()

    def start(self, after: Callable[[], bool] | None = None) -> threading.Thread:
        """Runs the plan in a daemon thread, once `after()` is true (the server is up)."""

        def body() -> None:
            while after is not None and not after():
                if self.runner.stopping.wait(0.05):
                    return
            self.run()

        thread = threading.Thread(target=body, name="first-run", daemon=True)
        thread.start()
        return thread

    def run(self) -> list[repository.JobRecord]:
        """Runs every step in order; returns the finished jobs. Stops when the runner does."""
        done: list[repository.JobRecord] = []
        new_data = False
        for step in self.plan.steps:
            if self.runner.stopping.is_set():
                break
            if step.only_after_new_data and not new_data:
                self.observer.skipped(step, "the crawl brought no new datasets")
                continue
            stored_before = self._usable_datasets() if step.kind == "crawl" else 0
            try:
                job = self._submit(step)
            except ConflictError as e:  # someone else is already crawling or fitting
                self.observer.skipped(step, str(e))
                continue
            except InvalidStateError:  # the runner began shutting down
                break
            self.observer.started(step, job)
            while not self.runner.wait(job.id, timeout=_POLL_S):
                self.observer.progress(step, self._job(job.id))
            final = self._job(job.id)
            self.observer.finished(step, final)
            done.append(final)
            if step.kind == "crawl" and final.status == "succeeded":
                new_data = int(final.result.get("fetched", 0)) > 0
            elif step.kind == "crawl":
                # A crawl whose listing broke off fails, but keeps the batches it committed:
                # those deserve the full fit as much as a completed crawl's.
                new_data = self._usable_datasets() > stored_before
        return done

    def _submit(self, step: Step) -> repository.JobRecord:
        if step.kind == "crawl":
            params, fn = self.factories.crawl(schemas.CrawlJobRequest(limit=step.limit))
            return self.runner.submit("crawl", fn, params=params, total=step.limit)
        if step.kind == "hub-transfer":
            params, fn = self.factories.hub_transfer(step.limit)
            return self.runner.submit("train", fn, params=params)
        request = TrainRequest(
            relation="containment", dims=tuple(self.settings.map_dims), epochs=step.epochs
        )
        params, fn = self.factories.train(request)
        return self.runner.submit("train", fn, params=params)

    def _usable_datasets(self) -> int:
        with session_scope(self.sessions) as session:
            return repository.count_datasets(session).ok

    def _job(self, job_id: int) -> repository.JobRecord:
        with session_scope(self.sessions) as session:
            job = repository.get_job(session, job_id=job_id)
        if job is None:  # rows are never deleted; this would be a bug
            raise InvalidStateError(f"job {job_id} vanished from the database")
        return job
