"""Clearinghouse reports: CyberTipline reports (one per reported account, a persistent state machine),
their files, and police referrals (suraksha.reporting.models).

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-24 16:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
UTC = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "cybertipline_reports",
        sa.Column("id", BigId, nullable=False),
        sa.Column("account_id", BigId, nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("environment", sa.String(length=200), nullable=False),
        sa.Column("incident_type", sa.String(length=100), nullable=False),
        sa.Column("annotations", sa.String(length=200), nullable=False),
        sa.Column("escalate_reason", sa.Text(), nullable=False),
        sa.Column("additional_info", sa.Text(), nullable=False),
        sa.Column("report_xml", sa.Text(), nullable=False),
        sa.Column("ncmec_report_id", sa.BigInteger(), nullable=True),
        sa.Column("response_code", sa.Integer(), nullable=True),
        sa.Column("failure", sa.Text(), nullable=False),
        sa.Column("submit_attempts", sa.Integer(), nullable=False),
        sa.Column("unknown_outcomes", sa.Integer(), nullable=False),
        sa.Column("server_retries", sa.Integer(), nullable=False),
        sa.Column("restarts", sa.Integer(), nullable=False),
        sa.Column("approved_by", sa.String(length=400), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("approved_at", UTC, nullable=True),
        sa.Column("opened_at", UTC, nullable=True),
        sa.Column("last_change_at", UTC, nullable=True),
        sa.Column("finished_at", UTC, nullable=True),
        sa.Column("updated_at", UTC, nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_cybertipline_reports_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cybertipline_reports")),
    )
    op.create_index(op.f("ix_cybertipline_reports_account_id"), "cybertipline_reports", ["account_id"])
    op.create_index(op.f("ix_cybertipline_reports_state"), "cybertipline_reports", ["state"])
    op.create_index(
        op.f("ix_cybertipline_reports_ncmec_report_id"), "cybertipline_reports", ["ncmec_report_id"]
    )
    op.create_table(
        "cybertipline_report_files",
        sa.Column("id", BigId, nullable=False),
        sa.Column("report_id", BigId, nullable=False),
        sa.Column("item_id", BigId, nullable=False),
        sa.Column("media_id", BigId, nullable=False),
        sa.Column("decision_id", BigId, nullable=True),
        sa.Column("review_decision_id", sa.BigInteger(), nullable=True),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("md5", sa.String(length=32), nullable=False),
        sa.Column("file_name", sa.String(length=200), nullable=False),
        sa.Column("viewed_by_esp", sa.Boolean(), nullable=False),
        sa.Column("exif_viewed_by_esp", sa.Boolean(), nullable=False),
        sa.Column("view_basis", sa.Text(), nullable=False),
        sa.Column("publicly_available", sa.Boolean(), nullable=True),
        sa.Column("industry_classification", sa.String(length=2), nullable=True),
        sa.Column("ncmec_file_id", sa.String(length=200), nullable=True),
        sa.Column("details_xml", sa.Text(), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.ForeignKeyConstraint(
            ["decision_id"], ["decisions.id"], name=op.f("fk_cybertipline_report_files_decision_id_decisions")
        ),
        sa.ForeignKeyConstraint(
            ["item_id"], ["items.id"], name=op.f("fk_cybertipline_report_files_item_id_items")
        ),
        sa.ForeignKeyConstraint(
            ["media_id"], ["item_media.id"], name=op.f("fk_cybertipline_report_files_media_id_item_media")
        ),
        sa.ForeignKeyConstraint(
            ["report_id"],
            ["cybertipline_reports.id"],
            name=op.f("fk_cybertipline_report_files_report_id_cybertipline_reports"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cybertipline_report_files")),
        sa.UniqueConstraint("report_id", "media_id", name=op.f("uq_cybertipline_report_files_report_id")),
    )
    for column in ("decision_id", "item_id", "media_id", "report_id", "review_decision_id"):
        op.create_index(op.f(f"ix_cybertipline_report_files_{column}"), "cybertipline_report_files", [column])
    op.create_table(
        "police_referrals",
        sa.Column("id", BigId, nullable=False),
        sa.Column("account_id", BigId, nullable=False),
        sa.Column("jurisdiction", sa.String(length=10), nullable=False),
        sa.Column("agency", sa.String(length=300), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("ncmec_report_ids", sa.String(length=400), nullable=False),
        sa.Column("evidence_manifest_sha256", sa.String(length=64), nullable=False),
        sa.Column("package_path", sa.Text(), nullable=False),
        sa.Column("pdf_sha256", sa.String(length=64), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("sent_at", UTC, nullable=True),
        sa.Column("sent_via", sa.String(length=300), nullable=False),
        sa.Column("acknowledged_at", UTC, nullable=True),
        sa.Column("case_number", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_police_referrals_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_police_referrals")),
    )
    op.create_index(op.f("ix_police_referrals_account_id"), "police_referrals", ["account_id"])
    op.create_index(op.f("ix_police_referrals_state"), "police_referrals", ["state"])


def downgrade() -> None:
    op.drop_index(op.f("ix_police_referrals_state"), table_name="police_referrals")
    op.drop_index(op.f("ix_police_referrals_account_id"), table_name="police_referrals")
    op.drop_table("police_referrals")
    for column in ("decision_id", "item_id", "media_id", "report_id", "review_decision_id"):
        op.drop_index(op.f(f"ix_cybertipline_report_files_{column}"), table_name="cybertipline_report_files")
    op.drop_table("cybertipline_report_files")
    op.drop_index(op.f("ix_cybertipline_reports_state"), table_name="cybertipline_reports")
    op.drop_index(op.f("ix_cybertipline_reports_ncmec_report_id"), table_name="cybertipline_reports")
    op.drop_index(op.f("ix_cybertipline_reports_account_id"), table_name="cybertipline_reports")
    op.drop_table("cybertipline_reports")
