"""Migration 0026 (a bank's HMA matching ratio, a bank entry's HMA content metadata) matches the models,
both ways."""

from __future__ import annotations

from typing import Any

from alembic.script import ScriptDirectory
from sqlalchemy import inspect

import suraksha.banks.models  # noqa: F401 - registers the tables on Base.metadata
from suraksha.db import Database
from suraksha.db.migrate import alembic_config, current_revision, downgrade, head_revision, upgrade
from tests.schema_support import schema_differences

TABLES = {"banks", "bank_entries"}
COLUMNS = {"banks": {"enabled_ratio"}, "bank_entries": {"content_id", "content_uri", "content_json"}}


def _differences(db: Database) -> list[Any]:
    return schema_differences(db, TABLES)


def below_0026(db: Database) -> str:
    """0026's parent, whatever it is once merged (the columns come and go with 0026 alone)."""
    parent = ScriptDirectory.from_config(alembic_config(db)).get_revision("0026").down_revision
    assert isinstance(parent, str)
    return parent


def _columns(db: Database) -> dict[str, set[str]]:
    inspector = inspect(db.engine)
    return {table: {str(c["name"]) for c in inspector.get_columns(table)} for table in TABLES}


def test_hma_content_migration_matches_and_round_trips(db: Database) -> None:
    assert _differences(db) == []
    assert all(COLUMNS[t] <= names for t, names in _columns(db).items())
    downgrade(db, below_0026(db))
    assert not any(COLUMNS[t] & names for t, names in _columns(db).items())
    upgrade(db)
    assert current_revision(db) == head_revision(db)
    assert _differences(db) == []
