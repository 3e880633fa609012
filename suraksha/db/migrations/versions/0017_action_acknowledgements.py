"""Actions the platform acknowledges: when it said it was done or had failed, and why
(suraksha.enforcement.models.Action ``acknowledged_at``, ``state_reason``).

Revision ID: 0017
Revises: 0015
Create Date: 2026-12-07 03:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0015"
branch_labels = None
depends_on = None

UTC = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("actions") as batch:
        batch.add_column(sa.Column("acknowledged_at", UTC, nullable=True))
        batch.add_column(sa.Column("state_reason", sa.Text(), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("actions") as batch:
        batch.drop_column("state_reason")
        batch.drop_column("acknowledged_at")
