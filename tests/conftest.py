"""Shared fixtures: test data location, and clean settings for every test."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from suraksha.testing.testdata import find_testdata


@pytest.fixture(scope="session")
def testdata() -> Path:
    found = find_testdata(Path(__file__))
    if found is None:
        if os.environ.get("CI") == "true":
            raise RuntimeError("CI needs the shared test data: set SURAKSHA_TESTDATA or clone beside shared/")
        pytest.skip("reference test data not found: set SURAKSHA_TESTDATA to the shared/testdata folder")
    return found


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
