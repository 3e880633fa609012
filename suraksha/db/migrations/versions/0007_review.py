"""Review: cases (queues, claims), human views of media, reviewer decisions with four-eyes approvals,
reviewer display preferences (suraksha.review.models).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-24 16:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TS = sa.DateTime(timezone=True)


def _fk(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}"))


def upgrade() -> None:
    op.create_table(
        "review_cases",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("item_id", BIG_ID, nullable=False),
        sa.Column("open_item_id", BIG_ID, nullable=True),
        sa.Column("decision_id", BIG_ID, nullable=True),
        sa.Column("category", sa.String(length=60), nullable=False),
        sa.Column("source", sa.String(length=30), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("detected_at", TS, nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("claimed_by_id", sa.Integer(), nullable=True),
        sa.Column("claim_expires_at", TS, nullable=True),
        sa.Column("escalation_note", sa.Text(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.Column("closed_at", TS, nullable=True),
        _fk("review_cases", "item_id", "items"),
        _fk("review_cases", "decision_id", "decisions"),
        _fk("review_cases", "claimed_by_id", "console_users"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_cases")),
        sa.UniqueConstraint("open_item_id", name=op.f("uq_review_cases_open_item_id")),
    )
    for column in ("item_id", "decision_id", "category", "source", "priority", "detected_at", "state"):
        op.create_index(op.f(f"ix_review_cases_{column}"), "review_cases", [column])
    op.create_index(op.f("ix_review_cases_claimed_by_id"), "review_cases", ["claimed_by_id"])

    op.create_table(
        "human_views",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("media_id", BIG_ID, nullable=False),
        sa.Column("item_id", BIG_ID, nullable=False),
        sa.Column("case_id", BIG_ID, nullable=True),
        sa.Column("category", sa.String(length=60), nullable=False),
        sa.Column("exif_viewed", sa.Boolean(), nullable=False),
        sa.Column("viewed_at", TS, nullable=False),
        sa.Column("seconds", sa.Integer(), nullable=True),
        _fk("human_views", "user_id", "console_users"),
        _fk("human_views", "media_id", "item_media"),
        _fk("human_views", "item_id", "items"),
        _fk("human_views", "case_id", "review_cases"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_human_views")),
    )
    for column in ("user_id", "media_id", "item_id", "case_id", "viewed_at"):
        op.create_index(op.f(f"ix_human_views_{column}"), "human_views", [column])

    op.create_table(
        "review_decisions",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("case_id", BIG_ID, nullable=False),
        sa.Column("item_id", BIG_ID, nullable=False),
        sa.Column("reviewer_id", sa.Integer(), nullable=False),
        sa.Column("reviewer_ref", sa.String(length=16), nullable=False),
        sa.Column("violation", sa.String(length=30), nullable=False),
        sa.Column("industry_classification", sa.String(length=2), nullable=True),
        sa.Column("actions", sa.String(length=200), nullable=False),
        sa.Column("countries", sa.String(length=500), nullable=False),
        sa.Column("report_to_clearinghouse", sa.Boolean(), nullable=False),
        sa.Column("child_at_immediate_risk", sa.Boolean(), nullable=False),
        sa.Column("allow_list", sa.Boolean(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("approval_state", sa.String(length=20), nullable=False),
        sa.Column("approver_id", sa.Integer(), nullable=True),
        sa.Column("approver_ref", sa.String(length=16), nullable=False),
        sa.Column("approval_note", sa.Text(), nullable=False),
        sa.Column("approved_at", TS, nullable=True),
        sa.Column("decision_id", BIG_ID, nullable=True),
        sa.Column("created_at", TS, nullable=False),
        _fk("review_decisions", "case_id", "review_cases"),
        _fk("review_decisions", "item_id", "items"),
        _fk("review_decisions", "reviewer_id", "console_users"),
        _fk("review_decisions", "approver_id", "console_users"),
        _fk("review_decisions", "decision_id", "decisions"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_decisions")),
    )
    for column in ("case_id", "item_id", "reviewer_id", "approval_state", "decision_id", "created_at"):
        op.create_index(op.f(f"ix_review_decisions_{column}"), "review_decisions", [column])

    op.create_table(
        "reviewer_preferences",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("blur", sa.Boolean(), nullable=True),
        sa.Column("greyscale", sa.Boolean(), nullable=True),
        sa.Column("updated_at", TS, nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["console_users.id"],
            name=op.f("fk_reviewer_preferences_user_id_console_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_reviewer_preferences")),
    )


def downgrade() -> None:
    op.drop_table("reviewer_preferences")
    op.drop_table("review_decisions")
    op.drop_table("human_views")
    op.drop_table("review_cases")
