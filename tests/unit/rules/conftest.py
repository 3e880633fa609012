"""Shared fixtures for the rule tests: one engine on the shipped pack, and a pack writer."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from suraksha.rules import RuleEngine


@pytest.fixture(scope="session")
def engine() -> RuleEngine:
    return RuleEngine.from_packs()


@pytest.fixture
def write_pack(tmp_path: Path) -> Callable[[str, str], Path]:
    def write(text: str, name: str = "pack.yaml") -> Path:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path

    return write
