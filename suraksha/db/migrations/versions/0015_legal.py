"""The legal desk: authorities, requests with their scope, and each request's timeline
(suraksha.legal.models).

Revision ID: 0015
Revises: 0011
Create Date: 2026-12-07 03:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0011"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
UTC = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "legal_authorities",
        sa.Column("id", BigId, nullable=False),
        sa.Column("agency", sa.String(length=200), nullable=False),
        sa.Column("unit", sa.String(length=200), nullable=False),
        sa.Column("officer", sa.String(length=200), nullable=False),
        sa.Column("rank", sa.String(length=100), nullable=False),
        sa.Column("jurisdiction", sa.String(length=10), nullable=False),
        sa.Column("contact", sa.String(length=300), nullable=False),
        sa.Column("verified_how", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_legal_authorities")),
    )
    op.create_index(op.f("ix_legal_authorities_jurisdiction"), "legal_authorities", ["jurisdiction"])
    op.create_table(
        "legal_requests",
        sa.Column("id", BigId, nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("jurisdiction", sa.String(length=10), nullable=False),
        sa.Column("authority_id", BigId, nullable=True),
        sa.Column("reference", sa.String(length=200), nullable=False),
        sa.Column("external_id", sa.String(length=200), nullable=True),
        sa.Column("legal_basis", sa.String(length=300), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("received_at", UTC, nullable=False),
        sa.Column("stated_due_at", UTC, nullable=True),
        sa.Column("confidential", sa.Boolean(), nullable=False),
        sa.Column("confidential_until", UTC, nullable=True),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("state_reason", sa.Text(), nullable=False),
        sa.Column("acknowledged_at", UTC, nullable=True),
        sa.Column("acted_at", UTC, nullable=True),
        sa.Column("answered_at", UTC, nullable=True),
        sa.Column("closed_at", UTC, nullable=True),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("updated_at", UTC, nullable=False),
        sa.ForeignKeyConstraint(
            ["authority_id"],
            ["legal_authorities.id"],
            name=op.f("fk_legal_requests_authority_id_legal_authorities"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_legal_requests")),
        sa.UniqueConstraint("external_id", name=op.f("uq_legal_requests_external_id")),
    )
    op.create_index(op.f("ix_legal_requests_kind"), "legal_requests", ["kind"])
    op.create_index(op.f("ix_legal_requests_received_at"), "legal_requests", ["received_at"])
    op.create_index(op.f("ix_legal_requests_state"), "legal_requests", ["state"])
    op.create_table(
        "legal_request_scope",
        sa.Column("id", BigId, nullable=False),
        sa.Column("request_id", BigId, nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("account_id", BigId, nullable=True),
        sa.Column("item_id", BigId, nullable=True),
        sa.Column("not_found", sa.Text(), nullable=False),
        sa.Column("from_at", UTC, nullable=True),
        sa.Column("to_at", UTC, nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_legal_request_scope_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(["item_id"], ["items.id"], name=op.f("fk_legal_request_scope_item_id_items")),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["legal_requests.id"],
            name=op.f("fk_legal_request_scope_request_id_legal_requests"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_legal_request_scope")),
    )
    op.create_index(op.f("ix_legal_request_scope_account_id"), "legal_request_scope", ["account_id"])
    op.create_index(op.f("ix_legal_request_scope_item_id"), "legal_request_scope", ["item_id"])
    op.create_index(op.f("ix_legal_request_scope_request_id"), "legal_request_scope", ["request_id"])
    op.create_table(
        "legal_request_events",
        sa.Column("id", BigId, nullable=False),
        sa.Column("request_id", BigId, nullable=False),
        sa.Column("at", UTC, nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("event", sa.String(length=40), nullable=False),
        sa.Column("from_state", sa.String(length=20), nullable=False),
        sa.Column("to_state", sa.String(length=20), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["legal_requests.id"],
            name=op.f("fk_legal_request_events_request_id_legal_requests"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_legal_request_events")),
    )
    op.create_index(op.f("ix_legal_request_events_request_id"), "legal_request_events", ["request_id"])
    op.create_table(
        "legal_disclosures",
        sa.Column("id", BigId, nullable=False),
        sa.Column("request_id", BigId, nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("package_path", sa.Text(), nullable=False),
        sa.Column("pdf_sha256", sa.String(length=64), nullable=False),
        sa.Column("evidence_manifest_sha256", sa.String(length=64), nullable=False),
        sa.Column("accounts", sa.Integer(), nullable=False),
        sa.Column("items", sa.Integer(), nullable=False),
        sa.Column("drafted_by", sa.String(length=200), nullable=False),
        sa.Column("drafted_at", UTC, nullable=False),
        sa.Column("approved_by", sa.String(length=200), nullable=False),
        sa.Column("approved_at", UTC, nullable=True),
        sa.Column("sent_at", UTC, nullable=True),
        sa.Column("sent_via", sa.String(length=300), nullable=False),
        sa.ForeignKeyConstraint(
            ["request_id"], ["legal_requests.id"], name=op.f("fk_legal_disclosures_request_id_legal_requests")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_legal_disclosures")),
    )
    op.create_index(op.f("ix_legal_disclosures_request_id"), "legal_disclosures", ["request_id"])
    op.create_table(
        "legal_clock_alerts",
        sa.Column("id", BigId, nullable=False),
        sa.Column("request_id", BigId, nullable=False),
        sa.Column("step", sa.String(length=20), nullable=False),
        sa.Column("level", sa.String(length=20), nullable=False),
        sa.Column("sent_at", UTC, nullable=False),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["legal_requests.id"],
            name=op.f("fk_legal_clock_alerts_request_id_legal_requests"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_legal_clock_alerts")),
        sa.UniqueConstraint("request_id", "step", "level", name=op.f("uq_legal_clock_alerts_request_id")),
    )
    op.create_index(op.f("ix_legal_clock_alerts_request_id"), "legal_clock_alerts", ["request_id"])


def downgrade() -> None:
    op.drop_table("legal_clock_alerts")
    op.drop_table("legal_disclosures")
    op.drop_table("legal_request_events")
    op.drop_table("legal_request_scope")
    op.drop_table("legal_requests")
    op.drop_table("legal_authorities")
