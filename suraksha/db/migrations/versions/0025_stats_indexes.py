"""Indexes statistics count by: actions by when they were written, CyberTipline reports by state and
when they were finished (suraksha.transparency.tally counts a month of them at a time; without these
each month read the whole table).

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-07 14:30:00
"""

from __future__ import annotations

from alembic import op

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(op.f("ix_actions_created_at"), "actions", ["created_at"], unique=False)
    op.create_index(
        "ix_cybertipline_reports_state_finished_at",
        "cybertipline_reports",
        ["state", "finished_at"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_cybertipline_reports_state_finished_at", table_name="cybertipline_reports")
    op.drop_index(op.f("ix_actions_created_at"), table_name="actions")
