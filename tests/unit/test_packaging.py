"""Every third-party module the package imports is declared where a plain ``pip install .`` installs it.

A test extra that happens to pull a module in (trustme brought ``cryptography``) hid a missing
dependency once: the README's first command failed on a fresh machine. This reads every import in
suraksha/, at any depth, and maps it to the distribution that provides it.
"""

from __future__ import annotations

import ast
import importlib.metadata as md
import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RUNTIME_EXTRAS = {"postgres", "heif"}  # extras a deployment chooses; "test" and "bench" are not runtime


def _name(requirement: str) -> str:
    return re.split(r"[\[<>=!~; ]", requirement.strip(), maxsplit=1)[0].lower().replace("_", "-")


def _imported_modules() -> dict[str, str]:
    found: dict[str, str] = {}
    for path in sorted((ROOT / "suraksha").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top not in sys.stdlib_module_names and top not in {"suraksha", "__future__"}:
                    found.setdefault(top, path.relative_to(ROOT).as_posix())
    return found


def test_every_import_is_a_declared_runtime_dependency() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    declared = {_name(r) for r in project["dependencies"]}
    for extra in RUNTIME_EXTRAS:
        declared |= {_name(r) for r in project["optional-dependencies"].get(extra, [])}
    providers = md.packages_distributions()
    missing = {
        module: where
        for module, where in _imported_modules().items()
        if not {d.lower().replace("_", "-") for d in providers.get(module, [module])} & declared
    }
    assert not missing, f"imported but not declared in pyproject.toml's dependencies: {missing}"
