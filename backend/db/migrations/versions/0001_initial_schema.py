"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-26

Datasets, their labels and representations; maps and their boxes; measured transfer
scores; jobs. Times are naive UTC (see tables.UTCDateTime).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "datasets",
        sa.Column("id", sa.String(length=200), nullable=False),
        sa.Column("author", sa.String(length=200), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("skip_reason", sa.String(length=32), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("sha", sa.String(length=64), nullable=True),
        sa.Column("last_modified", sa.DateTime(), nullable=True),
        sa.Column("downloads", sa.Integer(), nullable=False),
        sa.Column("likes", sa.Integer(), nullable=False),
        sa.Column("license", sa.String(length=64), nullable=True),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("label_column", sa.String(length=200), nullable=True),
        sa.Column("splits", sa.JSON(), nullable=False),
        sa.Column("num_examples", sa.Integer(), nullable=True),
        sa.Column("num_labels", sa.Integer(), nullable=False),
        sa.Column("labels_hash", sa.String(length=64), nullable=True),
        sa.Column("pretty_name", sa.String(length=200), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("crawled_at", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_datasets")),
    )
    with op.batch_alter_table("datasets", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_datasets_downloads"), ["downloads"], unique=False)
        batch_op.create_index(batch_op.f("ix_datasets_license"), ["license"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_datasets_num_examples"), ["num_examples"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_datasets_num_labels"), ["num_labels"], unique=False)
        batch_op.create_index(batch_op.f("ix_datasets_status"), ["status"], unique=False)

    op.create_table(
        "jobs",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("result", sa.JSON(), nullable=False),
        sa.Column("progress", sa.Integer(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=True),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("owner", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=True),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.Column("heartbeat_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_jobs")),
    )
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.create_index("ix_jobs_kind_created", ["kind", "created_at"], unique=False)
        batch_op.create_index(
            "uq_jobs_one_active_per_kind",
            ["kind"],
            unique=True,
            sqlite_where=sa.text("status IN ('queued', 'running')"),
            postgresql_where=sa.text("status IN ('queued', 'running')"),
        )

    op.create_table(
        "maps",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("relation", sa.String(length=16), nullable=False),
        sa.Column("dim", sa.Integer(), nullable=False),
        sa.Column("representation", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("metrics", sa.JSON(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("num_boxes", sa.Integer(), nullable=False),
        sa.Column("checkpoint", sa.LargeBinary(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("published_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_maps")),
    )
    with op.batch_alter_table("maps", schema=None) as batch_op:
        batch_op.create_index(
            "ix_maps_relation_dim_status", ["relation", "dim", "status"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_maps_status"), ["status"], unique=False)

    op.create_table(
        "boxes",
        sa.Column("map_id", sa.Integer(), nullable=False),
        sa.Column("dataset_id", sa.String(length=200), nullable=False),
        sa.Column("lo", sa.LargeBinary(), nullable=False),
        sa.Column("hi", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["dataset_id"],
            ["datasets.id"],
            name=op.f("fk_boxes_dataset_id_datasets"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["map_id"], ["maps.id"], name=op.f("fk_boxes_map_id_maps"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("map_id", "dataset_id", name=op.f("pk_boxes")),
    )
    with op.batch_alter_table("boxes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_boxes_dataset_id"), ["dataset_id"], unique=False)

    op.create_table(
        "labels",
        sa.Column("dataset_id", sa.String(length=200), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["dataset_id"],
            ["datasets.id"],
            name=op.f("fk_labels_dataset_id_datasets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("dataset_id", "position", name=op.f("pk_labels")),
    )
    with op.batch_alter_table("labels", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_labels_name"), ["name"], unique=False)

    op.create_table(
        "representations",
        sa.Column("dataset_id", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("model_version", sa.String(length=200), nullable=False),
        sa.Column("labels_hash", sa.String(length=64), nullable=False),
        sa.Column("dim", sa.Integer(), nullable=False),
        sa.Column("vector", sa.LargeBinary(), nullable=False),
        sa.Column("computed_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["dataset_id"],
            ["datasets.id"],
            name=op.f("fk_representations_dataset_id_datasets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("dataset_id", "kind", name=op.f("pk_representations")),
    )
    op.create_table(
        "transfer_scores",
        sa.Column("source_id", sa.String(length=200), nullable=False),
        sa.Column("target_id", sa.String(length=200), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("imported_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["source_id"],
            ["datasets.id"],
            name=op.f("fk_transfer_scores_source_id_datasets"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["target_id"],
            ["datasets.id"],
            name=op.f("fk_transfer_scores_target_id_datasets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("source_id", "target_id", name=op.f("pk_transfer_scores")),
    )
    with op.batch_alter_table("transfer_scores", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_transfer_scores_target_id"), ["target_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("transfer_scores", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_transfer_scores_target_id"))

    op.drop_table("transfer_scores")
    op.drop_table("representations")
    with op.batch_alter_table("labels", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_labels_name"))

    op.drop_table("labels")
    with op.batch_alter_table("boxes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_boxes_dataset_id"))

    op.drop_table("boxes")
    with op.batch_alter_table("maps", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_maps_status"))
        batch_op.drop_index("ix_maps_relation_dim_status")

    op.drop_table("maps")
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_jobs_one_active_per_kind",
            sqlite_where=sa.text("status IN ('queued', 'running')"),
            postgresql_where=sa.text("status IN ('queued', 'running')"),
        )
        batch_op.drop_index("ix_jobs_kind_created")

    op.drop_table("jobs")
    with op.batch_alter_table("datasets", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_datasets_status"))
        batch_op.drop_index(batch_op.f("ix_datasets_num_labels"))
        batch_op.drop_index(batch_op.f("ix_datasets_num_examples"))
        batch_op.drop_index(batch_op.f("ix_datasets_license"))
        batch_op.drop_index(batch_op.f("ix_datasets_downloads"))

    op.drop_table("datasets")
