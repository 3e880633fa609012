"""Alembic environment: the engine is handed in by suraksha.db.migrate (no alembic.ini, no URL here)."""

from __future__ import annotations

from typing import Any, Literal

from alembic import context

# importing the models registers their tables on Base.metadata
import suraksha.access.models
import suraksha.admin.models
import suraksha.appeals.models
import suraksha.audit
import suraksha.banks.models
import suraksha.content.entities
import suraksha.content.history
import suraksha.content.models
import suraksha.enforcement.models
import suraksha.exchanges.models
import suraksha.flaggers.models
import suraksha.legal.models
import suraksha.network.models
import suraksha.reporting.models
import suraksha.review.models
import suraksha.transparency.models
import suraksha.vault.models
import suraksha.worker.models  # noqa: F401
from suraksha.db.base import Base, UTCDateTime


def render_item(type_: str, obj: Any, autogen_context: Any) -> str | Literal[False]:
    """Render our portable column types as the plain SQLAlchemy types they store (migrations must not
    import application code that may change later)."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


engine = context.config.attributes["engine"]
# One transaction for the whole upgrade, begun before Alembic reads its version table: on SQLite that
# is BEGIN IMMEDIATE (suraksha.db.engine), the single write lock, so a process that starts beside
# another waits and then reads the version the other committed. (Alembic's own per-migration
# transactions on SQLite, which has no transactional DDL, let two processes read the same old version
# and both run the next migration: "table accounts already exists".)
with engine.connect() as connection, connection.begin():
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        render_item=render_item,
    )
    context.run_migrations()
