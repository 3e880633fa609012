"""Migration 0018 (the statistics rollup, items.backfilled) matches the models, both ways."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

import suraksha.content.history
import suraksha.content.models
import suraksha.transparency.models  # noqa: F401 - registers the tables on Base.metadata
from suraksha.db import Database
from suraksha.db.base import Base
from suraksha.db.migrate import current_revision, downgrade, head_revision, upgrade

TABLES = {"items", "stats_days", "stats_day_counts", "stats_day_times"}


def _differences(db: Database) -> list[Any]:
    def include_object(_obj: object, name: str | None, type_: str, _reflected: bool, _to: object) -> bool:
        table = getattr(_obj, "table", None)
        owner = name if type_ == "table" else getattr(table, "name", None)
        return owner in TABLES

    opts = {"compare_type": True, "include_object": include_object}
    with db.engine.connect() as conn:
        return list(compare_metadata(MigrationContext.configure(conn, opts=opts), Base.metadata))


def test_stats_rollup_migration_matches_and_round_trips(db: Database) -> None:
    assert _differences(db) == []
    downgrade(db, "0017")
    inspector = inspect(db.engine)
    assert "backfilled" not in {c["name"] for c in inspector.get_columns("items")}
    assert not {"stats_days", "stats_day_counts", "stats_day_times"} & set(inspector.get_table_names())
    upgrade(db)
    assert current_revision(db) == head_revision(db)
    assert _differences(db) == []
