"""The console's audit check is the CLI's: it checks the chain against its checkpoints, so a chain
rewritten in the database shows as broken there too."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import text

from suraksha.app import Platform

from .test_console import _cheap_hashing, console_platform, signed_in, web  # noqa: F401 - fixtures


def test_console_verify_checks_the_checkpoints(web: TestClient, console_platform: Platform) -> None:  # noqa: F811
    csrf = signed_in(web, "auditor@example.org")
    made = console_platform.audit_checkpoint()
    assert made is not None
    headers = {"X-CSRF-Token": csrf, "HX-Request": "true"}
    ok = web.post("/console/audit/verify", data={}, headers=headers)
    assert ok.status_code == 200 and 'id="verify-ok"' in ok.text
    assert f"up to row {made.head_id}" in ok.text
    with console_platform.db.engine.begin() as conn:  # the newest rows gone, as after a rewrite
        if console_platform.db.dialect == "postgresql":
            conn.execute(text("ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only"))
            conn.execute(text("DELETE FROM audit_events WHERE id >= :id"), {"id": made.head_id})
            conn.execute(text("ALTER TABLE audit_events ENABLE TRIGGER audit_events_append_only"))
        else:
            conn.execute(text("DROP TRIGGER IF EXISTS audit_events_no_delete"))
            conn.execute(text("DELETE FROM audit_events WHERE id >= :id"), {"id": made.head_id})
    broken = web.post("/console/audit/verify", data={}, headers=headers)
    assert broken.status_code == 200 and 'id="verify-broken"' in broken.text
    assert "checkpoint" in broken.text
