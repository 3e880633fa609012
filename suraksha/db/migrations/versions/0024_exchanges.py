"""Hash-list exchanges: the exchanges, their records of each upstream entry, and their fetch runs
(suraksha.exchanges.models).

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-07 14:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None

UTC = sa.DateTime(timezone=True)
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "exchanges",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("api", sa.String(length=30), nullable=False),
        sa.Column("bank_id", sa.Integer(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("settings", sa.Text(), nullable=False),
        sa.Column("trust", sa.String(length=20), nullable=False),
        sa.Column("checkpoint", sa.Text(), nullable=True),
        sa.Column("checkpoint_version", sa.Integer(), nullable=False),
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.Column("next_fetch_at", UTC, nullable=True),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.Column("last_success_at", UTC, nullable=True),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(["bank_id"], ["banks.id"], name=op.f("fk_exchanges_bank_id_banks")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exchanges")),
        sa.UniqueConstraint("name", name=op.f("uq_exchanges_name")),
    )
    op.create_index(op.f("ix_exchanges_bank_id"), "exchanges", ["bank_id"])
    op.create_table(
        "exchange_entries",
        sa.Column("id", BigId, nullable=False),
        sa.Column("exchange_id", sa.Integer(), nullable=False),
        sa.Column("upstream_key", sa.String(length=300), nullable=False),
        sa.Column("signal_type", sa.String(length=20), nullable=False),
        sa.Column("value_digest", sa.String(length=64), nullable=False),
        sa.Column("bank_entry_id", sa.Integer(), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("removed", sa.Boolean(), nullable=False),
        sa.Column("seen_generation", sa.Integer(), nullable=False),
        sa.Column("updated_at", UTC, nullable=False),
        sa.ForeignKeyConstraint(
            ["exchange_id"],
            ["exchanges.id"],
            name=op.f("fk_exchange_entries_exchange_id_exchanges"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["bank_entry_id"],
            ["bank_entries.id"],
            name=op.f("fk_exchange_entries_bank_entry_id_bank_entries"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exchange_entries")),
        sa.UniqueConstraint(
            "exchange_id",
            "upstream_key",
            "signal_type",
            name=op.f("uq_exchange_entries_exchange_id"),
        ),
    )
    op.create_index(op.f("ix_exchange_entries_bank_entry_id"), "exchange_entries", ["bank_entry_id"])
    op.create_table(
        "exchange_fetch_runs",
        sa.Column("id", BigId, nullable=False),
        sa.Column("exchange_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("started_at", UTC, nullable=False),
        sa.Column("finished_at", UTC, nullable=True),
        sa.Column("pages", sa.Integer(), nullable=False),
        sa.Column("added", sa.Integer(), nullable=False),
        sa.Column("updated", sa.Integer(), nullable=False),
        sa.Column("removed", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("by", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["exchange_id"],
            ["exchanges.id"],
            name=op.f("fk_exchange_fetch_runs_exchange_id_exchanges"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exchange_fetch_runs")),
    )
    op.create_index(op.f("ix_exchange_fetch_runs_exchange_id"), "exchange_fetch_runs", ["exchange_id"])


def downgrade() -> None:
    op.drop_table("exchange_fetch_runs")
    op.drop_table("exchange_entries")
    op.drop_table("exchanges")
