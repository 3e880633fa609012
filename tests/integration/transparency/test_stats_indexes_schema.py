"""Migration 0025 (the indexes statistics count by) matches the models, both ways."""

from __future__ import annotations

from typing import Any

from sqlalchemy import inspect

import suraksha.enforcement.models
import suraksha.reporting.models  # noqa: F401 - registers the tables on Base.metadata
from suraksha.db import Database
from suraksha.db.migrate import current_revision, downgrade, head_revision, upgrade
from tests.schema_support import schema_differences

TABLES = {"actions", "cybertipline_reports"}
INDEXES = {
    "actions": "ix_actions_created_at",
    "cybertipline_reports": "ix_cybertipline_reports_state_finished_at",
}


def _differences(db: Database) -> list[Any]:
    return schema_differences(db, TABLES)


def _indexes(db: Database) -> dict[str, set[str]]:
    inspector = inspect(db.engine)
    return {table: {str(i["name"]) for i in inspector.get_indexes(table)} for table in TABLES}


def test_stats_indexes_migration_matches_and_round_trips(db: Database) -> None:
    assert _differences(db) == []
    assert all(INDEXES[table] in names for table, names in _indexes(db).items())
    downgrade(db, "0024")  # below 0025, whatever follows it
    assert not any(INDEXES[table] in names for table, names in _indexes(db).items())
    upgrade(db)
    assert current_revision(db) == head_revision(db)
    assert _differences(db) == []
