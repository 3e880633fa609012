"""Network investigations: investigations, their accounts, timeline and four-eyes actions
(suraksha.network.models), and the CyberTipline report's group fields (groupIdentifier,
associatedAccount).

Revision ID: 0023
Revises: 0020
Create Date: 2026-12-07 07:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None

UTC = sa.DateTime(timezone=True)
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "network_investigations",
        sa.Column("id", BigId, nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("source", sa.String(length=60), nullable=False),
        sa.Column("cluster_id", BigId, nullable=True),
        sa.Column("opened_by", sa.String(length=200), nullable=False),
        sa.Column("opened_at", UTC, nullable=False),
        sa.Column("updated_at", UTC, nullable=False),
        sa.Column("closed_at", UTC, nullable=True),
        sa.Column("referral_id", BigId, nullable=True),
        sa.ForeignKeyConstraint(
            ["cluster_id"],
            ["network_clusters.id"],
            name=op.f("fk_network_investigations_cluster_id_network_clusters"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["referral_id"],
            ["police_referrals.id"],
            name=op.f("fk_network_investigations_referral_id_police_referrals"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_network_investigations")),
    )
    op.create_index(op.f("ix_network_investigations_state"), "network_investigations", ["state"])
    op.create_index(op.f("ix_network_investigations_cluster_id"), "network_investigations", ["cluster_id"])
    op.create_table(
        "network_investigation_accounts",
        sa.Column("id", BigId, nullable=False),
        sa.Column("investigation_id", BigId, nullable=False),
        sa.Column("account_id", BigId, nullable=False),
        sa.Column("added_by", sa.String(length=200), nullable=False),
        sa.Column("added_at", UTC, nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("removed_by", sa.String(length=200), nullable=True),
        sa.Column("removed_at", UTC, nullable=True),
        sa.Column("removed_reason", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["investigation_id"],
            ["network_investigations.id"],
            name=op.f("fk_network_investigation_accounts_investigation_id_network_investigations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_network_investigation_accounts_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_network_investigation_accounts")),
        sa.UniqueConstraint(
            "investigation_id", "account_id", name=op.f("uq_network_investigation_accounts_investigation_id")
        ),
    )
    op.create_index(
        op.f("ix_network_investigation_accounts_investigation_id"),
        "network_investigation_accounts",
        ["investigation_id"],
    )
    op.create_index(
        op.f("ix_network_investigation_accounts_account_id"), "network_investigation_accounts", ["account_id"]
    )
    op.create_table(
        "network_investigation_events",
        sa.Column("id", BigId, nullable=False),
        sa.Column("investigation_id", BigId, nullable=False),
        sa.Column("at", UTC, nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("details", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["investigation_id"],
            ["network_investigations.id"],
            name=op.f("fk_network_investigation_events_investigation_id_network_investigations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_network_investigation_events")),
    )
    op.create_index(
        op.f("ix_network_investigation_events_investigation_id"),
        "network_investigation_events",
        ["investigation_id"],
    )
    op.create_table(
        "network_investigation_actions",
        sa.Column("id", BigId, nullable=False),
        sa.Column("investigation_id", BigId, nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("account_ids", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("proposed_by", sa.String(length=200), nullable=False),
        sa.Column("proposer_id", sa.Integer(), nullable=False),
        sa.Column("proposed_at", UTC, nullable=False),
        sa.Column("approver_ref", sa.String(length=200), nullable=False),
        sa.Column("approver_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", UTC, nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("actions", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["investigation_id"],
            ["network_investigations.id"],
            name=op.f("fk_network_investigation_actions_investigation_id_network_investigations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["proposer_id"],
            ["console_users.id"],
            name=op.f("fk_network_investigation_actions_proposer_id_console_users"),
        ),
        sa.ForeignKeyConstraint(
            ["approver_id"],
            ["console_users.id"],
            name=op.f("fk_network_investigation_actions_approver_id_console_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_network_investigation_actions")),
    )
    op.create_index(
        op.f("ix_network_investigation_actions_investigation_id"),
        "network_investigation_actions",
        ["investigation_id"],
    )
    op.create_index(
        op.f("ix_network_investigation_actions_state"), "network_investigation_actions", ["state"]
    )
    with op.batch_alter_table("cybertipline_reports") as batch:
        batch.add_column(
            sa.Column("group_identifier", sa.String(length=200), nullable=False, server_default="")
        )
        batch.add_column(sa.Column("associated_account_ids", sa.Text(), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("cybertipline_reports") as batch:
        batch.drop_column("associated_account_ids")
        batch.drop_column("group_identifier")
    op.drop_table("network_investigation_actions")
    op.drop_table("network_investigation_events")
    op.drop_table("network_investigation_accounts")
    op.drop_table("network_investigations")
