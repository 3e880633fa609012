"""Where the shared reference test data (PDQ and vPDQ vectors, NCMEC's schema) lives."""

from __future__ import annotations

import os
from pathlib import Path


def find_testdata(start: Path | None = None) -> Path | None:
    """``$SURAKSHA_TESTDATA``, else the first ``shared/testdata`` folder beside a parent of ``start``
    (default: this file; the repository sits beside ``shared/`` in the workspace and in CI), else the
    ``.testdata`` folder that ``scripts/fetch-testdata`` fills in a clone."""
    configured = os.environ.get("SURAKSHA_TESTDATA")
    if configured:
        return Path(configured)
    parents = (start or Path(__file__)).resolve().parents
    for name in (("shared", "testdata"), (".testdata",)):
        for parent in parents:
            candidate = parent.joinpath(*name)
            if candidate.is_dir():
                return candidate
    return None
