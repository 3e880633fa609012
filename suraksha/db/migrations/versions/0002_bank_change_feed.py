"""bank change feed

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24 12:50:38.327732
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "bank_changes",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("bank_id", sa.Integer(), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bank_changes")),
    )
    with op.batch_alter_table("bank_changes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_bank_changes_bank_id"), ["bank_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("bank_changes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_bank_changes_bank_id"))

    op.drop_table("bank_changes")
