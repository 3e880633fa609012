"""Database helpers for tests: a shared PostgreSQL test database is emptied between tests."""

from __future__ import annotations

from sqlalchemy import text

from suraksha.db.base import Base
from suraksha.db.engine import Database


def truncate_all(database: Database) -> None:
    """Empty every table whose model is imported (PostgreSQL; SQLite tests use a new file each)."""
    with database.engine.begin() as conn:
        tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
