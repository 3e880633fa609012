"""``INSERT ... ON CONFLICT`` for the two stores we run on (both spell it the same way, from different
SQLAlchemy dialect modules)."""

from __future__ import annotations

from collections.abc import Sequence
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


def insert_many(
    session: Session,
    model: Any,
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    skip_conflicts_on: Sequence[str] = (),
) -> None:
    """Insert ``rows`` (tuples in ``columns`` order) in one ``executemany`` of the driver, each value
    through its column type's bind processor: the statement is compiled by SQLAlchemy, but the rows skip
    its per-row parameter processing (most of a bulk write's time when lists sync in pages of
    thousands). ``skip_conflicts_on``: columns of a unique constraint; a row that would break it is
    skipped (``ON CONFLICT DO NOTHING``). Nothing is returned: callers that need the new ids read
    them back. Values of a column with a bind processor must be hashable (each distinct one is
    processed once)."""
    if not rows:
        return
    table = getattr(model, "__table__", model)
    connection = session.connection()
    dialect = connection.dialect
    statement = upsert_insert(session, model)
    if skip_conflicts_on:
        statement = statement.on_conflict_do_nothing(index_elements=[table.c[c] for c in skip_conflicts_on])
    compiled = statement.compile(dialect=dialect, column_keys=list(columns))
    processors = [table.c[c].type.dialect_impl(dialect).bind_processor(dialect) for c in columns]
    if any(p is not None for p in processors):
        # Column by column, each distinct value once (a page's rows share their time and flags).
        values = [list(column) for column in zip(*rows, strict=True)]
        for i, processor in enumerate(processors):
            if processor is not None:
                done: dict[Any, Any] = {}
                values[i] = [done[v] if v in done else done.setdefault(v, processor(v)) for v in values[i]]
        rows = list(zip(*values, strict=True))
    if compiled.positional:
        order = [columns.index(name) for name in compiled.positiontup or ()]
        if order != list(range(len(columns))):
            rows = [tuple(row[i] for i in order) for row in rows]
        connection.exec_driver_sql(compiled.string, list(rows))
    else:
        connection.exec_driver_sql(compiled.string, [dict(zip(columns, row, strict=True)) for row in rows])
