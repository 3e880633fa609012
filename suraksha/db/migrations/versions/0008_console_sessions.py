"""Console sessions and sign-in throttling (placeholder: filled in by the work that owns it).

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-24 16:30:00
"""

from __future__ import annotations

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
