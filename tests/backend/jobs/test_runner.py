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
from backend.jobs.lease import this_process
from backend.jobs.runner import (
    CANCELLED_MESSAGE,
    JobContext,
    JobRunner,
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
    assert (
        job.owner == runner.owner.text
        and job.owner_pid == os.getpid()
        and job.started_at
        and job.finished_at
    )
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
        # The job list is public: an unexpected error shows its type, the log the rest.
        (ValueError("bad /srv/secret"), "internal error (ValueError); see the server log"),
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


def _claimed(
    sessions: SessionFactory,
    kind: str,
    owner: repository.JobOwner,
    beat: datetime | None = None,
    lease_s: float | None = 30.0,
) -> int:
    with session_scope(sessions) as session:
        job = repository.create_job(session, kind=kind)
        repository.claim_job(session, job_id=job.id, owner=owner, lease_s=lease_s)
    if beat is not None:
        from sqlalchemy import update

        from backend.db.tables import Job

        with session_scope(sessions) as session:
            values = {"heartbeat_at": beat, "lease_expires_at": beat + timedelta(seconds=30)}
            session.execute(update(Job).where(Job.id == job.id).values(**values))
            session.commit()
    return job.id


def test_recovery_fails_only_jobs_of_dead_processes(sessions: SessionFactory) -> None:
    host = socket.gethostname()
    me = this_process()
    long_ago = datetime.now(UTC) - timedelta(hours=2)
    owner = repository.JobOwner
    dead = _claimed(sessions, "a", owner(host, 4194305, "t"))  # above the kernel's pid_max
    restarted = _claimed(sessions, "b", owner(host, os.getpid(), "old"))  # pid 1 in a container
    alive = _claimed(sessions, "c", owner(host, os.getppid(), "t"))  # e.g. a CLI fit beside us
    remote_fresh = _claimed(sessions, "d", owner("elsewhere", 9, "t"))
    remote_stale = _claimed(sessions, "e", owner("elsewhere", 9, "u"), beat=long_ago)
    local_stale = _claimed(sessions, "f", owner(host, os.getppid(), "u"), beat=long_ago)
    mine = _claimed(sessions, "g", me, beat=long_ago)  # this process renews its own leases

    assert recover_interrupted_jobs(sessions, owner=me) == 4
    ids = (dead, restarted, alive, remote_fresh, remote_stale, local_stale, mine)
    status = {i: _job(sessions, i).status for i in ids}
    assert status == {
        dead: "failed",
        restarted: "failed",
        alive: "running",
        remote_fresh: "running",
        remote_stale: "failed",
        local_stale: "failed",
        mine: "running",
    }
    error = _job(sessions, dead).error or ""
    assert error.startswith(f"interrupted: owner process 4194305 on host {host} stopped ")
    assert error.endswith("it is no longer running")
    assert "that pid is a new process now" in (_job(sessions, restarted).error or "")
    stale_error = _job(sessions, remote_stale).error or ""
    when = long_ago.isoformat(timespec="seconds").replace("+00:00", "Z")
    assert f"owner process 9 on host elsewhere stopped heartbeating at {when}" in stale_error
    assert recover_interrupted_jobs(sessions, owner=me) == 0


def test_a_submit_fails_the_dead_job_of_its_kind_and_proceeds(sessions: SessionFactory) -> None:
    host = socket.gethostname()
    dead = _claimed(sessions, "train", repository.JobOwner(host, 4194305, "t"))
    runner = JobRunner(sessions)
    job = runner.submit("train", lambda _ctx: {"ok": True})
    assert runner.wait(job.id, WAIT_S)
    assert _job(sessions, job.id).status == "succeeded"
    assert _job(sessions, dead).status == "failed"


def test_a_submit_still_conflicts_with_a_live_job_of_another_process(
    sessions: SessionFactory,
) -> None:
    alive = _claimed(sessions, "train", repository.JobOwner("elsewhere", 9, "t"))
    with pytest.raises(ConflictError, match=f"job {alive}"):
        JobRunner(sessions).submit("train", lambda _ctx: None)


def test_a_lease_that_ran_out_fails_the_job_and_the_map_it_was_training(
    sessions: SessionFactory,
) -> None:
    job_id = _claimed(sessions, "train", repository.JobOwner("elsewhere", 9, "t"), lease_s=0.05)
    with session_scope(sessions) as session:
        training = repository.create_map(
            session, relation="containment", dim=2, representation="t", job_id=job_id
        )
        other = repository.create_map(session, relation="containment", dim=3, representation="t")
    threading.Event().wait(0.2)  # the lease runs out
    assert recover_interrupted_jobs(sessions) == 1
    with session_scope(sessions) as session:
        failed = repository.get_map(session, map_id=training.id)
        untouched = repository.get_map(session, map_id=other.id)
    assert failed is not None and failed.status == "failed"
    assert failed.error and "owner process 9 on host elsewhere stopped heartbeating" in failed.error
    assert untouched is not None and untouched.status == "training"  # not this job's map


def test_the_monitor_renews_the_lease(sessions: SessionFactory) -> None:
    runner = JobRunner(sessions, heartbeat_s=0.02, lease_s=0.5)
    release = threading.Event()
    job = runner.submit("train", _waiting_on(release))
    first = None
    for _ in range(10_000):
        lease = _job(sessions, job.id).lease_expires_at
        first = first or lease
        if first and lease and lease > first:
            break
        release.wait(0.01)
    else:
        pytest.fail("the lease was never renewed")
    release.set()
    assert runner.wait(job.id, WAIT_S)
    assert _job(sessions, job.id).status == "succeeded"


def test_a_lease_must_outlast_two_heartbeats(sessions: SessionFactory) -> None:
    with pytest.raises(ValueError, match="at least twice"):
        JobRunner(sessions, heartbeat_s=10, lease_s=15)


def test_a_job_that_raises_fails_the_map_it_was_training(sessions: SessionFactory) -> None:
    # A crash between creating a map and finishing it (outside the fit's own error handling)
    # must not leave the map `training`: failing the job fails it.
    runner = JobRunner(sessions)
    created: list[int] = []

    def work(ctx: JobContext) -> None:
        with session_scope(sessions) as session:
            record = repository.create_map(
                session, relation="containment", dim=2, representation="t", job_id=ctx.job_id
            )
        created.append(record.id)
        raise RuntimeError("the disk went away")

    job = runner.submit("train", work)
    assert runner.wait(job.id, WAIT_S)
    reason = "internal error (RuntimeError); see the server log"  # public: never the raw text
    assert _job(sessions, job.id).error == reason
    with session_scope(sessions) as session:
        failed = repository.get_map(session, map_id=created[0])
    assert failed is not None and failed.status == "failed"
    assert failed.error == f"its train job failed: {reason}"


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
