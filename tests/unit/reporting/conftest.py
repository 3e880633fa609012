"""NCMEC's schema (shared test data), compiled once per session."""

from __future__ import annotations

from pathlib import Path

import pytest

from suraksha.reporting.xml import CyberTiplineSchema


@pytest.fixture(scope="session")
def xsd_path(testdata: Path) -> Path:
    return testdata / "ncmec" / "cyber_tipline.xsd"


@pytest.fixture(scope="session")
def schema(xsd_path: Path) -> CyberTiplineSchema:
    return CyberTiplineSchema.from_path(xsd_path)
