"""Shared fixtures: test data location, clean settings for every test, and real databases.

Databases: SQLite always; PostgreSQL whenever SURAKSHA_TEST_POSTGRES_URL is given. Under CI (CI=true)
a missing PostgreSQL URL is an error, not a skip: the suite must run on both stores.
"""

from __future__ import annotations

import os
import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from suraksha.db import Database, migrate, open_database
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


_real_upgrade = migrate.upgrade
_template: list[Path] = []  # the SQLite database migrated to head, once per test process


def _migrated_template(factory: pytest.TempPathFactory) -> Path:
    if not _template:
        path = factory.mktemp("migrated") / "head.sqlite3"
        database = open_database(f"sqlite:///{path}", migrate=False)
        _real_upgrade(database)
        database.dispose()
        _template.append(path)
    return _template[0]


@pytest.fixture(autouse=True)
def _sqlite_migrated_from_a_template(
    monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """A new, empty SQLite database opened in this process gets the migrated schema copied in (SQLite's
    backup API) from a database migrated once per process, instead of running every migration again
    (about half a second a test, minutes of the suite). Anything else migrates for real: a revision
    other than head, a database that holds tables, PostgreSQL, other processes (the CLI, the demo and
    the servers the tests start), and the schema tests, which migrate step by step."""

    def upgrade(db: migrate.Migratable, revision: str = "head") -> None:
        engine = db.engine
        name = engine.url.database
        if revision != "head" or engine.dialect.name != "sqlite" or not name or name == ":memory:":
            _real_upgrade(db, revision)
            return
        target = sqlite3.connect(name, timeout=30)
        try:
            empty = not target.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
            if empty:
                source = sqlite3.connect(_migrated_template(tmp_path_factory))
                try:
                    source.backup(target)
                finally:
                    source.close()
        finally:
            target.close()
        if not empty:
            _real_upgrade(db, revision)

    monkeypatch.setattr(migrate, "upgrade", upgrade)


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
