"""Alembic environment: the engine is handed in by suraksha.db.migrate (no alembic.ini, no URL here)."""

from __future__ import annotations

from alembic import context

import suraksha.banks.models  # noqa: F401 - registers the tables on Base.metadata
from suraksha.db.base import Base

engine = context.config.attributes["engine"]
with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
