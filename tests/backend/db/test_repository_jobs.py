"""Jobs: one active per kind, progress persisted, interrupted ones failed on startup."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from backend.db import repository as repo
from backend.db.repository._common import utcnow
from backend.errors import ConflictError, InvalidStateError, NotFoundError


def test_job_life_cycle(session: Session) -> None:
    job = repo.create_job(session, kind="crawl", params={"limit": 10})
    assert job.status == "queued" and job.params == {"limit": 10}
    owner = repo.JobOwner(host="host", pid=1, token="t")
    claimed = repo.claim_job(session, job_id=job.id, owner=owner, lease_s=30)
    assert claimed is not None and claimed.status == "running" and claimed.owner == "host:1:t"
    assert (claimed.owner_host, claimed.owner_pid) == ("host", 1)
    assert claimed.lease_expires_at is not None and claimed.heartbeat_at is not None
    assert claimed.lease_expires_at - claimed.heartbeat_at == timedelta(seconds=30)
    assert repo.claim_job(session, job_id=job.id) is None  # already taken

    repo.update_job_progress(session, job_id=job.id, progress=3, total=10, message="fetching")
    mid = repo.get_job(session, job_id=job.id)
    assert mid is not None and (mid.progress, mid.total, mid.message) == (3, 10, "fetching")
    assert mid.heartbeat_at is not None

    done = repo.finish_job(session, job_id=job.id, message="done", result={"fetched": 10})
    assert done.status == "succeeded" and done.progress == 10 and done.result == {"fetched": 10}
    assert done.finished_at is not None
    assert repo.get_active_job(session, kind="crawl") is None
    with pytest.raises(InvalidStateError, match="succeeded"):
        repo.update_job_progress(session, job_id=job.id, progress=1)


def test_a_second_active_job_of_a_kind_conflicts(session: Session) -> None:
    first = repo.create_job(session, kind="crawl")
    with pytest.raises(ConflictError, match="already queued"):
        repo.create_job(session, kind="crawl")
    repo.create_job(session, kind="train")  # other kinds are independent
    repo.claim_job(session, job_id=first.id)
    repo.fail_job(session, job_id=first.id, error="hub unreachable")
    again = repo.create_job(session, kind="crawl")
    assert [j.id for j in repo.list_jobs(session, kind="crawl")] == [again.id, first.id]
    failed = repo.get_job(session, job_id=first.id)
    assert failed is not None and failed.status == "failed" and failed.error == "hub unreachable"


def test_the_database_itself_refuses_two_active_jobs_of_a_kind(session: Session) -> None:
    # Simulates the race: both processes passed the check, the unique index decides.
    from sqlalchemy.exc import IntegrityError

    from backend.db.tables import Job

    now = utcnow()
    session.add_all(
        [
            Job(kind="crawl", status=s, params={}, result={}, progress=0, created_at=now)
            for s in ("queued", "running")
        ]
    )
    with pytest.raises(IntegrityError):
        session.commit()


def test_fail_interrupted_jobs(session: Session) -> None:
    stale = repo.create_job(session, kind="crawl")
    repo.claim_job(session, job_id=stale.id)
    queued = repo.create_job(session, kind="train")
    done = repo.create_job(session, kind="represent")
    repo.claim_job(session, job_id=done.id)
    repo.finish_job(session, job_id=done.id)

    # A heartbeat cutoff in the past spares jobs that beat since.
    assert repo.fail_interrupted_jobs(session, heartbeat_before=utcnow() - timedelta(hours=1)) == 0
    assert repo.fail_interrupted_jobs(session) == 2
    for job_id in (stale.id, queued.id):
        job = repo.get_job(session, job_id=job_id)
        assert job is not None and job.status == "failed"
        assert job.error == repo.INTERRUPTED_MESSAGE and job.finished_at is not None
    assert repo.get_job(session, job_id=done.id).status == "succeeded"  # type: ignore[union-attr]
    with pytest.raises(InvalidStateError, match="failed"):
        repo.update_job_progress(session, job_id=stale.id, progress=5)


def test_unknown_jobs(session: Session) -> None:
    assert repo.get_job(session, job_id=42) is None
    with pytest.raises(NotFoundError):
        repo.claim_job(session, job_id=42)
    with pytest.raises(NotFoundError):
        repo.finish_job(session, job_id=42)
