"""When a job counts as dead (`backend.jobs.lease.dead_reason`), row by row."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

from backend.db.repository import JobOwner, JobRecord
from backend.jobs.lease import dead_reason, this_process

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
ME = JobOwner(host="here", pid=os.getpid(), token="mine")
LEASE_S = 30.0


def _job(**fields: object) -> JobRecord:
    base: dict[str, object] = {
        "id": 7,
        "kind": "train",
        "status": "running",
        "params": {},
        "result": {},
        "progress": 0,
        "total": None,
        "message": None,
        "error": None,
        "owner": None,
        "created_at": NOW - timedelta(seconds=5),
        "started_at": None,
        "finished_at": None,
        "heartbeat_at": None,
    }
    return JobRecord(**(base | fields))  # type: ignore[arg-type]


def test_a_live_lease_on_another_host_is_alive_until_it_runs_out() -> None:
    owner = {"owner": "there:9:t", "owner_host": "there", "owner_pid": 9}
    fresh = _job(**owner, heartbeat_at=NOW, lease_expires_at=NOW + timedelta(seconds=1))
    assert dead_reason(fresh, me=ME, lease_s=LEASE_S, now=NOW) is None
    beat = NOW - timedelta(seconds=40)
    gone = _job(**owner, heartbeat_at=beat, lease_expires_at=beat + timedelta(seconds=30))
    assert dead_reason(gone, me=ME, lease_s=LEASE_S, now=NOW) == (
        "owner process 9 on host there stopped heartbeating at 2026-12-04T11:59:20Z; "
        "its lease ran out at 2026-12-04T11:59:50Z"
    )


def test_the_recorded_expiry_wins_over_the_readers_own_lease() -> None:
    # The owner chose a long lease; a reader configured with a short one must not cut it.
    beat = NOW - timedelta(minutes=5)
    job = _job(
        owner="there:9:t",
        owner_host="there",
        owner_pid=9,
        heartbeat_at=beat,
        lease_expires_at=NOW + timedelta(minutes=5),
    )
    assert dead_reason(job, me=ME, lease_s=1, now=NOW) is None


def test_rows_from_before_leases_read_their_owner_text_and_last_heartbeat() -> None:
    old = _job(owner="there:12", heartbeat_at=NOW - timedelta(seconds=31))
    reason = dead_reason(old, me=ME, lease_s=LEASE_S, now=NOW)
    assert reason is not None and reason.startswith("owner process 12 on host there stopped")
    assert dead_reason(old, me=ME, lease_s=60, now=NOW) is None


def test_a_queued_job_nobody_owns_dies_with_its_lease() -> None:
    queued = _job(status="queued", created_at=NOW - timedelta(minutes=2))
    reason = dead_reason(queued, me=ME, lease_s=LEASE_S, now=NOW)
    assert reason is not None and reason.startswith("its submitting process (unknown) stopped")


def test_a_dead_pid_on_this_host_is_dead_at_once_and_our_own_jobs_never_are() -> None:
    me = this_process()
    fresh = {"heartbeat_at": NOW, "lease_expires_at": NOW + timedelta(hours=1)}
    dead = _job(owner=f"{me.host}:4194305:t", owner_host=me.host, owner_pid=4194305, **fresh)
    reason = dead_reason(dead, me=me, lease_s=LEASE_S, now=NOW)
    assert reason is not None and reason.endswith("it is no longer running")
    ppid = os.getppid()  # alive: it started this test
    parent = _job(owner=f"{me.host}:{ppid}:t", owner_host=me.host, owner_pid=ppid, **fresh)
    assert dead_reason(parent, me=me, lease_s=LEASE_S, now=NOW) is None
    expired = {
        "heartbeat_at": NOW - timedelta(hours=2),
        "lease_expires_at": NOW - timedelta(hours=1),
    }
    ours = _job(owner=me.text, owner_host=me.host, owner_pid=me.pid, **expired)
    assert dead_reason(ours, me=me, lease_s=LEASE_S, now=NOW) is None
