"""The trusted flaggers' console page over HTTP on SQLite and PostgreSQL: leads and admins see the
registry with each flagger's accuracy and status-review mark; only admins suspend and reinstate (with a
reason, CSRF-checked, audited); others may not open it."""

# ruff: noqa: F811  (the console fixtures are imported from test_console and named as test parameters)
from __future__ import annotations

from datetime import UTC, datetime

from fastapi.testclient import TestClient

from suraksha.app import Platform
from suraksha.content.models import Account, Item
from suraksha.flaggers.models import Flagger
from suraksha.flaggers.registry import NewFlagger
from suraksha.flaggers.schemas import NoticeIn
from suraksha.review.models import ReviewCase
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


def test_the_reviewer_sees_the_notices_on_a_case(web: TestClient, console_platform: Platform) -> None:
    shown = console_platform.flagger_add(
        NewFlagger(name="ngo", organisation="Child Rights Foundation", country="IN", designation="partner"),
        actor="test",
    )
    with console_platform.db.session() as session:
        account = Account(platform_account_id="acct-1", handle="seller")
        session.add(account)
        session.flush()
        item = Item(platform_item_id="post-1", payload_digest="0" * 64, kind="post", account_id=account.id)
        session.add(item)
    body = {
        "reference": "CRF-<1>",
        "category": "sale_or_solicitation",
        "explanation": "Sells sets for UPI <b>payments</b> (benign test).",
        "targets": [{"platform_id": "post-1"}],
    }
    console_platform.notice_submit(str(shown["api_key"]).split("_")[1], NoticeIn.model_validate(body))
    with console_platform.db.reading() as session:
        case_id = session.query(ReviewCase.id).one()[0]
    web.cookies.clear()
    signed_in(web, "lead@example.org")
    page = web.get(f"/console/cases/{case_id}")
    assert page.status_code == 200
    notices = page.text.split('id="flagger-notices"', 1)[1].split("</table>", 1)[0]
    assert "Child Rights Foundation" in notices and "CRF-&lt;1&gt;" in notices
    assert "UPI &lt;b&gt;payments&lt;/b&gt;" in notices  # the flagger's words, escaped
    assert "IT Rules r.3(2)(a)(i)" in notices and "running" in notices  # the notice's own clock
    due = web.get("/console/flaggers").text.split('id="notices-due"', 1)[1].split("</table>", 1)[0]
    assert "None: no undecided notice" in due  # 7 days to decide: not within a day yet
