"""The statistics rollup: per-day counts and time histograms of closed UTC days, the day ledger
(suraksha.transparency.models, suraksha.content.history), and items' ``backfilled`` mark.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07 06:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

UTC = sa.DateTime(timezone=True)
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("items") as batch:
        batch.add_column(sa.Column("backfilled", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.create_table(
        "stats_days",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("state", sa.String(10), nullable=False),
        sa.Column("rolled_at", UTC, nullable=True),
        sa.Column("dirtied_at", UTC, nullable=True),
        sa.Column("checked_at", UTC, nullable=True),
        sa.PrimaryKeyConstraint("day", name="pk_stats_days"),
    )
    op.create_table(
        "stats_day_counts",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("measure", sa.String(40), nullable=False),
        sa.Column("category", sa.String(60), nullable=False),
        sa.Column("source", sa.String(60), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("automated", sa.Boolean(), nullable=False),
        sa.Column("decided_by", sa.String(20), nullable=False),
        sa.Column("policy", sa.String(200), nullable=False),
        sa.Column("country", sa.String(40), nullable=False),
        sa.Column("backfilled", sa.Boolean(), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_stats_day_counts"),
        sa.UniqueConstraint(
            "day",
            "measure",
            "category",
            "source",
            "kind",
            "automated",
            "decided_by",
            "policy",
            "country",
            "backfilled",
            name="uq_stats_day_counts_cell",
        ),
    )
    op.create_index("ix_stats_day_counts_day", "stats_day_counts", ["day"])
    op.create_table(
        "stats_day_times",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("measure", sa.String(40), nullable=False),
        sa.Column("bucket", sa.Integer(), nullable=False),
        sa.Column("count", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_stats_day_times"),
        sa.UniqueConstraint("day", "measure", "bucket", name="uq_stats_day_times_cell"),
    )
    op.create_index("ix_stats_day_times_day", "stats_day_times", ["day"])


def downgrade() -> None:
    op.drop_index("ix_stats_day_times_day", "stats_day_times")
    op.drop_table("stats_day_times")
    op.drop_index("ix_stats_day_counts_day", "stats_day_counts")
    op.drop_table("stats_day_counts")
    op.drop_table("stats_days")
    with op.batch_alter_table("items") as batch:
        batch.drop_column("backfilled")
