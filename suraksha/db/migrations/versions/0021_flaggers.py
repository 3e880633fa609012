"""Trusted flaggers: the registry, their notices and what each names, and the webhooks owed to them
(suraksha.flaggers.models).

Revision ID: 0021
Revises: 0019
Create Date: 2026-12-07 06:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None

UTC = sa.DateTime(timezone=True)
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "flaggers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("organisation", sa.String(length=300), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("jurisdiction", sa.String(length=10), nullable=False),
        sa.Column("designation", sa.String(length=20), nullable=False),
        sa.Column("designated_on", sa.Date(), nullable=True),
        sa.Column("designating_authority", sa.String(length=300), nullable=False),
        sa.Column("contacts", sa.Text(), nullable=False),
        sa.Column("expertise", sa.String(length=500), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("state_reason", sa.Text(), nullable=False),
        sa.Column("state_changed_at", UTC, nullable=True),
        sa.Column("api_key_id", sa.Integer(), nullable=False),
        sa.Column("webhook_url", sa.Text(), nullable=True),
        sa.Column("webhook_secret", sa.Text(), nullable=False),
        sa.Column("webhook_allow_private_network", sa.Boolean(), nullable=False),
        sa.Column("status_review_at", UTC, nullable=True),
        sa.Column("status_review_reason", sa.Text(), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.ForeignKeyConstraint(
            ["api_key_id"], ["api_keys.id"], name=op.f("fk_flaggers_api_key_id_api_keys")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_flaggers")),
        sa.UniqueConstraint("api_key_id", name=op.f("uq_flaggers_api_key_id")),
        sa.UniqueConstraint("name", name=op.f("uq_flaggers_name")),
    )
    op.create_index(op.f("ix_flaggers_state"), "flaggers", ["state"])
    op.create_table(
        "flagger_notices",
        sa.Column("id", BigId, nullable=False),
        sa.Column("flagger_id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=200), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("category", sa.String(length=60), nullable=False),
        sa.Column("explanation", sa.Text(), nullable=False),
        sa.Column("clock_kind", sa.String(length=40), nullable=False),
        sa.Column("jurisdiction", sa.String(length=10), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("outcome", sa.String(length=20), nullable=True),
        sa.Column("received_at", UTC, nullable=False),
        sa.Column("acknowledged_at", UTC, nullable=False),
        sa.Column("decided_at", UTC, nullable=True),
        sa.ForeignKeyConstraint(
            ["flagger_id"], ["flaggers.id"], name=op.f("fk_flagger_notices_flagger_id_flaggers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_flagger_notices")),
        sa.UniqueConstraint("flagger_id", "reference", name=op.f("uq_flagger_notices_flagger_id")),
    )
    for column in ("flagger_id", "category", "state", "outcome", "received_at"):
        op.create_index(op.f(f"ix_flagger_notices_{column}"), "flagger_notices", [column])
    op.create_table(
        "flagger_notice_targets",
        sa.Column("id", BigId, nullable=False),
        sa.Column("notice_id", BigId, nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("item_id", BigId, nullable=True),
        sa.Column("case_id", BigId, nullable=True),
        sa.Column("joined_existing_case", sa.Boolean(), nullable=False),
        sa.Column("violation", sa.String(length=30), nullable=True),
        sa.Column("actions", sa.String(length=200), nullable=False),
        sa.Column("review_decision_id", BigId, nullable=True),
        sa.Column("decided_at", UTC, nullable=True),
        sa.ForeignKeyConstraint(
            ["notice_id"],
            ["flagger_notices.id"],
            name=op.f("fk_flagger_notice_targets_notice_id_flagger_notices"),
        ),
        sa.ForeignKeyConstraint(
            ["item_id"], ["items.id"], name=op.f("fk_flagger_notice_targets_item_id_items")
        ),
        sa.ForeignKeyConstraint(
            ["case_id"], ["review_cases.id"], name=op.f("fk_flagger_notice_targets_case_id_review_cases")
        ),
        sa.ForeignKeyConstraint(
            ["review_decision_id"],
            ["review_decisions.id"],
            name=op.f("fk_flagger_notice_targets_review_decision_id_review_decisions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_flagger_notice_targets")),
        sa.UniqueConstraint("notice_id", "position", name=op.f("uq_flagger_notice_targets_notice_id")),
    )
    for column in ("notice_id", "state", "item_id", "case_id", "review_decision_id"):
        op.create_index(op.f(f"ix_flagger_notice_targets_{column}"), "flagger_notice_targets", [column])
    op.create_table(
        "flagger_messages",
        sa.Column("id", BigId, nullable=False),
        sa.Column("flagger_id", sa.Integer(), nullable=False),
        sa.Column("notice_id", BigId, nullable=False),
        sa.Column("event", sa.String(length=40), nullable=False),
        sa.Column("delivery_id", sa.String(length=64), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_status", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("delivered_at", UTC, nullable=True),
        sa.ForeignKeyConstraint(
            ["flagger_id"], ["flaggers.id"], name=op.f("fk_flagger_messages_flagger_id_flaggers")
        ),
        sa.ForeignKeyConstraint(
            ["notice_id"], ["flagger_notices.id"], name=op.f("fk_flagger_messages_notice_id_flagger_notices")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_flagger_messages")),
        sa.UniqueConstraint("delivery_id", name=op.f("uq_flagger_messages_delivery_id")),
        sa.UniqueConstraint("notice_id", "event", name=op.f("uq_flagger_messages_notice_id")),
    )
    for column in ("flagger_id", "notice_id", "state"):
        op.create_index(op.f(f"ix_flagger_messages_{column}"), "flagger_messages", [column])


def downgrade() -> None:
    op.drop_table("flagger_messages")
    op.drop_table("flagger_notice_targets")
    op.drop_table("flagger_notices")
    op.drop_table("flaggers")
