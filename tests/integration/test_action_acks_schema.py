"""Migration 0017 (the platform's acknowledgements of actions) matches the models, both ways."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

import suraksha.enforcement.models  # noqa: F401 - registers the enforcement tables on Base.metadata
from suraksha.db import Database
from suraksha.db.base import Base
from suraksha.db.migrate import current_revision, downgrade, head_revision, upgrade

ENFORCEMENT_TABLES = {"decisions", "actions", "deliveries"}


def _differences(db: Database) -> list[Any]:
    def include_object(_obj: object, name: str | None, type_: str, _reflected: bool, _to: object) -> bool:
        table = getattr(_obj, "table", None)
        owner = name if type_ == "table" else getattr(table, "name", None)
        return owner in ENFORCEMENT_TABLES

    opts = {"compare_type": True, "include_object": include_object}
    with db.engine.connect() as conn:
        return list(compare_metadata(MigrationContext.configure(conn, opts=opts), Base.metadata))


def test_action_acknowledgements_migration_matches_and_round_trips(db: Database) -> None:
    assert _differences(db) == []
    downgrade(db, "0015")
    columns = {c["name"] for c in inspect(db.engine).get_columns("actions")}
    assert not {"acknowledged_at", "state_reason"} & columns
    upgrade(db)
    assert current_revision(db) == head_revision(db)
    assert _differences(db) == []
