"""Alembic, driven from code: migrations ship inside the package and run on any store.

``suraksha.db.engine.open_database`` runs ``upgrade`` when it opens a database, so this module takes
the database as anything with an ``engine`` (``Migratable``) and does not import the engine module.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

MIGRATIONS = Path(__file__).parent / "migrations"


class Migratable(Protocol):
    """What migrations need of a ``suraksha.db.engine.Database``: its engine."""

    @property
    def engine(self) -> Engine: ...


def alembic_config(db: Migratable) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = db.engine
    return config


def upgrade(db: Migratable, revision: str = "head") -> None:
    command.upgrade(alembic_config(db), revision)


def downgrade(db: Migratable, revision: str) -> None:
    command.downgrade(alembic_config(db), revision)


def current_revision(db: Migratable) -> str | None:
    with db.engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision(db: Migratable) -> str | None:
    return ScriptDirectory.from_config(alembic_config(db)).get_current_head()
