"""The rollup's ``since`` dimension: distinct items removed, counted per day without counting an item
twice in a period (``suraksha.transparency.tally``: the day of the same item's previous removal).
Every closed day is marked dirty, so the next rollup run counts the new cells into it. And a partial
index of the legal desk's decisions (the templates' removals on grievances).

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-07 22:00:00
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from suraksha.db.base import UTCDateTime

revision = "0029"
down_revision = "0028"
branch_labels = None
depends_on = None

CELL = ["day", "measure", "category", "source", "kind", "automated", "decided_by", "policy", "country"]


def upgrade() -> None:
    with op.batch_alter_table("stats_day_counts") as batch:
        batch.add_column(sa.Column("since", sa.String(length=10), nullable=False, server_default=""))
        batch.drop_constraint("uq_stats_day_counts_cell", type_="unique")
        batch.create_unique_constraint("uq_stats_day_counts_cell", [*CELL, "backfilled", "since"])
    legal = sa.text("decided_by = 'legal'")
    op.create_index(
        "ix_decisions_legal_ref", "decisions", ["decided_by_ref"], postgresql_where=legal, sqlite_where=legal
    )
    now = datetime.now(UTC)
    stats_days = sa.table(
        "stats_days", sa.column("state", sa.String()), sa.column("dirtied_at", UTCDateTime())
    )
    op.execute(
        stats_days.update().where(stats_days.c.state == "closed").values(state="dirty", dirtied_at=now)
    )


def downgrade() -> None:
    op.drop_index("ix_decisions_legal_ref", table_name="decisions")
    op.execute(sa.text("DELETE FROM stats_day_counts WHERE since <> ''"))
    with op.batch_alter_table("stats_day_counts") as batch:
        batch.drop_constraint("uq_stats_day_counts_cell", type_="unique")
        batch.create_unique_constraint("uq_stats_day_counts_cell", [*CELL, "backfilled"])
        batch.drop_column("since")
