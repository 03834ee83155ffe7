"""image features sha

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-05

Each image-features index row keeps the dataset's sha it was sampled at
(`image_features.dataset_sha`), so the image-features job samples a dataset again once the
crawl records another revision. Existing rows get the dataset's current sha only where the
dataset row was last written (`datasets.updated_at`: a crawl that fetched it) before the
features were indexed: those features were sampled at that sha. The others stay NULL, which
the job reads as unknown and samples again.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("image_features", schema=None) as batch_op:
        batch_op.add_column(sa.Column("dataset_sha", sa.String(length=64), nullable=True))
    features = sa.table(
        "image_features",
        sa.column("dataset_id", sa.String()),
        sa.column("dataset_sha", sa.String()),
        sa.column("updated_at", sa.DateTime()),
    )
    datasets = sa.table(
        "datasets",
        sa.column("id", sa.String()),
        sa.column("sha", sa.String()),
        sa.column("updated_at", sa.DateTime()),
    )
    sampled_at = (
        sa.select(datasets.c.sha)
        .where(
            datasets.c.id == features.c.dataset_id,
            datasets.c.updated_at <= features.c.updated_at,
        )
        .scalar_subquery()
    )
    op.execute(features.update().values(dataset_sha=sampled_at))


def downgrade() -> None:
    with op.batch_alter_table("image_features", schema=None) as batch_op:
        batch_op.drop_column("dataset_sha")
