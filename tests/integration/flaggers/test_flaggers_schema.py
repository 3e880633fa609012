"""Migrations 0021 (trusted flaggers) and 0028 (their console users) match the models, and go down
and up again."""

from __future__ import annotations

from typing import Any

from sqlalchemy import inspect

import suraksha.flaggers.models  # noqa: F401 - registers the tables on Base.metadata
from suraksha.db import Database
from suraksha.db.migrate import current_revision, downgrade, head_revision, upgrade
from tests.schema_support import schema_differences

TABLES = {"flaggers", "flagger_notices", "flagger_notice_targets", "flagger_messages", "flagger_users"}


def _differences(db: Database) -> list[Any]:
    return schema_differences(db, TABLES)


def test_flaggers_migration_matches_and_round_trips(db: Database) -> None:
    assert _differences(db) == []
    downgrade(db, "0019")
    assert not TABLES & set(inspect(db.engine).get_table_names())
    upgrade(db)
    assert current_revision(db) == head_revision(db)
    assert _differences(db) == []
