"""Console sign-in hardening (issue 12): TOTP secrets encrypted at rest (a wider column, and a pending
set-up secret made by the server), and the addresses known to each account (so a distributed guessing run
asks only new addresses for the second factor, and never locks the account).

Existing plain TOTP secrets stay readable and are sealed at their next use once ``console_totp_key`` is
set (a migration has no key to seal them with, and dropping them would silently turn second factors off).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 03:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("console_users") as batch:
        batch.alter_column(
            "totp_secret",
            existing_type=sa.String(length=64),
            type_=sa.String(length=200),
            existing_nullable=True,
        )
        batch.add_column(sa.Column("totp_pending_secret", sa.String(length=200), nullable=True))
        batch.add_column(sa.Column("totp_pending_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "console_known_addresses",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("last_sign_in_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["console_users.id"],
            name=op.f("fk_console_known_addresses_user_id_console_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_console_known_addresses")),
    )
    op.create_index(
        op.f("ix_console_known_addresses_user_id"), "console_known_addresses", ["user_id"], unique=False
    )
    op.create_index(
        op.f("ix_console_known_addresses_last_sign_in_at"),
        "console_known_addresses",
        ["last_sign_in_at"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_console_known_addresses_last_sign_in_at"), table_name="console_known_addresses")
    op.drop_index(op.f("ix_console_known_addresses_user_id"), table_name="console_known_addresses")
    op.drop_table("console_known_addresses")
    with op.batch_alter_table("console_users") as batch:
        batch.drop_column("totp_pending_at")
        batch.drop_column("totp_pending_secret")
        batch.alter_column(
            "totp_secret",
            existing_type=sa.String(length=200),
            type_=sa.String(length=64),
            existing_nullable=True,
        )
