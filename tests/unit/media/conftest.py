"""Fixtures for the media tests: where the shared reference test data lives."""

from __future__ import annotations

from pathlib import Path

import pytest

from suraksha.testing.testdata import find_testdata


@pytest.fixture(scope="session")
def testdata() -> Path:
    found = find_testdata(Path(__file__))
    if found is None or not found.is_dir():
        pytest.skip("reference test data not found: set SURAKSHA_TESTDATA to the shared/testdata folder")
    return found
