"""SQLite's one writer per process: writers queue on a lock (no busy-wait sleeps), and a transaction
that ends any way at all (commit, rollback, error, a connection closed or thrown away) gives it back."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from sqlalchemy import text

from suraksha.db.engine import Database, open_database


@pytest.fixture
def db(tmp_path: Path) -> Database:
    database = open_database(f"sqlite:///{tmp_path / 'w.sqlite3'}", migrate=False, busy_timeout_s=2)
    with database.session() as session:
        session.execute(text("CREATE TABLE t (x INTEGER)"))
    return database


def _values(db: Database) -> list[int]:
    with db.reading() as session:
        return list(session.execute(text("SELECT x FROM t ORDER BY x")).scalars())


def test_every_way_a_transaction_ends_gives_the_lock_back(db: Database) -> None:
    def fail_midway() -> None:
        with db.session() as session:
            session.execute(text("INSERT INTO t VALUES (1)"))
            raise ValueError

    with pytest.raises(ValueError):
        fail_midway()
    closed = db.engine.connect()
    closed.begin()
    closed.execute(text("INSERT INTO t VALUES (2)"))
    closed.close()
    dropped = db.engine.connect()
    dropped.begin()
    dropped.execute(text("INSERT INTO t VALUES (3)"))
    dropped.invalidate()
    with db.session() as session:  # would wait 2 s and fail if any of the above kept the lock
        session.execute(text("INSERT INTO t VALUES (4)"))
    assert _values(db) == [4]


def test_concurrent_writers_all_commit(db: Database) -> None:
    def write(start: int) -> None:
        for x in range(start, start + 25):
            with db.session() as session:
                session.execute(text("INSERT INTO t VALUES (:x)"), {"x": x})

    threads = [threading.Thread(target=write, args=(n * 100,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(_values(db)) == 100


def test_readers_do_not_wait_for_the_writer(db: Database) -> None:
    with db.session() as session:
        session.execute(text("INSERT INTO t VALUES (1)"))
        assert _values(db) == []  # a reader sees the last commit at once, without the lock
    assert _values(db) == [1]
