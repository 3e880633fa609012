"""``INSERT ... ON CONFLICT`` for the two stores we run on (both spell it the same way, from different
SQLAlchemy dialect modules)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from suraksha.errors import ConfigError


def upsert_insert(session: Session, model: Any) -> postgresql.Insert | sqlite.Insert:
    """An insert into ``model`` (a mapped class: its table) that supports ``on_conflict_do_nothing``/
    ``on_conflict_do_update``. A Core statement on the table, not an ORM one: the hot writes that use it
    skip the ORM's bulk-insert machinery (name columns as ``table.c.name`` to keep it Core)."""
    table = getattr(model, "__table__", model)
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert(table)
    if dialect == "sqlite":
        return sqlite.insert(table)
    raise ConfigError(f"Suraksha runs on SQLite or PostgreSQL, not {dialect}")
