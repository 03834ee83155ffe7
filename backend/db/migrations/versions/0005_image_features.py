"""image features

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04

The index of each dataset's sampled-image features (`backend.db.tables.ImageFeatureSet`):
per dataset and feature model, `ready` with the relative path of its features file, or
`skipped` with the reason.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "image_features",
        sa.Column("dataset_id", sa.String(length=200), nullable=False),
        sa.Column("feature_model", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("skip_reason", sa.String(length=32), nullable=True),
        sa.Column("n_images", sa.Integer(), nullable=False),
        sa.Column("n_classes", sa.Integer(), nullable=False),
        sa.Column("failed_images", sa.Integer(), nullable=False),
        sa.Column("class_names_hash", sa.String(length=64), nullable=True),
        sa.Column("path", sa.String(length=500), nullable=True),
        sa.Column("source", sa.String(length=16), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["dataset_id"],
            ["datasets.id"],
            name=op.f("fk_image_features_dataset_id_datasets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("dataset_id", "feature_model", name=op.f("pk_image_features")),
    )
    op.create_index(op.f("ix_image_features_status"), "image_features", ["status"])


def downgrade() -> None:
    op.drop_index(op.f("ix_image_features_status"), table_name="image_features")
    op.drop_table("image_features")
