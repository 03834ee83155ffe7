"""map label matches

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-04

The label pairs that matched by embedding cosine when each containment map was trained, and
the dataset pairs whose opaque class names were corroborated then
(`backend.db.tables.MapLabelMatches`). Maps trained before this revision have none, and
their coverage is counted from text matches alone.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "map_label_matches",
        sa.Column("map_id", sa.Integer(), nullable=False),
        sa.Column("threshold", sa.Float(), nullable=False),
        sa.Column("pairs", sa.JSON(), nullable=False),
        sa.Column("corroborated", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["map_id"],
            ["maps.id"],
            name=op.f("fk_map_label_matches_map_id_maps"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("map_id", name=op.f("pk_map_label_matches")),
    )


def downgrade() -> None:
    op.drop_table("map_label_matches")
