"""Job liveness leases: who runs a job, and when a job whose process died counts as failed.

Every job row names its owning process (host, pid, and a per-process token) and the time its
lease runs out. The owner renews the lease with each heartbeat (`JobRunner`'s monitor thread)
and each progress report. Whoever submits a job or reads job state (the CLI, the job routes,
the map list) first calls `sweep_dead_jobs`, so a job left behind by a `kill -9` is failed, with
the reason, the next time anyone looks: nobody waits for a server restart, and no later fit is
refused because of it. Failing a train job fails the maps it was still training
(`repository.fail_job`).

A job is dead when:
- its owner is a process of this host that no longer runs (asked of the kernel: at once);
- its owner is this very pid but an earlier process (pid 1 in a restarted container);
- its lease ran out (an owner on another host, or one that hangs). Rows from before leases
  were recorded count from their last heartbeat, or their creation, plus `lease_s`.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from backend.db import repository
from backend.db.repository import JobOwner, JobRecord

log = logging.getLogger(__name__)

# One token per process, drawn at import (and again in a forked child): every runner of this
# process shares it, so one never takes another's job (same pid, same token) for the job of a
# dead predecessor that had this pid.
_token = [secrets.token_hex(4)]
os.register_at_fork(after_in_child=lambda: _token.__setitem__(0, secrets.token_hex(4)))


def this_process() -> JobOwner:
    """The owner identity of the calling process."""
    return JobOwner(host=socket.gethostname()[:120], pid=os.getpid(), token=_token[0])


def _pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by another user
        return True
    except OverflowError:  # beyond any pid the kernel hands out
        return False
    return True


def _owner_of(job: JobRecord) -> JobOwner | None:
    """The job's owner, from its columns or (rows from before them) its `owner` text."""
    if job.owner_host is not None and job.owner_pid is not None:
        token = (job.owner or "").rsplit(":", 1)[-1]
        return JobOwner(host=job.owner_host, pid=job.owner_pid, token=token)
    if job.owner is None:
        return None
    host, _, rest = job.owner.partition(":")
    pid_text, _, token = rest.partition(":")
    return JobOwner(host=host, pid=int(pid_text), token=token) if pid_text.isdigit() else None


def _when(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def dead_reason(
    job: JobRecord, *, me: JobOwner, lease_s: float, now: datetime | None = None
) -> str | None:
    """Why `job` (queued or running) belongs to a process that stopped, or None if it may
    still be alive. `lease_s` is the lease assumed for rows that recorded no expiry."""
    owner = _owner_of(job)
    if owner is not None and owner == me:
        return None  # ours: this process's runner renews it, or fails it when its thread ends
    now = now or datetime.now(UTC)
    last = job.heartbeat_at or job.created_at
    who = (
        f"owner process {owner.pid} on host {owner.host}"
        if owner is not None
        else "its submitting process (unknown)"
    )
    if owner is not None and owner.host == me.host:
        if owner.pid == me.pid:
            return f"{who} stopped heartbeating at {_when(last)}; that pid is a new process now"
        if not _pid_alive(owner.pid):
            return f"{who} stopped heartbeating at {_when(last)}; it is no longer running"
    expires = job.lease_expires_at or last + timedelta(seconds=lease_s)
    if expires < now:
        return f"{who} stopped heartbeating at {_when(last)}; its lease ran out at {_when(expires)}"
    return None


def sweep_dead_jobs(
    session: Session, *, me: JobOwner, lease_s: float, kind: str | None = None
) -> list[JobRecord]:
    """Fails every active job (of `kind`, or all) whose owner stopped; returns them failed.

    Cheap when nothing is dead (one indexed read of the active jobs, usually none), so every
    submitter and reader of job state may call it.
    """
    failed = []
    for job in repository.list_active_jobs(session):
        if kind is not None and job.kind != kind:
            continue
        reason = dead_reason(job, me=me, lease_s=lease_s)
        if reason is None:
            continue
        failed.append(repository.fail_job(session, job_id=job.id, error=f"interrupted: {reason}"))
        log.warning("job %d (%s) failed: %s", job.id, job.kind, reason)
    return failed
