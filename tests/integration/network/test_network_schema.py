"""Migration 0020 (the account graph) matches the models, and goes down and up again."""

from __future__ import annotations

from typing import Any

from sqlalchemy import inspect

import suraksha.network.models  # noqa: F401 - registers the tables on Base.metadata
from suraksha.db import Database
from suraksha.db.migrate import current_revision, downgrade, head_revision, upgrade
from tests.schema_support import schema_differences

TABLES = {
    "network_keys",
    "network_links",
    "network_runs",
    "network_clusters",
    "network_cluster_members",
    "network_alerts",
    "network_investigations",
    "network_investigation_accounts",
    "network_investigation_events",
    "network_investigation_actions",
}


def _differences(db: Database) -> list[Any]:
    return schema_differences(db, TABLES)


def test_network_migration_matches_and_round_trips(db: Database) -> None:
    assert _differences(db) == []
    downgrade(db, "0019")
    assert not TABLES & set(inspect(db.engine).get_table_names())
    upgrade(db)
    assert current_revision(db) == head_revision(db)
    assert _differences(db) == []
