"""HMA drop-in: a bank's matching ratio, and each bank entry's HMA content metadata (``content_id``,
``content_uri``, ``json``), all stored as given and returned by ``GET /c/bank/{name}/content/{id}``.

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-07 15:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("banks") as batch:
        batch.add_column(sa.Column("enabled_ratio", sa.Float(), nullable=False, server_default="1.0"))
    with op.batch_alter_table("bank_entries") as batch:
        batch.add_column(sa.Column("content_id", sa.String(length=255), nullable=True))
        batch.add_column(sa.Column("content_uri", sa.String(length=2048), nullable=True))
        batch.add_column(sa.Column("content_json", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("bank_entries") as batch:
        batch.drop_column("content_json")
        batch.drop_column("content_uri")
        batch.drop_column("content_id")
    with op.batch_alter_table("banks") as batch:
        batch.drop_column("enabled_ratio")
