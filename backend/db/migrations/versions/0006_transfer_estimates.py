"""transfer estimates

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04

Source→target transfer scores estimated from frozen image features (LEEP, NCE, LogME), in a
table of their own (`backend.db.tables.TransferEstimate`) so that they never replace, and
are never read as, the measured scores of `transfer_scores`.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "transfer_estimates",
        sa.Column("source_id", sa.String(length=200), nullable=False),
        sa.Column("target_id", sa.String(length=200), nullable=False),
        sa.Column("estimator", sa.String(length=16), nullable=False),
        sa.Column("feature_model", sa.String(length=200), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("raw", sa.Float(), nullable=False),
        sa.Column("estimated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["source_id"],
            ["datasets.id"],
            name=op.f("fk_transfer_estimates_source_id_datasets"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["target_id"],
            ["datasets.id"],
            name=op.f("fk_transfer_estimates_target_id_datasets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "source_id",
            "target_id",
            "estimator",
            "feature_model",
            name=op.f("pk_transfer_estimates"),
        ),
    )
    with op.batch_alter_table("transfer_estimates", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_transfer_estimates_target_id"), ["target_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("transfer_estimates", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_transfer_estimates_target_id"))
    op.drop_table("transfer_estimates")
