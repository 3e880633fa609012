"""Migration 0018 (the statistics rollup, items.backfilled) matches the models, both ways."""

from __future__ import annotations

from typing import Any

from sqlalchemy import inspect

import suraksha.content.history
import suraksha.content.models
import suraksha.transparency.models  # noqa: F401 - registers the tables on Base.metadata
from suraksha.db import Database
from suraksha.db.migrate import current_revision, downgrade, head_revision, upgrade
from tests.schema_support import schema_differences

TABLES = {"items", "stats_days", "stats_day_counts", "stats_day_times"}


def _differences(db: Database) -> list[Any]:
    return schema_differences(db, TABLES)


def test_stats_rollup_migration_matches_and_round_trips(db: Database) -> None:
    assert _differences(db) == []
    downgrade(db, "0017")
    inspector = inspect(db.engine)
    assert "backfilled" not in {c["name"] for c in inspector.get_columns("items")}
    assert not {"stats_days", "stats_day_counts", "stats_day_times"} & set(inspector.get_table_names())
    upgrade(db)
    assert current_revision(db) == head_revision(db)
    assert _differences(db) == []
