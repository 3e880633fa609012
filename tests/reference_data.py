"""Reference test data for the tests: found, or a clear skip (a contributor's clone), or a failure (CI)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import NoReturn

import pytest

from suraksha.testing.testdata import find_testdata

HOW = "run scripts/fetch-testdata (pinned, checksummed) or set SURAKSHA_TESTDATA to a shared/testdata folder"


def missing(what: str) -> NoReturn:
    """Skip a test whose reference data is not here, saying how to get it; under CI (CI=true) fail
    instead: CI must run the reference checks, never pass by skipping them."""
    message = f"reference test data {what} not found: {HOW}"
    if os.environ.get("CI") == "true":
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


def require(*parts: str, start: Path | None = None) -> Path:
    """The reference file or folder at ``parts`` under the test data, or ``missing``."""
    found = find_testdata(start or Path(__file__))
    if found is None or not found.joinpath(*parts).exists():
        missing("/".join(parts) or "folder")
    return found.joinpath(*parts)
