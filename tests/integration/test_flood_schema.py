"""Migration 0027 (flood quarantine) creates what the models declare, and downgrades cleanly."""

from __future__ import annotations

from typing import Any

from sqlalchemy import inspect

import suraksha.banks.models  # noqa: F401 - registers the tables on Base.metadata
from suraksha.db import Database
from suraksha.db.migrate import current_revision, downgrade, head_revision, upgrade
from tests.schema_support import schema_differences

TABLES = {"bank_entry_match_counts", "bank_entry_quarantines"}


def _differences(db: Database) -> list[Any]:
    return schema_differences(db, TABLES)


def test_flood_migration_matches_and_round_trips(db: Database) -> None:
    assert _differences(db) == []
    downgrade(db, "0025")  # below 0027, whatever follows it
    assert not TABLES & set(inspect(db.engine).get_table_names())
    upgrade(db)
    assert current_revision(db) == head_revision(db)
    assert _differences(db) == []
