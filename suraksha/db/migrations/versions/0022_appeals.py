"""Notices to users (statements of reasons, withheld when the law says so), appeals, and the rules,
lists and classifiers flagged as often reversed on appeal (suraksha.enforcement.models,
suraksha.appeals.models).

Revision ID: 0022
Revises: 0019
Create Date: 2026-12-07 07:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None

UTC = sa.DateTime(timezone=True)
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "reversal_flags",
        sa.Column("key", sa.String(length=300), nullable=False),
        sa.Column("dimension", sa.String(length=20), nullable=False),
        sa.Column("appealed", sa.Integer(), nullable=False),
        sa.Column("reversed", sa.Integer(), nullable=False),
        sa.Column("rate", sa.Float(), nullable=False),
        sa.Column("flagged_at", UTC, nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_reversal_flags")),
    )
    op.create_table(
        "appeals",
        sa.Column("id", BigId, nullable=False),
        sa.Column("external_id", sa.String(length=200), nullable=False),
        sa.Column("request_digest", sa.String(length=64), nullable=False),
        sa.Column("decision_id", BigId, nullable=False),
        sa.Column("action_id", BigId, nullable=True),
        sa.Column("item_id", BigId, nullable=False),
        sa.Column("account_id", BigId, nullable=False),
        sa.Column("statement", sa.Text(), nullable=False),
        sa.Column("jurisdiction", sa.String(length=10), nullable=False),
        sa.Column("received_at", UTC, nullable=False),
        sa.Column("due_at", UTC, nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("case_id", BigId, nullable=True),
        sa.Column("lodged_by", sa.String(length=200), nullable=False),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("decided_by_ref", sa.String(length=16), nullable=False),
        sa.Column("decided_at", UTC, nullable=True),
        sa.Column("proposed_outcome", sa.String(length=20), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("approver_id", sa.Integer(), nullable=True),
        sa.Column("approver_ref", sa.String(length=16), nullable=False),
        sa.Column("approval_note", sa.Text(), nullable=False),
        sa.Column("reversal_decision_id", BigId, nullable=True),
        sa.Column("created_at", UTC, nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], name=op.f("fk_appeals_account_id_accounts")),
        sa.ForeignKeyConstraint(["action_id"], ["actions.id"], name=op.f("fk_appeals_action_id_actions")),
        sa.ForeignKeyConstraint(
            ["approver_id"], ["console_users.id"], name=op.f("fk_appeals_approver_id_console_users")
        ),
        sa.ForeignKeyConstraint(
            ["case_id"], ["review_cases.id"], name=op.f("fk_appeals_case_id_review_cases")
        ),
        sa.ForeignKeyConstraint(
            ["decided_by_id"], ["console_users.id"], name=op.f("fk_appeals_decided_by_id_console_users")
        ),
        sa.ForeignKeyConstraint(
            ["decision_id"], ["decisions.id"], name=op.f("fk_appeals_decision_id_decisions")
        ),
        sa.ForeignKeyConstraint(["item_id"], ["items.id"], name=op.f("fk_appeals_item_id_items")),
        sa.ForeignKeyConstraint(
            ["reversal_decision_id"], ["decisions.id"], name=op.f("fk_appeals_reversal_decision_id_decisions")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_appeals")),
        sa.UniqueConstraint("decision_id", name=op.f("uq_appeals_decision_id")),
        sa.UniqueConstraint("external_id", name=op.f("uq_appeals_external_id")),
    )
    op.create_index(op.f("ix_appeals_account_id"), "appeals", ["account_id"], unique=False)
    op.create_index(op.f("ix_appeals_case_id"), "appeals", ["case_id"], unique=False)
    op.create_index(op.f("ix_appeals_due_at"), "appeals", ["due_at"], unique=False)
    op.create_index(op.f("ix_appeals_item_id"), "appeals", ["item_id"], unique=False)
    op.create_index(op.f("ix_appeals_received_at"), "appeals", ["received_at"], unique=False)
    op.create_index(op.f("ix_appeals_state"), "appeals", ["state"], unique=False)
    op.create_table(
        "user_notices",
        sa.Column("id", BigId, nullable=False),
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("decision_id", BigId, nullable=False),
        sa.Column("action_id", BigId, nullable=True),
        sa.Column("item_id", BigId, nullable=False),
        sa.Column("account_id", BigId, nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("withheld_reason", sa.String(length=30), nullable=False),
        sa.Column("withheld_ref", sa.String(length=200), nullable=False),
        sa.Column("withheld_at", UTC, nullable=True),
        sa.Column("released_at", UTC, nullable=True),
        sa.Column("released_by", sa.String(length=200), nullable=False),
        sa.Column("release_note", sa.Text(), nullable=False),
        sa.Column("delivery_id", sa.String(length=64), nullable=False),
        sa.Column("signed_body", sa.Text(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("ready_at", UTC, nullable=True),
        sa.Column("delivered_at", UTC, nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_user_notices_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["action_id"], ["actions.id"], name=op.f("fk_user_notices_action_id_actions")
        ),
        sa.ForeignKeyConstraint(
            ["decision_id"], ["decisions.id"], name=op.f("fk_user_notices_decision_id_decisions")
        ),
        sa.ForeignKeyConstraint(["item_id"], ["items.id"], name=op.f("fk_user_notices_item_id_items")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_notices")),
        sa.UniqueConstraint("key", name=op.f("uq_user_notices_key")),
    )
    op.create_index(op.f("ix_user_notices_account_id"), "user_notices", ["account_id"], unique=False)
    op.create_index(op.f("ix_user_notices_action_id"), "user_notices", ["action_id"], unique=False)
    op.create_index(op.f("ix_user_notices_created_at"), "user_notices", ["created_at"], unique=False)
    op.create_index(op.f("ix_user_notices_decision_id"), "user_notices", ["decision_id"], unique=False)
    op.create_index(op.f("ix_user_notices_item_id"), "user_notices", ["item_id"], unique=False)
    op.create_index(op.f("ix_user_notices_state"), "user_notices", ["state"], unique=False)
    op.create_table(
        "user_notice_feed",
        sa.Column("id", BigId, nullable=False),
        sa.Column("notice_id", BigId, nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.ForeignKeyConstraint(
            ["notice_id"], ["user_notices.id"], name=op.f("fk_user_notice_feed_notice_id_user_notices")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_notice_feed")),
        sa.UniqueConstraint("notice_id", name=op.f("uq_user_notice_feed_notice_id")),
    )


def downgrade() -> None:
    op.drop_table("user_notice_feed")
    op.drop_index(op.f("ix_user_notices_state"), table_name="user_notices")
    op.drop_index(op.f("ix_user_notices_item_id"), table_name="user_notices")
    op.drop_index(op.f("ix_user_notices_decision_id"), table_name="user_notices")
    op.drop_index(op.f("ix_user_notices_created_at"), table_name="user_notices")
    op.drop_index(op.f("ix_user_notices_action_id"), table_name="user_notices")
    op.drop_index(op.f("ix_user_notices_account_id"), table_name="user_notices")
    op.drop_table("user_notices")
    op.drop_index(op.f("ix_appeals_state"), table_name="appeals")
    op.drop_index(op.f("ix_appeals_received_at"), table_name="appeals")
    op.drop_index(op.f("ix_appeals_item_id"), table_name="appeals")
    op.drop_index(op.f("ix_appeals_due_at"), table_name="appeals")
    op.drop_index(op.f("ix_appeals_case_id"), table_name="appeals")
    op.drop_index(op.f("ix_appeals_account_id"), table_name="appeals")
    op.drop_table("appeals")
    op.drop_table("reversal_flags")
