"""Processes that start together on a fresh database each open it (and so migrate it) at once: the
schema must come out whole and every process must start.

PostgreSQL: upgrades take an advisory lock. SQLite: the migration's write transaction begins
IMMEDIATE, so one process migrates while the others wait for the file lock, then find nothing to do.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from suraksha.db import open_database
from suraksha.db.migrate import current_revision, head_revision

PROCESSES = 6

OPEN_AT_THE_SIGNAL = """
import os, sys, time
from suraksha.db import open_database
start = sys.argv[2]
while not os.path.exists(start):
    time.sleep(0.001)
open_database(sys.argv[1]).dispose()
"""


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def fresh_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database nobody has opened yet."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'fresh.sqlite3'}"
        return
    server = os.environ.get("SURAKSHA_TEST_POSTGRES_URL")
    if not server:
        pytest.skip("PostgreSQL tests need SURAKSHA_TEST_POSTGRES_URL")
    name = f"suraksha_migrate_{uuid.uuid4().hex[:10]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(server).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_processes_opening_a_fresh_database_together_all_start(fresh_url: str, tmp_path: Path) -> None:
    signal = tmp_path / "go"
    started = [
        subprocess.Popen(
            [sys.executable, "-c", OPEN_AT_THE_SIGNAL, fresh_url, str(signal)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(PROCESSES)
    ]
    time.sleep(3)  # every process has imported and is waiting for the signal
    signal.touch()
    outcomes = [(process.wait(timeout=180), process.stderr.read()[-1500:]) for process in started]  # type: ignore[union-attr]
    failed = [error for code, error in outcomes if code != 0]
    assert not failed, failed[0]
    db = open_database(fresh_url, migrate=False)
    try:
        assert current_revision(db) == head_revision(db)
    finally:
        db.dispose()
