"""Migration 0022 (notices to users, appeals, reversal flags) matches the models on SQLite and
PostgreSQL, and goes down and up again."""

from __future__ import annotations

from typing import Any

from sqlalchemy import inspect

import suraksha.appeals.models
import suraksha.enforcement.models  # noqa: F401 - both register their tables on Base.metadata
from suraksha.db import Database
from suraksha.db.migrate import current_revision, downgrade, head_revision, upgrade
from tests.schema_support import schema_differences

TABLES = {"appeals", "reversal_flags", "user_notices", "user_notice_feed"}


def _differences(db: Database) -> list[Any]:
    return schema_differences(db, TABLES)


def test_appeals_migration_matches_and_round_trips(db: Database) -> None:
    assert _differences(db) == []
    downgrade(db, "0019")
    assert not TABLES & set(inspect(db.engine).get_table_names())
    upgrade(db)
    assert current_revision(db) == head_revision(db)
    assert _differences(db) == []
