"""Flood quarantine: match counts per bank entry and time bucket, and quarantines
(suraksha.banks.flood).

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-07 15:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None

UTC = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "bank_entry_match_counts",
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("bucket", sa.BigInteger(), nullable=False),
        sa.Column("matches", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["entry_id"], ["bank_entries.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("entry_id", "bucket"),
    )
    op.create_index("ix_bank_entry_match_counts_bucket", "bank_entry_match_counts", ["bucket"], unique=False)
    op.create_table(
        "bank_entry_quarantines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=True),
        sa.Column("started_at", UTC, nullable=False),
        sa.Column("matches", sa.Integer(), nullable=False),
        sa.Column("rate_per_hour", sa.Float(), nullable=False),
        sa.Column("threshold_per_hour", sa.Float(), nullable=False),
        sa.Column("typical_per_hour", sa.Float(), nullable=False),
        sa.Column("released_at", UTC, nullable=True),
        sa.Column("released_by", sa.String(length=200), nullable=False),
        sa.Column("release_note", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["entry_id"], ["bank_entries.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("entry_id", "active"),
    )
    op.create_index(
        "ix_bank_entry_quarantines_entry_id", "bank_entry_quarantines", ["entry_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_bank_entry_quarantines_entry_id", table_name="bank_entry_quarantines")
    op.drop_table("bank_entry_quarantines")
    op.drop_index("ix_bank_entry_match_counts_bucket", table_name="bank_entry_match_counts")
    op.drop_table("bank_entry_match_counts")
