"""map neighbors

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27

Each map's precomputed top related rows per dataset (`models.neighbors`). Maps
trained before this revision have none and are ranked per request, as before.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "map_neighbors",
        sa.Column("map_id", sa.Integer(), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("dataset_ids", sa.JSON(), nullable=False),
        sa.Column("p_in", sa.LargeBinary(), nullable=False),
        sa.Column("p_contains", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["map_id"],
            ["maps.id"],
            name=op.f("fk_map_neighbors_map_id_maps"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("map_id", name=op.f("pk_map_neighbors")),
    )


def downgrade() -> None:
    op.drop_table("map_neighbors")
