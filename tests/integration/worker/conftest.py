"""The job-queue tests' database: the shared ``db`` fixture plus the tests' own effect tables."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from jobs_support import test_metadata

from suraksha.db import Database


@pytest.fixture
def jobs_db(db: Database) -> Iterator[Database]:
    test_metadata.create_all(db.engine)
    try:
        yield db
    finally:
        test_metadata.drop_all(db.engine)
