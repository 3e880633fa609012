"""README.md says what the code does: its settings table is the one ``suraksha settings --markdown``
prints, never a hand-kept copy."""

from __future__ import annotations

import re
from pathlib import Path

from suraksha.settings import settings_markdown

README = Path(__file__).resolve().parents[2] / "README.md"


def test_readme_settings_table_is_the_generated_one() -> None:
    text = README.read_text(encoding="utf-8")
    found = re.search(
        r"<!-- settings table:[^\n]*-->\n(.*?)<!-- end of settings table -->", text, flags=re.DOTALL
    )
    assert found, "README.md lost its settings-table markers"
    assert found.group(1) == settings_markdown(), (
        "README.md's settings table is out of date: paste the output of `suraksha settings --markdown`"
    )


def test_settings_table_shows_values_not_python_objects() -> None:
    table = settings_markdown()
    assert "<member" not in table and "object at 0x" not in table
    assert "| `SURAKSHA_MEDIA_MAX_BYTES` | `268435456` |" in table
