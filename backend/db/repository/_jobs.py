"""Background jobs and their persisted progress.

A job is `queued` → `running` → `succeeded` | `failed`. The database allows one active
(queued or running) job per kind, so two processes racing to start a crawl cannot both win.
A job carries a liveness lease: its owning process (host, pid) and the time the lease runs
out, renewed by each heartbeat and progress update. Deciding that a lease is dead belongs to
`backend.jobs.lease`; `fail_job` then fails the job and, in the same commit, the maps it was
still training, so a killed fit never leaves a map `training` forever.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from backend.db.repository._common import require_aware, utcnow
from backend.db.repository._types import JobOwner, JobRecord
from backend.db.tables import ACTIVE_JOB_STATUSES, Job, Map
from backend.errors import ConflictError, InvalidStateError, NotFoundError
from backend.vocab import JobStatus

INTERRUPTED_MESSAGE = "interrupted: the process running this job stopped before it finished"
_MAX_TEXT = 4000


def _record(row: Job) -> JobRecord:
    return JobRecord(
        id=row.id,
        kind=row.kind,
        status=cast(JobStatus, row.status),
        params=dict(row.params or {}),
        result=dict(row.result or {}),
        progress=row.progress,
        total=row.total,
        message=row.message,
        error=row.error,
        owner=row.owner,
        created_at=row.created_at,
        started_at=row.started_at,
        finished_at=row.finished_at,
        heartbeat_at=row.heartbeat_at,
        owner_host=row.owner_host,
        owner_pid=row.owner_pid,
        lease_expires_at=row.lease_expires_at,
    )


def _lease(owner: JobOwner | None, lease_s: float | None) -> dict[str, Any]:
    """The owner and lease columns of a job `owner` holds for `lease_s` seconds from now."""
    now = utcnow()
    values: dict[str, Any] = {"heartbeat_at": now}
    if owner is not None:
        values |= {
            "owner": owner.text[:200],
            "owner_host": owner.host[:200],
            "owner_pid": owner.pid,
        }
    if lease_s is not None:
        if lease_s <= 0:
            raise ValueError(f"lease_s must be > 0, got {lease_s}")
        values["lease_expires_at"] = now + timedelta(seconds=lease_s)
    return values


def _load(session: Session, job_id: int) -> Job:
    row = session.get(Job, job_id)
    if row is None:
        raise NotFoundError(f"no job with id {job_id}")
    return row


def create_job(
    session: Session,
    *,
    kind: str,
    params: Mapping[str, Any] | None = None,
    total: int | None = None,
    owner: JobOwner | None = None,
    lease_s: float | None = None,
) -> JobRecord:
    """Queues a job, held by `owner` for `lease_s` seconds (a submitter killed before its
    worker claims the job leaves a lease that runs out, not a job queued forever).

    Raises:
        ConflictError: if a job of the same kind is already queued or running.
        ValueError: if `lease_s` is not positive.
    """
    active = get_active_job(session, kind=kind)
    if active is not None:
        raise ConflictError(f"a {kind} job is already {active.status} (job {active.id})")
    row = Job(
        kind=kind,
        status="queued",
        params=dict(params or {}),
        result={},
        progress=0,
        total=total,
        created_at=utcnow(),
        **_lease(owner, lease_s),
    )
    session.add(row)
    try:
        session.commit()
    except IntegrityError as e:  # lost a race against another process
        session.rollback()
        raise ConflictError(f"a {kind} job is already queued or running") from e
    return _record(row)


def claim_job(
    session: Session,
    *,
    job_id: int,
    owner: JobOwner | None = None,
    lease_s: float | None = None,
) -> JobRecord | None:
    """Moves a queued job to running, held by `owner` for `lease_s` seconds; None if it is no
    longer queued (someone else has it)."""
    values = _lease(owner, lease_s)
    result = session.execute(
        update(Job)
        .where(Job.id == job_id, Job.status == "queued")
        .values(status="running", started_at=values["heartbeat_at"], **values)
    )
    session.commit()
    if result.rowcount == 0:  # type: ignore[attr-defined]
        _load(session, job_id)  # raises NotFoundError for an unknown id
        return None
    return _record(_load(session, job_id))


def update_job_progress(
    session: Session,
    *,
    job_id: int,
    progress: int,
    total: int | None = None,
    message: str | None = None,
    lease_s: float | None = None,
) -> None:
    """Records progress of a running job; a heartbeat too, renewing its lease for `lease_s`.

    Raises:
        InvalidStateError: if the job is not running (it was failed as interrupted, say).
    """
    values: dict[str, Any] = {"progress": max(0, progress), **_lease(None, lease_s)}
    if total is not None:
        values["total"] = total
    if message is not None:
        values["message"] = message[:_MAX_TEXT]
    result = session.execute(
        update(Job).where(Job.id == job_id, Job.status == "running").values(**values)
    )
    session.commit()
    if result.rowcount == 0:  # type: ignore[attr-defined]
        row = _load(session, job_id)
        raise InvalidStateError(f"job {job_id} is {row.status}, not running")


def heartbeat_jobs(
    session: Session, *, job_ids: Sequence[int], lease_s: float | None = None
) -> None:
    """Marks running jobs as alive now (their worker is still working on them), renewing
    their leases for `lease_s` seconds."""
    if job_ids:
        session.execute(
            update(Job)
            .where(Job.id.in_(list(job_ids)), Job.status.in_(ACTIVE_JOB_STATUSES))
            .values(**_lease(None, lease_s))
        )
        session.commit()


def list_active_jobs(session: Session) -> list[JobRecord]:
    """Every queued or running job, oldest first."""
    query = select(Job).where(Job.status.in_(ACTIVE_JOB_STATUSES)).order_by(Job.id)
    return [_record(r) for r in session.scalars(query)]


def finish_job(
    session: Session,
    *,
    job_id: int,
    message: str | None = None,
    result: Mapping[str, Any] | None = None,
) -> JobRecord:
    """Marks a running job succeeded, with an optional summary."""
    row = _load(session, job_id)
    if row.status != "running":
        raise InvalidStateError(f"job {job_id} is {row.status}, not running")
    now = utcnow()
    row.status = "succeeded"
    row.finished_at = now
    row.heartbeat_at = now
    if row.total is not None:
        row.progress = row.total
    if message is not None:
        row.message = message[:_MAX_TEXT]
    row.result = dict(result or {})
    session.commit()
    return _record(row)


def fail_job(session: Session, *, job_id: int, error: str) -> JobRecord:
    """Marks a queued or running job failed with its error, and the maps it was still
    training failed with it, in one commit; finished jobs are left alone."""
    row = _load(session, job_id)
    if row.status in ACTIVE_JOB_STATUSES:
        now = utcnow()
        row.status = "failed"
        row.error = error[:_MAX_TEXT]
        row.finished_at = now
        row.heartbeat_at = now
        _fail_training_maps(session, [job_id], error)
        session.commit()
    return _record(row)


def _fail_training_maps(session: Session, job_ids: Sequence[int], error: str) -> None:
    # Only `training`: a map already `ready` is complete and may still be published, and a
    # published one is never unpublished by a failure.
    if job_ids:
        session.execute(
            update(Map)
            .where(Map.job_id.in_(list(job_ids)), Map.status == "training")
            .values(status="failed", error=f"its train job failed: {error}"[:_MAX_TEXT])
        )


def get_job(session: Session, *, job_id: int) -> JobRecord | None:
    """A job's state, or None."""
    row = session.get(Job, job_id)
    return None if row is None else _record(row)


def get_active_job(session: Session, *, kind: str) -> JobRecord | None:
    """The queued or running job of `kind`, if any."""
    query = select(Job).where(Job.kind == kind, Job.status.in_(ACTIVE_JOB_STATUSES))
    row = session.scalars(query.limit(1)).first()
    return None if row is None else _record(row)


def list_jobs(
    session: Session, *, kind: str | None = None, status: str | None = None, limit: int = 20
) -> list[JobRecord]:
    """The newest jobs first, optionally of one kind and status."""
    if not 1 <= limit <= 500:
        raise ValueError(f"limit must be in 1..500, got {limit}")
    query = select(Job).order_by(Job.created_at.desc(), Job.id.desc()).limit(limit)
    if kind is not None:
        query = query.where(Job.kind == kind)
    if status is not None:
        query = query.where(Job.status == status)
    return [_record(r) for r in session.scalars(query)]


def fail_interrupted_jobs(session: Session, *, heartbeat_before: datetime | None = None) -> int:
    """Fails jobs left queued or running by a process that died; returns how many.

    Call it when a process that owns the job runner starts. With no `heartbeat_before`,
    every active job is failed (right when one process runs all jobs). With it, only jobs
    whose last heartbeat is older are, which spares jobs of another live process.
    """
    query = update(Job).where(Job.status.in_(ACTIVE_JOB_STATUSES))
    if heartbeat_before is not None:
        require_aware("heartbeat_before", heartbeat_before)
        stale = (Job.heartbeat_at < heartbeat_before) | (
            Job.heartbeat_at.is_(None) & (Job.created_at < heartbeat_before)
        )
        query = query.where(stale)
    now = utcnow()
    failed = list(
        session.scalars(
            query.values(status="failed", error=INTERRUPTED_MESSAGE, finished_at=now).returning(
                Job.id
            )
        )
    )
    _fail_training_maps(session, failed, INTERRUPTED_MESSAGE)
    session.commit()
    return len(failed)
