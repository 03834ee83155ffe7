"""Runs background jobs off the request path, one worker thread per job, progress persisted.

A job's life is recorded through the repository: `create_job` (the database refuses a second
active job of a kind, even from another process: 409), `claim_job` by the worker thread,
throttled progress updates, then `finish_job` or `fail_job`. A monitor thread heartbeats the
jobs this process runs and fails jobs whose process died, so a crash shows as a failed job and
never as one running forever. On shutdown the runner asks its jobs to stop at their next
progress report (they fail as "cancelled") and waits for them a bounded time.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from backend.db import repository
from backend.db.engine import SessionFactory, session_scope
from backend.errors import AtlasError, InvalidStateError

log = logging.getLogger(__name__)

# Persist progress at most this often: a 1350-epoch fit must not cost 1350 commits.
_PROGRESS_EVERY_S = 0.5
_HEARTBEAT_EVERY_S = 10.0
# A job whose heartbeat is older than this belongs to a dead process (live ones beat every 10 s).
STALE_AFTER_S = 90.0
CANCELLED_MESSAGE = "cancelled: the process running this job shut down"


class JobCancelled(AtlasError):
    """Raised inside a job (at a progress report) when the runner is stopping."""

    code = "cancelled"


def process_owner() -> str:
    """`host:pid:token` of this process; the token tells a restarted pid 1 from its past self."""
    return f"{socket.gethostname()[:120]}:{os.getpid()}:{secrets.token_hex(4)}"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def _owner_dead(owner: str | None, me: str) -> bool:
    """Whether `owner` is certainly a process of this host that no longer runs."""
    if owner is None or owner == me:
        return False
    host, _, rest = owner.partition(":")
    pid_text, _, _token = rest.partition(":")
    if host != me.split(":", 1)[0] or not pid_text.isdigit():
        return False  # another machine: only its heartbeat can tell
    pid = int(pid_text)
    return pid == os.getpid() or not _pid_alive(pid)


def recover_interrupted_jobs(
    sessions: SessionFactory, *, owner: str, stale_after_s: float = STALE_AFTER_S
) -> int:
    """Fails the jobs whose process died; returns how many.

    A job is dead when its owner is a process of this host that no longer runs (or this very
    pid from before a restart), when it never got an owner and is older than `stale_after_s`,
    or when its heartbeat is older than `stale_after_s` (a process elsewhere that died).
    """
    cutoff = datetime.now(UTC) - timedelta(seconds=stale_after_s)
    failed = 0
    with session_scope(sessions) as session:
        for job in repository.list_active_jobs(session):
            last_sign = job.heartbeat_at or job.created_at
            if _owner_dead(job.owner, owner) or last_sign < cutoff:
                repository.fail_job(session, job_id=job.id, error=repository.INTERRUPTED_MESSAGE)
                log.warning("job %d (%s) was interrupted; marked failed", job.id, job.kind)
                failed += 1
    return failed


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
                    session, job_id=self.job_id, progress=done, total=total, message=message
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
        owner: this process's `process_owner()`.
        heartbeat_s: how often running jobs are marked alive and dead ones swept.
    """

    def __init__(
        self,
        sessions: SessionFactory,
        *,
        owner: str | None = None,
        heartbeat_s: float = _HEARTBEAT_EVERY_S,
    ) -> None:
        self.sessions = sessions
        self.owner = owner or process_owner()
        self.stopping = threading.Event()
        self._heartbeat_s = heartbeat_s
        self._lock = threading.Lock()
        self._threads: dict[int, threading.Thread] = {}
        self._monitor: threading.Thread | None = None

    def submit(
        self,
        kind: str,
        fn: JobFn,
        *,
        params: Mapping[str, Any] | None = None,
        total: int | None = None,
    ) -> repository.JobRecord:
        """Queues a job and starts its worker thread; returns the queued job.

        Raises:
            ConflictError: if a job of this kind is already queued or running (anywhere).
            InvalidStateError: if the runner is shutting down.
        """
        if self.stopping.is_set():
            raise InvalidStateError("the job runner is shutting down")
        with session_scope(self.sessions) as session:
            job = repository.create_job(session, kind=kind, params=params, total=total)
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
                job = repository.claim_job(session, job_id=job_id, owner=self.owner)
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
            error = str(e) if isinstance(e, AtlasError) else f"{type(e).__name__}: {e}"
            log.log(
                logging.WARNING if isinstance(e, AtlasError) else logging.ERROR,
                "job %d failed: %s",
                job_id,
                error,
                exc_info=not isinstance(e, AtlasError),
            )
            try:
                with session_scope(self.sessions) as session:
                    repository.fail_job(session, job_id=job_id, error=error or type(e).__name__)
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
                    repository.heartbeat_jobs(session, job_ids=ids)
                recover_interrupted_jobs(self.sessions, owner=self.owner)
            except Exception:  # a locked database must not kill the monitor
                log.exception("job heartbeat failed")
            with self._lock:
                if not self._threads:
                    self._monitor = None
                    return
