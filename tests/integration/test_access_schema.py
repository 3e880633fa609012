"""The console's access tables as their migrations build them (0006, 0008, 0011: encrypted TOTP secrets
and the addresses known to each account) match the models, and 0011 downgrades and upgrades."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

import suraksha.access.models  # noqa: F401 - registers the access tables on Base.metadata
from suraksha.db import Database
from suraksha.db.base import Base
from suraksha.db.migrate import current_revision, downgrade, head_revision, upgrade

ACCESS_TABLES = {"console_users", "console_sessions", "console_sign_in_throttle", "console_known_addresses"}


def _differences(db: Database) -> list[Any]:
    def include_object(_obj: object, name: str | None, type_: str, _reflected: bool, _to: object) -> bool:
        table = getattr(_obj, "table", None)
        owner = name if type_ == "table" else getattr(table, "name", None)
        return owner in ACCESS_TABLES

    opts = {"compare_type": True, "include_object": include_object}
    with db.engine.connect() as conn:
        return list(compare_metadata(MigrationContext.configure(conn, opts=opts), Base.metadata))


def test_access_tables_match_their_migrations(db: Database) -> None:
    assert _differences(db) == []


def test_sign_in_hardening_migration_downgrades_and_upgrades(db: Database) -> None:
    downgrade(db, "0010")
    with db.engine.connect() as conn:
        assert "console_known_addresses" not in set(conn.dialect.get_table_names(conn))
    upgrade(db)
    assert current_revision(db) == head_revision(db)
    assert _differences(db) == []
