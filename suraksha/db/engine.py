"""Engine and sessions.

SQLite: one file, WAL journal, foreign keys on, a busy timeout, and ``BEGIN IMMEDIATE`` for writers so
two processes never deadlock upgrading a read lock. PostgreSQL: a plain pooled engine.
"""

from __future__ import annotations

import contextlib
import logging
import math
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from suraksha.files import create_private, private_dir, tighten

log = logging.getLogger(__name__)

READ_ONLY = "suraksha_read_only"


@dataclass
class Database:
    engine: Engine
    sessions: sessionmaker[Session]

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A unit of work: commits on success, rolls back on any error."""
        with self.sessions() as session, session.begin():
            yield session

    @cached_property
    def _readers(self) -> sessionmaker[Session]:
        return sessionmaker(self.engine.execution_options(**{READ_ONLY: True}), expire_on_commit=False)

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A read-only unit of work. On SQLite it takes no write lock (a deferred transaction on the
        WAL snapshot), so reads never queue behind the writer; it must not write."""
        with self._readers() as session, session.begin():
            yield session

    def dispose(self) -> None:
        self.engine.dispose()


def open_database(url: str, *, busy_timeout_s: float = 30.0, migrate: bool = True) -> Database:
    """Open (and by default migrate to the newest schema) the database at ``url``."""
    parsed = make_url(url)
    kwargs: dict[str, Any] = {}
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:" and not database.startswith("file:"):
            _private_sqlite_file(Path(database))
        kwargs["connect_args"] = {"timeout": busy_timeout_s}
    else:
        kwargs["pool_pre_ping"] = True
    engine = create_engine(parsed, **kwargs)
    if engine.dialect.name == "sqlite":
        _configure_sqlite(engine, busy_timeout_s)
    db = Database(engine=engine, sessions=sessionmaker(engine, expire_on_commit=False))
    if migrate:
        from suraksha.db.migrate import upgrade  # noqa: PLC0415 - alembic is only loaded when needed

        upgrade(db)
    return db


def _private_sqlite_file(path: Path) -> None:
    """The SQLite file made 0600 (in a 0700 folder when the folder is new) before SQLite opens it:
    SQLite gives its -wal and -shm files the database file's mode, so they follow. A database an
    older version made under the umask is made private here too."""
    private_dir(path.parent)
    with contextlib.suppress(FileExistsError):
        create_private(path).close()
    for name in (path, *(path.with_name(path.name + suffix) for suffix in ("-wal", "-shm", "-journal"))):
        tighten(name)


def _ln(x: float | None) -> float | None:
    return None if x is None or x <= 0 else math.log(x)


def _configure_sqlite(engine: Engine, busy_timeout_s: float) -> None:
    # Writers in this process queue on a Python lock before BEGIN IMMEDIATE: a thread waiting on it
    # wakes the moment the writer commits, where SQLite's busy handler polls with sleeps of up to
    # 100 ms (measured: a third of the service's throughput lost to those sleeps). Other processes
    # still meet the file lock and the busy timeout.
    writer = threading.Lock()
    holding = "suraksha_writer_lock"

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy emit BEGIN itself (pysqlite's implicit transactions are wrong for us).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_s * 1000)}")
        try:
            cursor.execute("SELECT ln(1.0)")
        except sqlite3.OperationalError:
            # Statistics bucket durations with ln() in SQL (suraksha.transparency.tally); a SQLite
            # built without its math functions gets Python's (the same C library call).
            dbapi_connection.create_function("ln", 1, _ln, deterministic=True)
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # One writer at a time, taken up front: no SQLITE_BUSY on lock upgrade mid-transaction.
        # Readers (Database.reading) take a deferred transaction: a snapshot, no lock.
        if conn.get_execution_options().get(READ_ONLY):
            conn.exec_driver_sql("BEGIN")
            return
        if not writer.acquire(timeout=busy_timeout_s):
            raise TimeoutError(f"no write lock on the SQLite database within {busy_timeout_s:.0f} s")
        try:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            writer.release()
            raise
        conn.info[holding] = True

    def release(info: dict[str, Any]) -> None:
        if info.pop(holding, False):
            writer.release()

    @event.listens_for(engine, "commit")
    @event.listens_for(engine, "rollback")
    def _on_end(conn: Any) -> None:
        release(conn.info)

    # A connection given back or thrown away in the middle of a transaction must not keep the lock.
    @event.listens_for(engine, "reset")
    def _on_reset(_dbapi_connection: Any, record: Any, _reset_state: Any) -> None:
        release(record.info)

    @event.listens_for(engine, "invalidate")
    def _on_invalidate(_dbapi_connection: Any, record: Any, _exception: Any) -> None:
        release(record.info)


TRANSIENT_SQLSTATES = frozenset({"40P01", "40001"})
"""PostgreSQL's deadlock_detected and serialization_failure: the transaction lost a race and may simply
be run again."""


def is_transient(exc: BaseException) -> bool:
    """Whether ``exc`` (a SQLAlchemy error) is a lost race that running the transaction again fixes:
    a PostgreSQL deadlock or serialization failure, or SQLite's lock wait running out."""
    orig = getattr(exc, "orig", None)
    if getattr(orig, "sqlstate", None) in TRANSIENT_SQLSTATES:
        return True
    return orig is not None and type(orig).__name__ == "OperationalError" and "locked" in str(orig)
