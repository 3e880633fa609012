"""Migration 0009 builds the vault's tables as the models declare them, and downgrades cleanly."""

from __future__ import annotations

from suraksha.db import Database
from suraksha.db.migrate import current_revision, downgrade, head_revision, upgrade

VAULT_TABLES = {"vault_blobs", "vault_preservations", "vault_preserved_files", "vault_holds"}


def test_vault_migration_downgrades_and_upgrades(db: Database) -> None:
    with db.engine.connect() as conn:
        assert set(conn.dialect.get_table_names(conn)) >= VAULT_TABLES
    downgrade(db, "0008")
    with db.engine.connect() as conn:
        assert not VAULT_TABLES & set(conn.dialect.get_table_names(conn))
    upgrade(db)
    assert current_revision(db) == head_revision(db)
    with db.engine.connect() as conn:
        assert set(conn.dialect.get_table_names(conn)) >= VAULT_TABLES
