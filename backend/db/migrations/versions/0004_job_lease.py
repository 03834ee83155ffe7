"""job liveness lease

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04

A job's owning process (`owner_host`, `owner_pid`) and the time its lease runs out
(`lease_expires_at`), renewed by each heartbeat; any process that submits or reads jobs fails
one whose lease ran out or whose owner is gone (`backend.jobs.lease`). Each map records the
train job fitting it (`maps.job_id`), so failing that job fails its map too.

Maps left `training` by a fit killed before this revision name no job; when no train job is
active they can only be leftovers, and are failed here.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ORPHANS_ERROR = "interrupted: its train job stopped before this map was finished"


def upgrade() -> None:
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("owner_host", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("owner_pid", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("lease_expires_at", sa.DateTime(), nullable=True))
    with op.batch_alter_table("maps", schema=None) as batch_op:
        batch_op.add_column(sa.Column("job_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_maps_job_id"), ["job_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_maps_job_id_jobs"), "jobs", ["job_id"], ["id"], ondelete="SET NULL"
        )
    op.execute(
        sa.text(
            "UPDATE maps SET status = 'failed', error = :error WHERE status = 'training' "
            "AND NOT EXISTS (SELECT 1 FROM jobs WHERE kind = 'train' "
            "AND status IN ('queued', 'running'))"
        ).bindparams(error=_ORPHANS_ERROR)
    )


def downgrade() -> None:
    with op.batch_alter_table("maps", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_maps_job_id_jobs"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_maps_job_id"))
        batch_op.drop_column("job_id")
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.drop_column("lease_expires_at")
        batch_op.drop_column("owner_pid")
        batch_op.drop_column("owner_host")
