"""Shared fixtures: test data location, and clean settings for every test."""

from __future__ import annotations

import os
from pathlib import Path

import pytest


def find_testdata() -> Path:
    env = os.environ.get("SURAKSHA_TESTDATA")
    if env:
        return Path(env)
    for parent in Path(__file__).resolve().parents:
        candidate = parent / "shared" / "testdata"
        if candidate.is_dir():
            return candidate
    raise RuntimeError("test data not found: set SURAKSHA_TESTDATA to the shared/testdata folder")


@pytest.fixture(scope="session")
def testdata() -> Path:
    return find_testdata()


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
