"""Shared fixtures: test data location, clean settings for every test, and real databases.

Databases: SQLite always; PostgreSQL whenever SURAKSHA_TEST_POSTGRES_URL is given. Under CI (CI=true)
a missing PostgreSQL URL is an error, not a skip: the suite must run on both stores.
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
from suraksha.testing.database import truncate_all
from suraksha.vault.crypto import KeyEncryptionKey
from tests import reference_data

POSTGRES_URL = os.environ.get("SURAKSHA_TEST_POSTGRES_URL")


@pytest.fixture(scope="session")
def testdata() -> Path:
    return reference_data.require()


@pytest.fixture(autouse=True)
def _isolated_settings(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """No test reads the developer's own config or database."""
    for name in list(os.environ):
        if name.startswith("SURAKSHA_") and name not in {"SURAKSHA_TESTDATA", "SURAKSHA_TEST_POSTGRES_URL"}:
            monkeypatch.delenv(name)
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("SURAKSHA_DATA_DIR", str(home / "data"))
    monkeypatch.setenv("SURAKSHA_CONFIG", "")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "config"))
    # Tests revoke keys and flip switches and look at once: no reuse of checks (web_auth_cache_s).
    monkeypatch.setenv("SURAKSHA_WEB_AUTH_CACHE_S", "0")
    # Media is only ever stored sealed under the vault's KEK: every test process has one of its own.
    monkeypatch.setenv("SURAKSHA_VAULT_KEK", KeyEncryptionKey.generate().to_text())


@pytest.fixture(scope="session")
def postgres_database_url() -> Iterator[str]:
    """A throwaway database on the test server, dropped at the end of the session."""
    if not POSTGRES_URL:
        if os.environ.get("CI") == "true":
            raise RuntimeError("CI must run the PostgreSQL tests: set SURAKSHA_TEST_POSTGRES_URL")
        pytest.skip(
            "PostgreSQL tests need SURAKSHA_TEST_POSTGRES_URL, e.g. "
            "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
        )
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


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
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
            truncate_all(database)
        database.dispose()
