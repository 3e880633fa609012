"""Migration 0023 (network investigations, and the CyberTipline report's group fields) matches the
models, and goes down and up again."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

import suraksha.network.models
import suraksha.reporting.models  # noqa: F401
from suraksha.db import Database
from suraksha.db.base import Base
from suraksha.db.migrate import current_revision, downgrade, head_revision, upgrade

TABLES = {
    "network_investigations",
    "network_investigation_accounts",
    "network_investigation_events",
    "network_investigation_actions",
}
COLUMNS = {"group_identifier", "associated_account_ids"}


def _differences(db: Database) -> list[Any]:
    def include_object(obj: object, name: str | None, type_: str, _reflected: bool, _to: object) -> bool:
        table = getattr(obj, "table", None)
        owner = name if type_ == "table" else getattr(table, "name", None)
        if type_ == "column" and owner == "cybertipline_reports":
            return name in COLUMNS
        return owner in TABLES

    opts = {"compare_type": True, "include_object": include_object}
    with db.engine.connect() as conn:
        return list(compare_metadata(MigrationContext.configure(conn, opts=opts), Base.metadata))


def _report_columns(db: Database) -> set[str]:
    return {c["name"] for c in inspect(db.engine).get_columns("cybertipline_reports")}


def test_investigations_migration_matches_and_round_trips(db: Database) -> None:
    assert _differences(db) == []
    assert _report_columns(db) >= COLUMNS
    downgrade(db, "0020")
    assert not TABLES & set(inspect(db.engine).get_table_names())
    assert not COLUMNS & _report_columns(db)
    upgrade(db)
    assert current_revision(db) == head_revision(db)
    assert _differences(db) == []
