"""Console users who belong to a trusted flagger (its staff, role ``flagger``).

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-07 15:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0028"
down_revision = "0027"
branch_labels = None
depends_on = None

UTC = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "flagger_users",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("flagger_id", sa.Integer(), nullable=False),
        sa.Column("linked_at", UTC, nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["console_users.id"],
            name=op.f("fk_flagger_users_user_id_console_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["flagger_id"], ["flaggers.id"], name=op.f("fk_flagger_users_flagger_id_flaggers")
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_flagger_users")),
    )
    op.create_index(op.f("ix_flagger_users_flagger_id"), "flagger_users", ["flagger_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_flagger_users_flagger_id"), table_name="flagger_users")
    op.drop_table("flagger_users")
