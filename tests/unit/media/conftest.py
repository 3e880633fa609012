"""Fixtures for the media tests: where the shared reference test data lives."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests import reference_data


@pytest.fixture(scope="session")
def testdata() -> Path:
    return reference_data.require()
