"""The console's rules over HTTP on SQLite and PostgreSQL (issue 12): ids out of range are a 4xx on every
route, the read_only kill switch stops every console write, and case pages and reveals follow the
queue rules (the claim, the escalation level, media of a case the user may work)."""

# ruff: noqa: F811  (the console fixtures are imported from test_console and named as test parameters)
from __future__ import annotations

import re
from typing import Any

from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from suraksha.admin.models import KillSwitch
from suraksha.admin.services import set_switch
from suraksha.app import Platform
from suraksha.banks.models import BankEntry
from suraksha.web import console
from suraksha.web.console.viewer import refuse_writes_when_read_only

from .test_console import (  # noqa: F401  (fixtures)
    _case,
    _cheap_hashing,
    audit_rows,
    console_platform,
    csrf_of,
    signed_in,
    web,
)

TOO_BIG = str(2**64)
"""Beyond what a signed 64-bit integer column holds, on SQLite and PostgreSQL alike."""
FORM = {
    "note": "a note",
    "to": "r-000000",
    "verdict": "approve",
    "enabled": "false",
    "reason": "a reason",
    "violation": "benign",
    "case_id": "1",
}


def _console_routes() -> list[APIRoute]:
    return [r for router in console.ROUTERS for r in router.routes if isinstance(r, APIRoute)]


def _id_routes() -> list[tuple[str, str, list[str]]]:
    """(method, path template, int path parameters) for every console route taking an integer id."""
    found = []
    for route in _console_routes():
        ints = [p.name for p in route.dependant.path_params if p.field_info.annotation is int]
        if ints:
            for method in sorted(route.methods):
                found.append((method, route.path, ints))
    return found


def test_ids_out_of_range_are_refused_on_every_console_route(web: TestClient) -> None:
    csrf = signed_in(web, "lead@example.org")
    routes = _id_routes()
    assert len(routes) >= 13, routes
    for method, template, ints in routes:
        path = template
        for name in ints:
            path = path.replace("{" + name + "}", TOO_BIG)
        path = re.sub(r"\{[a-z_]+\}", "known", path)  # the bank name
        if method == "GET":
            answer = web.get(path, params={"view": "1"})
        else:
            answer = web.post(path, data={**FORM, "csrf_token": csrf}, headers={"X-CSRF-Token": csrf})
        assert 400 <= answer.status_code < 500, (method, path, answer.status_code)
    # ids in the query string and in forms too
    assert web.get("/console/media/1/content", params={"view": TOO_BIG}).status_code == 422
    assert web.get("/console/audit", params={"before": TOO_BIG}).status_code == 422
    assert web.get("/console/reports", params={"before": TOO_BIG}).status_code == 422
    reveal = web.post("/console/media/1/reveal", data={"case_id": TOO_BIG}, headers={"X-CSRF-Token": csrf})
    assert reveal.status_code == 422


def _writes(platform: Platform) -> int:
    with platform.db.reading() as session:
        return int(session.scalar(select(func.count()).select_from(BankEntry)) or 0)


def test_read_only_stops_every_console_write(web: TestClient, console_platform: Platform) -> None:
    csrf = signed_in(web, "lead@example.org")
    case_id, media_id = _case(console_platform, "sexual_violence", 5)
    with console_platform.db.session() as session:
        set_switch(session, KillSwitch.READ_ONLY, True, by="test", reason="maintenance")
    entries = _writes(console_platform)
    headers = {"X-CSRF-Token": csrf}
    refused: list[tuple[str, dict[str, Any]]] = [
        ("/console/banks", {"name": "new-bank"}),
        ("/console/banks/known/entries", {"signal_type": "md5", "value": "d41d8cd98f00b204e9800998ecf8427e"}),
        ("/console/banks/known/enabled", {"enabled": "false"}),
        (f"/console/cases/{case_id}/claim", {}),
        (f"/console/cases/{case_id}/escalate", {"note": "why"}),
        (f"/console/cases/{case_id}/decide", {"violation": "benign"}),
        (f"/console/media/{media_id}/reveal", {"case_id": str(case_id)}),
        ("/console/account/display", {"blur": "off"}),
    ]
    for path, form in refused:
        answer = web.post(path, data=form, headers=headers)
        assert answer.status_code == 503, (path, answer.status_code)
        assert "read-only" in answer.text, path
    assert _writes(console_platform) == entries
    from suraksha.review.models import ReviewCase

    with console_platform.db.reading() as session:
        case = session.get(ReviewCase, case_id)
        assert case is not None and case.state == "open"
    assert not audit_rows(console_platform, "media:reveal")
    # one place: every console router carries the check
    for router in console.ROUTERS:
        assert any(d.dependency is refuse_writes_when_read_only for d in router.dependencies)
    # pages still open, reads sent as POST still work, and a lead can turn the switch off from the console
    assert web.get(f"/console/cases/{case_id}").status_code == 200
    from suraksha.testing.synthetic import synthetic_jpeg

    debugger = web.post(
        "/console/debugger",
        data={"csrf_token": csrf},
        files={"file": ("x.jpg", synthetic_jpeg(1), "image/jpeg")},
    )
    assert debugger.status_code == 200
    verify = web.post("/console/audit/verify", data={}, headers={**headers, "HX-Request": "true"})
    assert verify.status_code == 200
    off = web.post(
        "/console/switches/read_only", data={"enabled": "false", "reason": "done"}, headers=headers
    )
    assert off.status_code == 200
    assert web.post(f"/console/cases/{case_id}/claim", data={}, headers=headers).status_code == 200


def test_signing_in_and_out_work_while_read_only(web: TestClient, console_platform: Platform) -> None:
    csrf = signed_in(web, "reviewer@example.org")
    with console_platform.db.session() as session:
        set_switch(session, KillSwitch.READ_ONLY, True, by="test", reason="maintenance")
    answer = web.post("/console/sign-out", data={"csrf_token": csrf}, follow_redirects=False)
    assert answer.status_code == 303
    page = web.get("/console/sign-in")
    assert page.status_code == 200
    signed = web.post(
        "/console/sign-in",
        data={
            "email": "reviewer@example.org",
            "password": "tidal-oak-lantern-91",
            "csrf_token": csrf_of(page.text),
        },
        follow_redirects=False,
    )
    assert signed.status_code == 303


def _user_id(platform: Platform, email: str) -> int:
    from suraksha.access.models import ConsoleUser

    with platform.db.reading() as session:
        return int(session.scalars(select(ConsoleUser.id).where(ConsoleUser.email == email)).one())


def _item_never_sent_to_review(platform: Platform) -> int:
    """An item with a picture but no review case; returns its media id."""
    from suraksha.content.models import Account, Item, ItemKind, ItemMedia, ItemState, MediaState

    with platform.db.session() as session:
        account = Account(platform_account_id="quiet-1", handle="@quiet")
        session.add(account)
        session.flush()
        item = Item(
            platform_item_id="quiet-item",
            payload_digest="0" * 64,
            kind=ItemKind.POST,
            account_id=account.id,
            text="nothing to see",
            state=ItemState.DECIDED,
        )
        session.add(item)
        session.flush()
        media = ItemMedia(item_id=item.id, position=0, state=MediaState.HASHED, size=3, sha256="ab" * 32)
        session.add(media)
        session.flush()
        return media.id


def _reveal(client: TestClient, csrf: str, media_id: int, case_id: int | None = None) -> Any:
    data = {"case_id": str(case_id)} if case_id is not None else {}
    return client.post(f"/console/media/{media_id}/reveal", data=data, headers={"X-CSRF-Token": csrf})


def test_case_pages_and_reveals_follow_the_queue_rules(web: TestClient, console_platform: Platform) -> None:
    from suraksha.access import users

    with console_platform.db.session() as session:
        users.create_user(session, "other@example.org", ["reviewer"], "tidal-oak-lantern-91", by="test")
    claimed_case, claimed_media = _case(console_platform, "sexual_violence", 11)
    escalated_case, escalated_media = _case(console_platform, "sexual_violence", 12)
    quiet_media = _item_never_sent_to_review(console_platform)

    other = TestClient(web.app)
    other_csrf = signed_in(other, "other@example.org")
    for case_id in (claimed_case, escalated_case):
        assert (
            other.post(f"/console/cases/{case_id}/claim", data={"csrf_token": other_csrf}).status_code == 200
        )
    assert other.get(f"/console/cases/{claimed_case}").status_code == 200  # the holder opens it
    escalate = {"csrf_token": other_csrf, "note": "a lead should look"}
    assert other.post(f"/console/cases/{escalated_case}/escalate", data=escalate).status_code == 200

    csrf = signed_in(web, "reviewer@example.org")
    claimed = web.get(f"/console/cases/{claimed_case}")
    assert claimed.status_code == 403 and "claimed by another reviewer" in claimed.text
    escalated = web.get(f"/console/cases/{escalated_case}")
    assert escalated.status_code == 403 and "escalated" in escalated.text
    for media_id, case_id in (
        (claimed_media, claimed_case),
        (claimed_media, None),
        (escalated_media, escalated_case),
        (escalated_media, None),
    ):
        assert _reveal(web, csrf, media_id, case_id).status_code == 403, (media_id, case_id)
    never = _reveal(web, csrf, quiet_media)
    assert never.status_code == 403 and "review case" in never.text
    assert not audit_rows(console_platform, "media:reveal")
    refused = audit_rows(console_platform, "media:reveal_refused")
    assert len(refused) == 5 and all("case" in r.details for r in refused)

    # a lead opens both; the holder reveals the media of the case they hold
    lead = TestClient(web.app)
    signed_in(lead, "lead@example.org")
    assert lead.get(f"/console/cases/{claimed_case}").status_code == 200
    assert lead.get(f"/console/cases/{escalated_case}").status_code == 200
    assert _reveal(other, other_csrf, claimed_media, claimed_case).status_code == 200
    # a claim that ran out puts the case back in the queue: anyone may open it again
    from sqlalchemy import update

    from suraksha.db.base import utcnow
    from suraksha.review.models import ReviewCase

    with console_platform.db.session() as session:
        session.execute(
            update(ReviewCase).where(ReviewCase.id == claimed_case).values(claim_expires_at=utcnow())
        )
    assert web.get(f"/console/cases/{claimed_case}").status_code == 200
    assert _user_id(console_platform, "other@example.org") != _user_id(
        console_platform, "reviewer@example.org"
    )


def test_case_page_shows_accounts_sharing_the_same_file(web: TestClient, console_platform: Platform) -> None:
    first_case, _ = _case(console_platform, "sexual_violence", 21)
    _case(console_platform, "sexual_violence", 22)  # another account posts the same picture
    signed_in(web, "lead@example.org")
    page = web.get(f"/console/cases/{first_case}")
    assert page.status_code == 200
    linked = re.search(r'<ul class="plain" id="linked-accounts">(.*?)</ul>', page.text, re.S)
    assert linked is not None and "@a22" in linked.group(1) and "same file" in linked.group(1)
    auditor = TestClient(web.app)
    signed_in(auditor, "auditor@example.org")
    refused = auditor.get(f"/console/cases/{first_case}")
    assert refused.status_code == 403 and "queue:view" in refused.text
