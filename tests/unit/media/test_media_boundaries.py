"""suraksha.media stands alone: hashing workers import it without the database or the web stack."""

from __future__ import annotations

import subprocess
import sys

FORBIDDEN = ("sqlalchemy", "alembic", "psycopg", "suraksha.db", "suraksha.banks", "fastapi", "starlette")


def test_importing_media_pulls_in_no_database_or_web_code() -> None:
    probe = (
        "import sys, suraksha.media, suraksha.media.video, suraksha.media.image; "
        f"print(sorted(m for m in sys.modules if m.startswith({FORBIDDEN!r})))"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
