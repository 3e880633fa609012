"""Real databases: SQLite always; PostgreSQL whenever SURAKSHA_TEST_POSTGRES_URL is given.

Under CI (CI=true) a missing PostgreSQL URL is an error, not a skip: the suite must run on both stores.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from suraksha.db import Database, open_database
from suraksha.db.base import Base

POSTGRES_URL = os.environ.get("SURAKSHA_TEST_POSTGRES_URL")


def _backends() -> list[object]:
    params: list[object] = ["sqlite"]
    if POSTGRES_URL:
        params.append(pytest.param("postgresql", marks=pytest.mark.postgres))
    elif os.environ.get("CI") == "true":
        raise RuntimeError("CI must run the PostgreSQL tests: set SURAKSHA_TEST_POSTGRES_URL")
    else:
        params.append(
            pytest.param(
                "postgresql",
                marks=pytest.mark.skip(
                    reason="PostgreSQL tests need SURAKSHA_TEST_POSTGRES_URL, e.g. "
                    "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
                ),
            )
        )
    return params


@pytest.fixture(scope="session")
def postgres_database_url() -> Iterator[str]:
    """A throwaway database on the test server, dropped at the end of the session."""
    assert POSTGRES_URL
    name = f"suraksha_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=_backends())
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'test.sqlite3'}"
    url: str = request.getfixturevalue("postgres_database_url")
    return url


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    database = open_database(database_url)
    try:
        yield database
    finally:
        if database.dialect == "postgresql":
            with database.engine.begin() as conn:
                tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
                conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        database.dispose()
