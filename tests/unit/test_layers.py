"""The areas form layers (the import-linter contracts in pyproject.toml): loading an area loads no area
above it or beside it, and no package's modules import each other in a circle. Where a lower area must
set off a higher one it calls a port the higher one implements (suraksha/enforcement/follow_ups.py)."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from importlinter.cli import lint_imports

ROOT = Path(__file__).resolve().parents[2]


def _layers() -> list[set[str]]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    [contract] = [c for c in config["tool"]["importlinter"]["contracts"] if c["type"] == "layers"]
    return [{name.strip().strip("()") for name in layer.split("|")} for layer in contract["layers"]]


LAYERS = _layers()
LOAD_ALL = """
import importlib, pkgutil, sys
import suraksha.{area} as area
for found in pkgutil.walk_packages(area.__path__, area.__name__ + "."):
    importlib.import_module(found.name)
print("\\n".join(sorted(sys.modules)))
"""


@pytest.mark.parametrize(
    "area", ["content", "outbound", "enforcement", "intake", "review", "vault", "reporting"]
)
def test_an_area_loads_without_the_areas_above_or_beside_it(area: str) -> None:
    index = next(i for i, layer in enumerate(LAYERS) if area in layer)
    higher = set().union(*LAYERS[:index]) | (LAYERS[index] - {area})
    loaded = subprocess.run(
        [sys.executable, "-c", LOAD_ALL.format(area=area)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert sorted(m for m in loaded if m.startswith("suraksha.") and m.split(".")[1] in higher) == []


def test_the_import_contracts_hold() -> None:
    """Layers with no exceptions, and no cycles inside any package (db.engine and db.migrate, the
    vault's services, holds and packages once imported each other, hidden inside functions)."""
    assert lint_imports(config_filename=str(ROOT / "pyproject.toml"), no_cache=True, no_logo=True) == 0
