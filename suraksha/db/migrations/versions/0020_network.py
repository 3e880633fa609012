"""The account graph: keys accounts share, their links to accounts, clusters, members, ban-evasion
alerts and runs (suraksha.network.models).

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07 06:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

UTC = sa.DateTime(timezone=True)
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "network_keys",
        sa.Column("id", BigId, nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("value", sa.String(length=500), nullable=False),
        sa.Column("accounts", sa.Integer(), nullable=False),
        sa.Column("first_seen_at", UTC, nullable=False),
        sa.Column("last_seen_at", UTC, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_network_keys")),
        sa.UniqueConstraint("kind", "value", name=op.f("uq_network_keys_kind")),
    )
    op.create_table(
        "network_links",
        sa.Column("id", BigId, nullable=False),
        sa.Column("key_id", BigId, nullable=False),
        sa.Column("account_id", BigId, nullable=False),
        sa.Column("first_item_id", BigId, nullable=False),
        sa.Column("last_item_id", BigId, nullable=False),
        sa.Column("items", sa.Integer(), nullable=False),
        sa.Column("first_seen_at", UTC, nullable=False),
        sa.Column("last_seen_at", UTC, nullable=False),
        sa.ForeignKeyConstraint(
            ["key_id"],
            ["network_keys.id"],
            name=op.f("fk_network_links_key_id_network_keys"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_network_links_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_network_links")),
        sa.UniqueConstraint("key_id", "account_id", name=op.f("uq_network_links_key_id")),
    )
    op.create_index(op.f("ix_network_links_account_id"), "network_links", ["account_id"])
    op.create_table(
        "network_runs",
        sa.Column("id", BigId, nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("started_at", UTC, nullable=False),
        sa.Column("finished_at", UTC, nullable=True),
        sa.Column("accounts", sa.Integer(), nullable=False),
        sa.Column("edges", sa.Integer(), nullable=False),
        sa.Column("clusters", sa.Integer(), nullable=False),
        sa.Column("suspected", sa.Integer(), nullable=False),
        sa.Column("seconds", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_network_runs")),
    )
    op.create_table(
        "network_clusters",
        sa.Column("id", BigId, nullable=False),
        sa.Column("accounts", sa.Integer(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("suspected", sa.Boolean(), nullable=False),
        sa.Column("explanation", sa.Text(), nullable=False),
        sa.Column("first_found_at", UTC, nullable=False),
        sa.Column("updated_at", UTC, nullable=False),
        sa.Column("run_id", BigId, nullable=True),
        sa.Column("dissolved_at", UTC, nullable=True),
        sa.ForeignKeyConstraint(
            ["run_id"], ["network_runs.id"], name=op.f("fk_network_clusters_run_id_network_runs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_network_clusters")),
    )
    op.create_index(op.f("ix_network_clusters_score"), "network_clusters", ["score"])
    op.create_index(op.f("ix_network_clusters_suspected"), "network_clusters", ["suspected"])
    op.create_index(op.f("ix_network_clusters_dissolved_at"), "network_clusters", ["dissolved_at"])
    op.create_table(
        "network_cluster_members",
        sa.Column("account_id", BigId, nullable=False),
        sa.Column("cluster_id", BigId, nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_network_cluster_members_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["cluster_id"],
            ["network_clusters.id"],
            name=op.f("fk_network_cluster_members_cluster_id_network_clusters"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_network_cluster_members")),
    )
    op.create_index(op.f("ix_network_cluster_members_cluster_id"), "network_cluster_members", ["cluster_id"])
    op.create_table(
        "network_alerts",
        sa.Column("id", BigId, nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("cluster_id", BigId, nullable=False),
        sa.Column("account_id", BigId, nullable=False),
        sa.Column("item_id", BigId, nullable=False),
        sa.Column("key_id", BigId, nullable=False),
        sa.Column("case_id", BigId, nullable=True),
        sa.Column("created_at", UTC, nullable=False),
        sa.ForeignKeyConstraint(
            ["cluster_id"],
            ["network_clusters.id"],
            name=op.f("fk_network_alerts_cluster_id_network_clusters"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_network_alerts_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["item_id"], ["items.id"], name=op.f("fk_network_alerts_item_id_items"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["key_id"],
            ["network_keys.id"],
            name=op.f("fk_network_alerts_key_id_network_keys"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["case_id"], ["review_cases.id"], name=op.f("fk_network_alerts_case_id_review_cases")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_network_alerts")),
        sa.UniqueConstraint("kind", "cluster_id", "account_id", name=op.f("uq_network_alerts_kind")),
    )
    op.create_index(op.f("ix_network_alerts_cluster_id"), "network_alerts", ["cluster_id"])
    op.create_index(op.f("ix_network_alerts_account_id"), "network_alerts", ["account_id"])
    op.create_index(op.f("ix_network_alerts_created_at"), "network_alerts", ["created_at"])


def downgrade() -> None:
    op.drop_table("network_alerts")
    op.drop_table("network_cluster_members")
    op.drop_table("network_clusters")
    op.drop_table("network_runs")
    op.drop_table("network_links")
    op.drop_table("network_keys")
