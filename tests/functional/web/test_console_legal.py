"""The legal desk in the console, over HTTP on SQLite and PostgreSQL: the clocks overdue first, a
request's page with its scope, holds, actions, timeline and audit trail; legal and leads only."""

# ruff: noqa: F811  (the console fixtures are imported from test_console and named as test parameters)
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient

from suraksha.access import users
from suraksha.app import Platform
from suraksha.content.models import Account, Item
from suraksha.legal.clocks import RequestKind
from suraksha.legal.models import ScopeKind
from suraksha.legal.services import NewRequest, ScopeEntry
from tests.functional.web.test_console import (  # noqa: F401 - the console's fixtures
    PASSWORD,
    _cheap_hashing,
    console_platform,
    signed_in,
    web,
)


def open_request(platform: Platform) -> int:
    with platform.db.session() as session:
        users.create_user(session, "legal@example.org", ["legal"], PASSWORD, by="test")
        seller = Account(platform_account_id="acct-9", handle="@seller_nine")
        session.add(seller)
        session.flush()
        session.add(
            Item(platform_item_id="post-9", payload_digest="0" * 64, kind="post", account_id=seller.id)
        )
    received = datetime.now(UTC) - timedelta(hours=80)
    shown = platform.legal_receive(
        NewRequest(
            kind=RequestKind.DATA_DISCLOSURE,
            jurisdiction="IN-DL",
            received_at=received,
            reference="FIR 9/2026",
            scope=[ScopeEntry(ScopeKind.ACCOUNT, "@seller_nine"), ScopeEntry(ScopeKind.ACCOUNT, "@gone")],
        ),
        actor="user:legal-desk",
    )
    request = int(str(shown["id"]))
    platform.legal_preserve(request, actor="user:legal-desk")
    return request


def test_the_desk_lists_clocks_overdue_first_and_opens_a_request(
    web: TestClient, console_platform: Platform
) -> None:
    request = open_request(console_platform)
    signed_in(web, "legal@example.org")
    desk = web.get("/console/legal")
    assert desk.status_code == 200
    assert "Legal desk" in desk.text and "FIR 9/2026" in desk.text and "overdue by 8 h" in desk.text
    page = web.get(f"/console/legal/{request}")
    assert page.status_code == 200
    text = page.text
    assert "@seller_nine (acct-9)" in text and "not found: no account" in text  # scope, as named and as found
    assert 'id="legal-holds"' in text and "legal: receive" in text  # holds, and the audit trail in words
    assert "IT Rules r.3(1)(j)" in text  # the clock's source
    assert web.get("/console/legal/99999").status_code == 404
    assert web.get("/console/legal/99999999999999999999").status_code in {404, 422}


def test_only_legal_and_leads_see_the_desk(web: TestClient, console_platform: Platform) -> None:
    open_request(console_platform)
    signed_in(web, "reviewer@example.org")
    assert web.get("/console/legal", follow_redirects=False).status_code == 403
    assert "/console/legal" not in web.get("/console/").text
    web.post("/console/sign-out", data={"csrf_token": signed_in(web, "reviewer@example.org")})
    signed_in(web, "lead@example.org")
    assert web.get("/console/legal").status_code == 200


def test_the_console_finds_accounts_and_posts_as_people_name_them(
    web: TestClient, console_platform: Platform
) -> None:
    open_request(console_platform)
    signed_in(web, "reviewer@example.org")
    by_handle = web.get("/console/find", params={"ref": "@seller_nine"}, follow_redirects=False)
    assert by_handle.status_code == 303 and by_handle.headers["location"].startswith("/console/accounts/")
    by_post = web.get("/console/find", params={"ref": "post-9"}, follow_redirects=False)
    assert by_post.headers["location"] == by_handle.headers["location"]  # the post's account
    missing = web.get("/console/find", params={"ref": "@nobody"})
    assert missing.status_code == 404 and "@handle" in missing.text
