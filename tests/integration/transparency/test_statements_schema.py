"""Migration 0019 (statements of reasons) matches the model, and goes down and up again."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

import suraksha.transparency.models  # noqa: F401 - registers the table on Base.metadata
from suraksha.db import Database
from suraksha.db.base import Base
from suraksha.db.migrate import current_revision, downgrade, head_revision, upgrade


def _differences(db: Database) -> list[Any]:
    def include_object(obj: object, name: str | None, type_: str, _reflected: bool, _to: object) -> bool:
        table = getattr(obj, "table", None)
        owner = name if type_ == "table" else getattr(table, "name", None)
        return owner == "statements_of_reasons"

    opts = {"compare_type": True, "include_object": include_object}
    with db.engine.connect() as conn:
        return list(compare_metadata(MigrationContext.configure(conn, opts=opts), Base.metadata))


def test_statements_migration_matches_and_round_trips(db: Database) -> None:
    assert _differences(db) == []
    downgrade(db, "0017")
    assert "statements_of_reasons" not in inspect(db.engine).get_table_names()
    upgrade(db)
    assert current_revision(db) == head_revision(db)
    assert _differences(db) == []
