"""Migration 0017 (the platform's acknowledgements of actions) matches the models, both ways."""

from __future__ import annotations

from typing import Any

from sqlalchemy import inspect

import suraksha.enforcement.models  # noqa: F401 - registers the enforcement tables on Base.metadata
from suraksha.db import Database
from suraksha.db.migrate import current_revision, downgrade, head_revision, upgrade
from tests.schema_support import schema_differences

ENFORCEMENT_TABLES = {"decisions", "actions", "deliveries"}


def _differences(db: Database) -> list[Any]:
    return schema_differences(db, ENFORCEMENT_TABLES)


def test_action_acknowledgements_migration_matches_and_round_trips(db: Database) -> None:
    assert _differences(db) == []
    downgrade(db, "0015")
    columns = {c["name"] for c in inspect(db.engine).get_columns("actions")}
    assert not {"acknowledged_at", "state_reason"} & columns
    upgrade(db)
    assert current_revision(db) == head_revision(db)
    assert _differences(db) == []
