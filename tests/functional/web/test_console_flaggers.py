"""The trusted flaggers' console page over HTTP on SQLite and PostgreSQL: leads and admins see the
registry with each flagger's accuracy and status-review mark; only admins suspend and reinstate (with a
reason, CSRF-checked, audited); others may not open it."""

# ruff: noqa: F811  (the console fixtures are imported from test_console and named as test parameters)
from __future__ import annotations

from datetime import UTC, datetime

from fastapi.testclient import TestClient

from suraksha.app import Platform
from suraksha.flaggers.models import Flagger
from suraksha.flaggers.services import NewFlagger
from tests.functional.web.test_console import (  # noqa: F401 - the console's fixtures
    _cheap_hashing,
    audit_rows,
    console_platform,
    signed_in,
    web,
)


def register(platform: Platform, name: str) -> None:
    platform.flagger_add(
        NewFlagger(name=name, organisation=f"{name} foundation", country="IN", designation="partner"),
        actor="test",
    )


def test_leads_and_admins_see_the_registry(web: TestClient, console_platform: Platform) -> None:
    register(console_platform, "ngo")
    with console_platform.db.session() as session:
        row = session.query(Flagger).one()
        row.status_review_at = datetime.now(UTC)
        row.status_review_reason = "1 of 20 decided notices confirmed (5%), below 50%"
    for email in ("lead@example.org", "admin@example.org"):
        web.cookies.clear()
        signed_in(web, email)
        page = web.get("/console/flaggers")
        assert page.status_code == 200, email
        assert 'id="flagger-ngo"' in page.text and "status review" in page.text
        assert 'href="/console/flaggers"' in web.get("/console/").text
        assert ('action="/console/flaggers/ngo/state"' in page.text) == (email == "admin@example.org")
    for email in ("reviewer@example.org", "auditor@example.org"):
        web.cookies.clear()
        signed_in(web, email)
        assert web.get("/console/flaggers").status_code == 403, email


def test_admins_suspend_and_reinstate(web: TestClient, console_platform: Platform) -> None:
    register(console_platform, "ngo")
    web.cookies.clear()
    csrf = signed_in(web, "lead@example.org")
    form = {"suspend": "true", "reason": "designation revoked", "csrf_token": csrf}
    assert web.post("/console/flaggers/ngo/state", data=form).status_code == 403  # leads read only
    web.cookies.clear()
    csrf = signed_in(web, "admin@example.org")
    assert web.post("/console/flaggers/ngo/state", data={**form, "csrf_token": "forged"}).status_code == 403
    done = web.post("/console/flaggers/ngo/state", data={**form, "csrf_token": csrf}, follow_redirects=False)
    assert done.status_code == 303
    assert console_platform.flagger_show("ngo")["state"] == "suspended"
    again = web.post("/console/flaggers/ngo/state", data={**form, "csrf_token": csrf})
    assert again.status_code == 409
    reinstate = {"suspend": "false", "reason": "reviewed", "csrf_token": csrf}
    assert web.post("/console/flaggers/ngo/state", data=reinstate, follow_redirects=False).status_code == 303
    assert [e.subject for e in audit_rows(console_platform, "flagger:suspend")] == ["flagger:ngo"]
    assert web.post("/console/flaggers/nobody/state", data=reinstate).status_code == 404
    short = {"suspend": "true", "reason": "", "csrf_token": csrf}
    assert web.post("/console/flaggers/ngo/state", data=short).status_code == 422
