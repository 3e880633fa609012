"""Statements of reasons sent to the DSA Transparency Database, one per action
(suraksha.transparency.models).

Revision ID: 0019
Revises: 0017
Create Date: 2026-12-07 06:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

UTC = sa.DateTime(timezone=True)
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "statements_of_reasons",
        sa.Column("id", BigId, nullable=False),
        sa.Column("action_id", BigId, nullable=False),
        sa.Column("decision_id", BigId, nullable=False),
        sa.Column("puid", sa.String(length=500), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("uuid", sa.String(length=64), nullable=True),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", UTC, nullable=True),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("last_attempt_at", UTC, nullable=True),
        sa.Column("submitted_at", UTC, nullable=True),
        sa.ForeignKeyConstraint(
            ["action_id"], ["actions.id"], name=op.f("fk_statements_of_reasons_action_id_actions")
        ),
        sa.ForeignKeyConstraint(
            ["decision_id"], ["decisions.id"], name=op.f("fk_statements_of_reasons_decision_id_decisions")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_statements_of_reasons")),
        sa.UniqueConstraint("action_id", name=op.f("uq_statements_of_reasons_action_id")),
        sa.UniqueConstraint("puid", name=op.f("uq_statements_of_reasons_puid")),
    )
    op.create_index(op.f("ix_statements_of_reasons_decision_id"), "statements_of_reasons", ["decision_id"])
    op.create_index(op.f("ix_statements_of_reasons_state"), "statements_of_reasons", ["state"])
    op.create_index(
        op.f("ix_statements_of_reasons_next_attempt_at"), "statements_of_reasons", ["next_attempt_at"]
    )


def downgrade() -> None:
    op.drop_table("statements_of_reasons")
