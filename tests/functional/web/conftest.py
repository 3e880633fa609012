"""The web service over a real database (SQLite, and PostgreSQL when configured), driven over HTTP.

``client``: an HTTP client for an app whose match index is loaded (a bank ``known`` holds two benign
synthetic pictures). ``cold_client``: the same, before the index is loaded. ``keys``: one API key per
role (and a revoked one), plaintext.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from suraksha.access.services import create_api_key, revoke_api_key
from suraksha.app import Platform
from suraksha.banks import services as banks
from suraksha.banks.models import BankEntry
from suraksha.settings import Settings
from suraksha.signals.file_signals import hash_bytes
from suraksha.signals.types import SignalKind
from suraksha.testing.database import truncate_all
from suraksha.testing.synthetic import synthetic_jpeg
from suraksha.web.app import create_app
from suraksha.web.state import WebState

KNOWN_SEEDS = (1, 2)
ROLES = ("admin", "read", "ingest")


@dataclass
class Keys:
    admin: str
    read: str
    ingest: str
    revoked: str

    def header(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {getattr(self, role)}"}


@pytest.fixture
def make_platform(database_url: str, tmp_path: Path) -> Iterator[Callable[..., Platform]]:
    made: list[Platform] = []

    def make(**overrides: Any) -> Platform:
        settings = Settings.load(
            {
                "database_url": database_url,
                "data_dir": str(tmp_path / "data"),
                "index_dir": str(tmp_path / "index"),
                **overrides,
            }
        )
        platform = Platform(settings)
        made.append(platform)
        return platform

    yield make
    for platform in made:
        if platform.db.dialect == "postgresql":
            truncate_all(platform.db)
        platform.close()


@pytest.fixture
def platform(make_platform: Callable[..., Platform]) -> Platform:
    platform = make_platform()
    with platform.db.session() as session:
        bank = banks.create_bank(session, "known")
        for seed in KNOWN_SEEDS:
            signals = hash_bytes(synthetic_jpeg(seed))
            assert signals.pdq is not None and signals.md5 is not None
            banks.add_entry(session, bank, SignalKind.PDQ, signals.pdq.hex, quality=signals.pdq.quality)
            banks.add_entry(session, bank, SignalKind.MD5, signals.md5)
    return platform


@pytest.fixture
def keys(platform: Platform) -> Keys:
    with platform.db.session() as session:
        made = {role: create_api_key(session, f"{role}-key", [role])[1] for role in ROLES}
        _, revoked = create_api_key(session, "old-key", ["admin"])
        revoke_api_key(session, "old-key")
    return Keys(revoked=revoked, **made)


def web_state(app: FastAPI) -> WebState:
    state: WebState = app.state.suraksha
    return state


@pytest.fixture
def cold_app(platform: Platform, keys: Keys) -> FastAPI:
    return create_app(platform, start_index=False)


@pytest.fixture
def cold_client(cold_app: FastAPI) -> Iterator[TestClient]:
    with TestClient(cold_app) as client:
        yield client


@pytest.fixture
def client(cold_app: FastAPI) -> Iterator[TestClient]:
    web_state(cold_app).load_index()
    with TestClient(cold_app) as client:
        yield client


def entry_count(platform: Platform) -> int:
    with platform.db.session() as session:
        return session.query(BankEntry).count()


def bank_names(platform: Platform) -> list[str]:
    with platform.db.session() as session:
        return [b.name for b in banks.list_banks(session)]
