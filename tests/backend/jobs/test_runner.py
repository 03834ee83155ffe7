"""The job runner: worker threads, persisted progress, conflicts, cancellation, recovery."""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from backend.db import repository
from backend.db.engine import SessionFactory, session_scope
from backend.errors import ConflictError, NotFoundError
from backend.jobs.runner import (
    CANCELLED_MESSAGE,
    JobContext,
    JobRunner,
    process_owner,
    recover_interrupted_jobs,
)

WAIT_S = 60.0


def _waiting_on(event: threading.Event) -> Any:
    def work(_ctx: JobContext) -> None:
        assert event.wait(WAIT_S)

    return work


def _job(sessions: SessionFactory, job_id: int) -> repository.JobRecord:
    with session_scope(sessions) as session:
        job = repository.get_job(session, job_id=job_id)
    assert job is not None
    return job


def test_a_job_runs_in_a_thread_and_its_result_is_stored(sessions: SessionFactory) -> None:
    runner = JobRunner(sessions)
    threads: list[str] = []

    def work(ctx: JobContext) -> Mapping[str, Any]:
        threads.append(threading.current_thread().name)
        for i in range(1, 1001):
            ctx.progress(i, 1000, f"step {i}")
        return {"answer": 42, "params": ctx.params}

    queued = runner.submit("train", work, params={"dims": [2]})
    assert queued.status == "queued"
    assert runner.wait(queued.id, WAIT_S)
    job = _job(sessions, queued.id)
    assert job.status == "succeeded" and job.error is None
    assert job.result == {"answer": 42, "params": {"dims": [2]}}
    assert (job.progress, job.total) == (1000, 1000)
    assert job.owner == runner.owner and job.started_at and job.finished_at
    assert threads == [f"job-{queued.id}-train"]


def test_progress_is_throttled(sessions: SessionFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    writes: list[int] = []
    real = repository.update_job_progress

    def counting(session: Any, **kw: Any) -> None:
        writes.append(kw["progress"])
        real(session, **kw)

    monkeypatch.setattr(repository, "update_job_progress", counting)
    runner = JobRunner(sessions)

    def work(ctx: JobContext) -> None:
        for i in range(1, 2001):
            ctx.progress(i, 2000)

    job = runner.submit("train", work)
    assert runner.wait(job.id, WAIT_S)
    assert writes[-1] == 2000 and len(writes) < 100


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (NotFoundError("no map with id 3"), "no map with id 3"),
        (ValueError("bad"), "ValueError: bad"),
    ],
)
def test_a_failing_job_is_recorded_as_failed(
    sessions: SessionFactory, error: Exception, expected: str
) -> None:
    runner = JobRunner(sessions)

    def work(_ctx: JobContext) -> None:
        raise error

    job = runner.submit("crawl", work)
    assert runner.wait(job.id, WAIT_S)
    failed = _job(sessions, job.id)
    assert (failed.status, failed.error) == ("failed", expected)
    # The kind is free again.
    again = runner.submit("crawl", lambda _ctx: None)
    assert runner.wait(again.id, WAIT_S) and _job(sessions, again.id).status == "succeeded"


def test_one_active_job_per_kind(sessions: SessionFactory) -> None:
    runner = JobRunner(sessions)
    release = threading.Event()
    job = runner.submit("train", _waiting_on(release))
    with pytest.raises(ConflictError, match=f"job {job.id}"):
        runner.submit("train", lambda _ctx: None)
    other = runner.submit("crawl", lambda _ctx: None)  # another kind may run meanwhile
    assert runner.wait(other.id, WAIT_S)
    release.set()
    assert runner.wait(job.id, WAIT_S)


def test_shutdown_cancels_jobs_at_their_next_progress_report(sessions: SessionFactory) -> None:
    runner = JobRunner(sessions)
    started = threading.Event()

    def work(ctx: JobContext) -> None:
        started.set()
        while True:  # a fit that only stops when told to
            ctx.progress(1, None)

    job = runner.submit("train", work)
    assert started.wait(WAIT_S)
    runner.shutdown(timeout=WAIT_S)
    assert not runner.running()
    cancelled = _job(sessions, job.id)
    assert (cancelled.status, cancelled.error) == ("failed", CANCELLED_MESSAGE)


def test_a_job_failed_from_outside_stops_itself(sessions: SessionFactory) -> None:
    runner = JobRunner(sessions)
    started, failed = threading.Event(), threading.Event()

    def work(ctx: JobContext) -> None:
        started.set()
        assert failed.wait(WAIT_S)
        ctx.progress(2, 2)  # the row is no longer running: this raises

    job = runner.submit("train", work)
    assert started.wait(WAIT_S)
    with session_scope(sessions) as session:
        repository.fail_job(session, job_id=job.id, error="swept")
    failed.set()
    assert runner.wait(job.id, WAIT_S)
    assert _job(sessions, job.id).error == "swept"


def test_the_monitor_heartbeats_running_jobs(sessions: SessionFactory) -> None:
    runner = JobRunner(sessions, heartbeat_s=0.02)
    release = threading.Event()
    job = runner.submit("train", _waiting_on(release))
    first = None
    for _ in range(10_000):
        beat = _job(sessions, job.id).heartbeat_at
        first = first or beat
        if first and beat and beat > first:
            break
        release.wait(0.01)
    else:
        pytest.fail("no heartbeat")
    release.set()
    assert runner.wait(job.id, WAIT_S)


def _claimed(sessions: SessionFactory, kind: str, owner: str, beat: datetime | None = None) -> int:
    with session_scope(sessions) as session:
        job = repository.create_job(session, kind=kind)
        repository.claim_job(session, job_id=job.id, owner=owner)
    if beat is not None:
        from sqlalchemy import update

        from backend.db.tables import Job

        with session_scope(sessions) as session:
            session.execute(update(Job).where(Job.id == job.id).values(heartbeat_at=beat))
            session.commit()
    return job.id


def test_recovery_fails_only_jobs_of_dead_processes(sessions: SessionFactory) -> None:
    host = socket.gethostname()
    me = process_owner()
    long_ago = datetime.now(UTC) - timedelta(hours=2)
    dead = _claimed(sessions, "a", f"{host}:4194305:t")  # above the kernel's pid_max
    restarted = _claimed(sessions, "b", f"{host}:{os.getpid()}:old")  # pid 1 in a container
    alive = _claimed(sessions, "c", f"{host}:{os.getppid()}:t")  # e.g. a CLI fit beside us
    remote_fresh = _claimed(sessions, "d", "elsewhere:9:t")
    remote_stale = _claimed(sessions, "e", "elsewhere:9:u", beat=long_ago)
    local_stale = _claimed(sessions, "f", f"{host}:{os.getppid()}:u", beat=long_ago)

    assert recover_interrupted_jobs(sessions, owner=me) == 4
    status = {i: _job(sessions, i).status for i in (dead, restarted, alive)}
    status |= {i: _job(sessions, i).status for i in (remote_fresh, remote_stale, local_stale)}
    assert status == {
        dead: "failed",
        restarted: "failed",
        alive: "running",
        remote_fresh: "running",
        remote_stale: "failed",
        local_stale: "failed",
    }
    assert _job(sessions, dead).error == repository.INTERRUPTED_MESSAGE
    assert recover_interrupted_jobs(sessions, owner=me) == 0


def test_a_failure_the_full_disk_cannot_record_is_one_log_line(
    sessions: SessionFactory, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from backend.errors import StorageError
    from backend.jobs import runner as runner_module

    def full_disk(*_args: Any, **_kwargs: Any) -> None:
        raise StorageError("database or disk is full: /data/atlas.db cannot grow")

    def broken(_ctx: JobContext) -> None:
        raise StorageError("database or disk is full: /data/atlas.db cannot grow")

    monkeypatch.setattr(runner_module.repository, "fail_job", full_disk)
    runner = JobRunner(sessions)
    job = runner.submit("train", broken)
    assert runner.wait(job.id, timeout=60)
    records = [r for r in caplog.records if "could not record the failure" in r.getMessage()]
    assert len(records) == 1
    assert "database or disk is full" in records[0].getMessage()
    assert records[0].exc_info is None  # the cause in one line, no traceback
