"""Runs background jobs off the request path, one worker thread per job, progress persisted.

A job's life is recorded through the repository: `create_job` (the database refuses a second
active job of a kind, even from another process: 409), `claim_job` by the worker thread,
throttled progress updates, then `finish_job` or `fail_job`. Each job holds a liveness lease
(`backend.jobs.lease`): a monitor thread renews the leases of the jobs this process runs every
`heartbeat_s`, and `submit` first fails the jobs of its kind whose owner died, so a killed
`task2box train` never blocks the next fit. On shutdown the runner asks its jobs to stop at
their next progress report (they fail as "cancelled") and waits for them a bounded time.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from backend.config import Settings
from backend.db import repository
from backend.db.engine import SessionFactory, session_scope
from backend.db.repository import JobOwner
from backend.errors import AtlasError, InvalidStateError, public_reason
from backend.jobs.lease import sweep_dead_jobs, this_process

log = logging.getLogger(__name__)

# Persist progress at most this often: a 1350-epoch fit must not cost 1350 commits.
_PROGRESS_EVERY_S = 0.5
DEFAULT_HEARTBEAT_S: float = Settings.model_fields["job_heartbeat_s"].default
DEFAULT_LEASE_S: float = Settings.model_fields["job_lease_s"].default
CANCELLED_MESSAGE = "cancelled: the process running this job shut down"


class JobCancelled(AtlasError):
    """Raised inside a job (at a progress report) when the runner is stopping."""

    code = "cancelled"


def recover_interrupted_jobs(
    sessions: SessionFactory, *, owner: JobOwner | None = None, lease_s: float = DEFAULT_LEASE_S
) -> int:
    """Fails the jobs whose process died (`backend.jobs.lease.dead_reason`); returns how many."""
    with session_scope(sessions) as session:
        return len(sweep_dead_jobs(session, me=owner or this_process(), lease_s=lease_s))


@dataclass
class JobContext:
    """What a running job gets: its id and parameters, and a progress reporter."""

    job_id: int
    params: dict[str, Any]
    _runner: JobRunner
    _last: float = field(default=0.0)
    kind: str = "job"
    _logged_tenth: int = field(default=-1)

    def progress(self, done: int, total: int | None = None, message: str | None = None) -> None:
        """Reports progress; persisted at most every 0.5 s (and always when done == total).

        Each tenth of the way is also logged at INFO, so `docker logs` shows a long job moving.

        Raises:
            JobCancelled: if the runner is shutting down or the job was failed meanwhile.
        """
        if self._runner.stopping.is_set():
            raise JobCancelled(CANCELLED_MESSAGE)
        now = time.monotonic()
        if now - self._last < _PROGRESS_EVERY_S and (total is None or done < total):
            return
        self._last = now
        self._log(done, total, message)
        try:
            with session_scope(self._runner.sessions) as session:
                repository.update_job_progress(
                    session,
                    job_id=self.job_id,
                    progress=done,
                    total=total,
                    message=message,
                    lease_s=self._runner.lease_s,
                )
        except InvalidStateError as e:  # failed by a sweeper: stop wasting the machine
            raise JobCancelled(f"job {self.job_id} is no longer running: {e}") from e

    def _log(self, done: int, total: int | None, message: str | None) -> None:
        tenth = min(10, done * 10 // total) if total else -1
        level = logging.INFO if tenth > self._logged_tenth else logging.DEBUG
        if tenth > self._logged_tenth:
            self._logged_tenth = tenth
        if log.isEnabledFor(level):
            where = f"{done}/{total}" if total else str(done)
            log.log(level, "job %d (%s) %s: %s", self.job_id, self.kind, where, message or "")


JobFn = Callable[[JobContext], Mapping[str, Any] | None]


class JobRunner:
    """Starts jobs in worker threads and keeps their database rows honest.

    Args:
        sessions: the session factory jobs and bookkeeping use.
        owner: this process (`backend.jobs.lease.this_process()`).
        heartbeat_s: how often the leases of running jobs are renewed and dead ones swept
            (`Settings.job_heartbeat_s`).
        lease_s: how long a lease lasts after a renewal (`Settings.job_lease_s`).
    """

    def __init__(
        self,
        sessions: SessionFactory,
        *,
        owner: JobOwner | None = None,
        heartbeat_s: float = DEFAULT_HEARTBEAT_S,
        lease_s: float = DEFAULT_LEASE_S,
    ) -> None:
        if not 0 < 2 * heartbeat_s <= lease_s:
            raise ValueError(
                f"lease_s must be at least twice heartbeat_s > 0, got {lease_s} and {heartbeat_s}"
            )
        self.sessions = sessions
        self.owner = owner or this_process()
        self.lease_s = lease_s
        self.stopping = threading.Event()
        self._heartbeat_s = heartbeat_s
        self._lock = threading.Lock()
        self._threads: dict[int, threading.Thread] = {}
        self._monitor: threading.Thread | None = None

    @classmethod
    def for_settings(cls, sessions: SessionFactory, settings: Settings) -> JobRunner:
        """A runner with the heartbeat and lease of `settings`."""
        return cls(sessions, heartbeat_s=settings.job_heartbeat_s, lease_s=settings.job_lease_s)

    def sweep(self, session: Session, *, kind: str | None = None) -> list[repository.JobRecord]:
        """Fails the active jobs (of `kind`) whose owner stopped; see `sweep_dead_jobs`."""
        return sweep_dead_jobs(session, me=self.owner, lease_s=self.lease_s, kind=kind)

    def submit(
        self,
        kind: str,
        fn: JobFn,
        *,
        params: Mapping[str, Any] | None = None,
        total: int | None = None,
    ) -> repository.JobRecord:
        """Queues a job and starts its worker thread; returns the queued job.

        A job of this kind left active by a process that died is failed first, so it never
        blocks this one.

        Raises:
            ConflictError: if a job of this kind is already queued or running (anywhere) and
                its owner is alive.
            InvalidStateError: if the runner is shutting down.
        """
        if self.stopping.is_set():
            raise InvalidStateError("the job runner is shutting down")
        with session_scope(self.sessions) as session:
            self.sweep(session, kind=kind)
            job = repository.create_job(
                session,
                kind=kind,
                params=params,
                total=total,
                owner=self.owner,
                lease_s=self.lease_s,
            )
        thread = threading.Thread(
            target=self._run, args=(job.id, fn), name=f"job-{job.id}-{kind}", daemon=True
        )
        with self._lock:
            self._threads[job.id] = thread
            self._ensure_monitor()
        thread.start()
        return job

    def wait(self, job_id: int, timeout: float | None = None) -> bool:
        """Waits for a job this runner started; True if it ended within `timeout`."""
        with self._lock:
            thread = self._threads.get(job_id)
        if thread is None:
            return True
        thread.join(timeout)
        return not thread.is_alive()

    def running(self) -> list[int]:
        """Ids of the jobs whose threads are alive in this process."""
        with self._lock:
            return [i for i, t in self._threads.items() if t.is_alive()]

    def shutdown(self, timeout: float = 10.0) -> None:
        """Asks every job to stop and waits up to `timeout` seconds in all."""
        self.stopping.set()
        deadline = time.monotonic() + timeout
        with self._lock:
            threads = list(self._threads.values())
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        if self._monitor is not None:
            self._monitor.join(max(0.0, deadline - time.monotonic()))

    def _run(self, job_id: int, fn: JobFn) -> None:
        try:
            with session_scope(self.sessions) as session:
                job = repository.claim_job(
                    session, job_id=job_id, owner=self.owner, lease_s=self.lease_s
                )
            if job is None:
                log.warning("job %d was taken or failed before it started", job_id)
                return
            log.info("job %d (%s) started", job_id, job.kind)
            params = dict(job.params)
            result = fn(JobContext(job_id=job_id, params=params, _runner=self, kind=job.kind))
            with session_scope(self.sessions) as session:
                repository.finish_job(
                    session, job_id=job_id, message="done", result=dict(result or {})
                )
            log.info("job %d (%s) succeeded", job_id, job.kind)
        except BaseException as e:  # a job's failure is recorded, never lost in a thread
            log.log(
                logging.WARNING if isinstance(e, AtlasError) else logging.ERROR,
                "job %d failed: %s",
                job_id,
                str(e) if isinstance(e, AtlasError) else f"{type(e).__name__}: {e}",
                exc_info=not isinstance(e, AtlasError),
            )
            try:
                # `GET /api/jobs` is public: it shows the short reason, the log the rest.
                with session_scope(self.sessions) as session:
                    repository.fail_job(session, job_id=job_id, error=public_reason(e))
            except AtlasError as record_error:  # a full disk: its own line says it all
                log.error("could not record the failure of job %d: %s", job_id, record_error)
            except Exception:
                log.exception("could not record the failure of job %d", job_id)
        finally:
            with self._lock:
                self._threads.pop(job_id, None)

    def _ensure_monitor(self) -> None:
        if self._monitor is None or not self._monitor.is_alive():
            self._monitor = threading.Thread(target=self._watch, name="job-monitor", daemon=True)
            self._monitor.start()

    def _watch(self) -> None:
        while not self.stopping.wait(self._heartbeat_s):
            try:
                ids = self.running()
                with session_scope(self.sessions) as session:
                    repository.heartbeat_jobs(session, job_ids=ids, lease_s=self.lease_s)
                    self.sweep(session)
            except Exception:  # a locked database must not kill the monitor
                log.exception("job heartbeat failed")
            with self._lock:
                if not self._threads:
                    self._monitor = None
                    return
