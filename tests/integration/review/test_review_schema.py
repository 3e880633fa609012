"""The review migration (0007) builds exactly the tables the review models declare, and undoes them."""

from __future__ import annotations

from typing import Any

import suraksha.review.models  # noqa: F401 - registers the review tables on Base.metadata
from suraksha.db import Database
from suraksha.db.migrate import current_revision, downgrade, head_revision, upgrade
from tests.schema_support import schema_differences

REVIEW_TABLES = {"review_cases", "human_views", "review_decisions", "reviewer_preferences"}


def _differences(db: Database) -> list[Any]:
    return schema_differences(db, REVIEW_TABLES)


def test_review_tables_match_their_migration(db: Database) -> None:
    assert _differences(db) == []


def test_review_migration_downgrades_and_upgrades(db: Database) -> None:
    downgrade(db, "0006")
    with db.engine.connect() as conn:
        assert not REVIEW_TABLES & set(conn.dialect.get_table_names(conn))
    upgrade(db)
    assert current_revision(db) == head_revision(db)
    with db.engine.connect() as conn:
        assert set(conn.dialect.get_table_names(conn)) >= REVIEW_TABLES
