"""Alembic, driven from code: migrations ship inside the package and run on any store.

``suraksha.db.engine.open_database`` runs ``upgrade`` when it opens a database, so this module takes
the database as anything with an ``engine`` (``Migratable``) and does not import the engine module.

Every process migrates when it opens the database, so processes started together (web and workers
on PostgreSQL, after a deploy) upgrade at the same moment. One of them does the work:

- PostgreSQL: ``upgrade`` holds a session-level advisory lock (``pg_advisory_lock``) for the whole
  upgrade, on a connection of its own; the others wait for it, then find the schema at head and do
  nothing. Without it two processes both saw an empty database and both created the same tables.
- SQLite: no lock is needed. The migration runs in one write transaction, and every write transaction
  begins ``IMMEDIATE`` (``suraksha.db.engine``), which takes the database's single write lock before
  Alembic reads its version table; another process waits for that lock (up to the busy timeout),
  then reads the version the first one committed.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Protocol

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, text

MIGRATIONS = Path(__file__).parent / "migrations"
MIGRATION_LOCK_KEY = 0x5355524B_4D494752  # "SURKMIGR": one schema, one lock (PostgreSQL)


class Migratable(Protocol):
    """What migrations need of a ``suraksha.db.engine.Database``: its engine."""

    @property
    def engine(self) -> Engine: ...


def alembic_config(db: Migratable) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = db.engine
    return config


@contextmanager
def migration_lock(db: Migratable) -> Iterator[None]:
    """Hold the schema's migration lock (PostgreSQL; a no-op on SQLite, see the module docstring)."""
    if db.engine.dialect.name != "postgresql":
        yield
        return
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
        try:
            yield
        finally:
            conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK_KEY})


def upgrade(db: Migratable, revision: str = "head") -> None:
    with migration_lock(db):
        command.upgrade(alembic_config(db), revision)


def downgrade(db: Migratable, revision: str) -> None:
    with migration_lock(db):
        command.downgrade(alembic_config(db), revision)


def current_revision(db: Migratable) -> str | None:
    with db.engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision(db: Migratable) -> str | None:
    return ScriptDirectory.from_config(alembic_config(db)).get_current_head()
