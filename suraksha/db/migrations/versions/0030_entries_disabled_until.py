"""A partial index of the bank entries disabled for a time: every match index follower asks, every
second, which of them have come back (``BankIndex._apply_feed``), and without it each refresh read
the whole table.

Revision ID: 0030
Revises: 0029
Create Date: 2026-12-08 01:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0030"
down_revision = "0029"
branch_labels = None
depends_on = None


def upgrade() -> None:
    timed = sa.text("disabled_until IS NOT NULL")
    op.create_index(
        "ix_bank_entries_disabled_until",
        "bank_entries",
        ["disabled_until"],
        postgresql_where=timed,
        sqlite_where=timed,
    )


def downgrade() -> None:
    op.drop_index("ix_bank_entries_disabled_until", table_name="bank_entries")
