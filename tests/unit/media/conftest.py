"""Fixtures for the media tests: where the shared reference test data lives."""

from __future__ import annotations

import os
from pathlib import Path

import pytest


def find_testdata() -> Path | None:
    """``$SURAKSHA_TESTDATA``, else the first ``shared/testdata`` folder beside a parent of this file."""
    configured = os.environ.get("SURAKSHA_TESTDATA")
    if configured:
        return Path(configured)
    for parent in Path(__file__).resolve().parents:
        candidate = parent / "shared" / "testdata"
        if candidate.is_dir():
            return candidate
    return None


@pytest.fixture(scope="session")
def testdata() -> Path:
    found = find_testdata()
    if found is None or not found.is_dir():
        pytest.skip("reference test data not found: set SURAKSHA_TESTDATA to the shared/testdata folder")
    return found
