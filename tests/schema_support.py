"""What the migrations' schema lacks or has beyond the models', for some tables (the schema tests)."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from suraksha.db import Database
from suraksha.db.base import Base


def schema_differences(db: Database, tables: Collection[str]) -> list[Any]:
    """Alembic's differences between ``db`` and the models (types compared), for ``tables`` and their
    columns, indexes and constraints only."""

    def include_object(obj: object, name: str | None, type_: str, _reflected: bool, _to: object) -> bool:
        table = getattr(obj, "table", None)
        owner = name if type_ == "table" else getattr(table, "name", None)
        return owner in tables

    opts = {"compare_type": True, "include_object": include_object}
    with db.engine.connect() as conn:
        return list(compare_metadata(MigrationContext.configure(conn, opts=opts), Base.metadata))
