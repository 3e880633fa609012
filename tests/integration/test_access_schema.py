"""The console's access tables as their migrations build them (0006, 0008, 0011: encrypted TOTP secrets
and the addresses known to each account) match the models, and 0011 downgrades and upgrades."""

from __future__ import annotations

from typing import Any

import suraksha.access.models  # noqa: F401 - registers the access tables on Base.metadata
from suraksha.db import Database
from suraksha.db.migrate import current_revision, downgrade, head_revision, upgrade
from tests.schema_support import schema_differences

ACCESS_TABLES = {"console_users", "console_sessions", "console_sign_in_throttle", "console_known_addresses"}


def _differences(db: Database) -> list[Any]:
    return schema_differences(db, ACCESS_TABLES)


def test_access_tables_match_their_migrations(db: Database) -> None:
    assert _differences(db) == []


def test_sign_in_hardening_migration_downgrades_and_upgrades(db: Database) -> None:
    downgrade(db, "0010")
    with db.engine.connect() as conn:
        assert "console_known_addresses" not in set(conn.dialect.get_table_names(conn))
    upgrade(db)
    assert current_revision(db) == head_revision(db)
    assert _differences(db) == []
