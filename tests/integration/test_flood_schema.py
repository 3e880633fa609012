"""Migration 0027 (flood quarantine) creates what the models declare, and downgrades cleanly."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

import suraksha.banks.models  # noqa: F401 - registers the tables on Base.metadata
from suraksha.db import Database
from suraksha.db.base import Base
from suraksha.db.migrate import current_revision, downgrade, head_revision, upgrade

TABLES = {"bank_entry_match_counts", "bank_entry_quarantines"}


def _differences(db: Database) -> list[Any]:
    def include_object(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
        table = getattr(obj, "table", None)
        owner = name if type_ == "table" else getattr(table, "name", None)
        return owner in TABLES

    opts = {"compare_type": True, "include_object": include_object}
    with db.engine.connect() as conn:
        return list(compare_metadata(MigrationContext.configure(conn, opts=opts), Base.metadata))


def test_flood_migration_matches_and_round_trips(db: Database) -> None:
    assert _differences(db) == []
    downgrade(db, "0025")  # below 0027, whatever follows it
    assert not TABLES & set(inspect(db.engine).get_table_names())
    upgrade(db)
    assert current_revision(db) == head_revision(db)
    assert _differences(db) == []
