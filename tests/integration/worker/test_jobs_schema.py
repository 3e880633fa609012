"""The migrations build exactly the schema the models declare."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

import suraksha.worker.models  # noqa: F401 - registers the jobs table on Base.metadata
from suraksha.db import Database
from suraksha.db.base import Base
from suraksha.db.migrate import current_revision, downgrade, head_revision, upgrade


def _differences(db: Database, *, only_table: str | None = None) -> list[Any]:
    """Alembic's autogenerate diff between the migrated database and the registered models (opening the
    database runs the migrations' env.py, which imports every area's models)."""

    def include_name(name: str | None, type_: str, _parent: object) -> bool:
        return only_table is None or type_ != "table" or name == only_table

    def include_object(_obj: object, name: str | None, type_: str, _reflected: bool, _to: object) -> bool:
        return include_name(name, type_, None)

    opts = {"compare_type": True, "include_name": include_name, "include_object": include_object}
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts=opts)
        return list(compare_metadata(context, Base.metadata))


def test_jobs_table_matches_its_migration(db: Database) -> None:
    assert _differences(db, only_table="jobs") == []


def test_every_migration_matches_the_models(db: Database) -> None:
    assert _differences(db) == []


def test_jobs_migration_downgrades_and_upgrades(db: Database) -> None:
    downgrade(db, "0002")
    with db.engine.connect() as conn:
        assert "jobs" not in conn.dialect.get_table_names(conn)
    upgrade(db)
    assert current_revision(db) == head_revision(db)
    with db.engine.connect() as conn:
        assert "jobs" in conn.dialect.get_table_names(conn)
