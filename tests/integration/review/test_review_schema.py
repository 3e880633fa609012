"""The review migration (0007) builds exactly the tables the review models declare, and undoes them."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

import suraksha.review.models  # noqa: F401 - registers the review tables on Base.metadata
from suraksha.db import Database
from suraksha.db.base import Base
from suraksha.db.migrate import current_revision, downgrade, head_revision, upgrade

REVIEW_TABLES = {"review_cases", "human_views", "review_decisions", "reviewer_preferences"}


def _differences(db: Database) -> list[Any]:
    def include_object(_obj: object, name: str | None, type_: str, _reflected: bool, _to: object) -> bool:
        table = getattr(_obj, "table", None)
        owner = name if type_ == "table" else getattr(table, "name", None)
        return owner in REVIEW_TABLES

    opts = {"compare_type": True, "include_object": include_object}
    with db.engine.connect() as conn:
        return list(compare_metadata(MigrationContext.configure(conn, opts=opts), Base.metadata))


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
