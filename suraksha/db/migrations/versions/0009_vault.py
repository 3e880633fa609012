"""Evidence vault: encrypted content-addressed blobs, preservations per decision, their files, and
preservation holds (suraksha.vault.models).

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-24 16:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "vault_blobs",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("object_name", sa.String(length=100), nullable=False),
        sa.Column("key_id", sa.String(length=40), nullable=False),
        sa.Column("wrapped_key", sa.LargeBinary(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("purged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("purge_reason", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vault_blobs")),
        sa.UniqueConstraint("sha256", name=op.f("uq_vault_blobs_sha256")),
    )
    op.create_index(op.f("ix_vault_blobs_key_id"), "vault_blobs", ["key_id"])
    op.create_index(op.f("ix_vault_blobs_purged_at"), "vault_blobs", ["purged_at"])

    op.create_table(
        "vault_preservations",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("decision_id", BIG_ID, nullable=False),
        sa.Column("item_id", BIG_ID, nullable=False),
        sa.Column("account_id", BIG_ID, nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("missing", sa.Text(), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("preserved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("enriched_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_vault_preservations_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["decision_id"], ["decisions.id"], name=op.f("fk_vault_preservations_decision_id_decisions")
        ),
        sa.ForeignKeyConstraint(["item_id"], ["items.id"], name=op.f("fk_vault_preservations_item_id_items")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vault_preservations")),
        sa.UniqueConstraint("decision_id", name=op.f("uq_vault_preservations_decision_id")),
    )
    op.create_index(op.f("ix_vault_preservations_account_id"), "vault_preservations", ["account_id"])
    op.create_index(op.f("ix_vault_preservations_item_id"), "vault_preservations", ["item_id"])
    op.create_index(op.f("ix_vault_preservations_state"), "vault_preservations", ["state"])

    op.create_table(
        "vault_preserved_files",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("preservation_id", BIG_ID, nullable=False),
        sa.Column("blob_id", BIG_ID, nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("media_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["blob_id"], ["vault_blobs.id"], name=op.f("fk_vault_preserved_files_blob_id_vault_blobs")
        ),
        sa.ForeignKeyConstraint(
            ["preservation_id"],
            ["vault_preservations.id"],
            name=op.f("fk_vault_preserved_files_preservation_id_vault_preservations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vault_preserved_files")),
        sa.UniqueConstraint("preservation_id", "name", name=op.f("uq_vault_preserved_files_preservation_id")),
    )
    op.create_index(op.f("ix_vault_preserved_files_blob_id"), "vault_preserved_files", ["blob_id"])
    op.create_index(
        op.f("ix_vault_preserved_files_preservation_id"), "vault_preserved_files", ["preservation_id"]
    )

    op.create_table(
        "vault_holds",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("preservation_id", BIG_ID, nullable=False),
        sa.Column("basis", sa.String(length=60), nullable=False),
        sa.Column("jurisdiction", sa.String(length=10), nullable=False),
        sa.Column("reference", sa.String(length=200), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("extensions", sa.Integer(), nullable=False),
        sa.Column("placed_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("released_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("release_reason", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["preservation_id"],
            ["vault_preservations.id"],
            name=op.f("fk_vault_holds_preservation_id_vault_preservations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vault_holds")),
        sa.UniqueConstraint(
            "preservation_id", "basis", "reference", name=op.f("uq_vault_holds_preservation_id")
        ),
    )
    op.create_index(op.f("ix_vault_holds_expires_at"), "vault_holds", ["expires_at"])
    op.create_index(op.f("ix_vault_holds_preservation_id"), "vault_holds", ["preservation_id"])


def downgrade() -> None:
    op.drop_table("vault_holds")
    op.drop_table("vault_preserved_files")
    op.drop_table("vault_preservations")
    op.drop_table("vault_blobs")
