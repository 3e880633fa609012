"""Acting at the legal desk from the console, over HTTP on SQLite and PostgreSQL: every form works for
the legal role, is refused to leads (403) and without its CSRF token, says what was wrong with bad input
and changes nothing; grave steps ask for the password again; the drafter cannot approve their own
disclosure; downloads are legal-only for packages, audited, and never follow a path from the request."""

# ruff: noqa: F811  (the console fixtures are imported from test_console and named as test parameters)
from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from html import unescape
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from suraksha.access import users
from suraksha.app import Platform
from suraksha.audit import AuditEvent
from suraksha.content.models import Account, Item
from suraksha.enforcement.models import Action
from suraksha.legal.clocks import RequestKind
from suraksha.legal.models import LegalRequest, ScopeKind
from suraksha.legal.services import NewRequest, ScopeEntry
from tests.functional.web.test_console import (  # noqa: F401 - the console's fixtures
    PASSWORD,
    _cheap_hashing,
    console_platform,
    signed_in,
    web,
)

LEGAL, SECOND = "legal@example.org", "legal2@example.org"


@pytest.fixture
def desk(console_platform: Platform) -> Platform:
    """Two legal users, and a seller with two posts on the platform."""
    with console_platform.db.session() as session:
        users.create_user(session, LEGAL, ["legal"], PASSWORD, by="test")
        users.create_user(session, SECOND, ["legal"], PASSWORD, by="test")
        seller = Account(platform_account_id="acct-9", handle="@seller_nine")
        session.add(seller)
        session.flush()
        for n in (1, 2):
            session.add(
                Item(
                    platform_item_id=f"post-9{n}",
                    payload_digest=f"{n}" * 64,
                    kind="post",
                    account_id=seller.id,
                )
            )
    return console_platform


def received(platform: Platform, kind: RequestKind = RequestKind.DATA_DISCLOSURE, hours_ago: int = 2) -> int:
    shown = platform.legal_receive(
        NewRequest(
            kind=kind,
            jurisdiction="IN",
            received_at=datetime.now(UTC) - timedelta(hours=hours_ago),
            reference=f"{kind.value} 9/2026",
            scope=[ScopeEntry(ScopeKind.ACCOUNT, "@seller_nine")],
        ),
        actor="user:someone-else",
    )
    return int(str(shown["id"]))


def state_of(platform: Platform, request_id: int) -> str:
    return str(platform.legal_request(request_id)["state"])


def post(web: TestClient, path: str, csrf: str | None, **data: Any) -> Any:
    form = {**data, **({"csrf_token": csrf} if csrf is not None else {})}
    return web.post(path, data=form, follow_redirects=False)


def requests_count(platform: Platform) -> int:
    with platform.db.reading() as session:
        return len(session.scalars(select(LegalRequest.id)).all())


RECEIVE = {
    "kind": "blocking_order",
    "jurisdiction": "IN",
    "reference": "69A/2026/7",
    "legal_basis": "IT Act s.69A",
    "channel": "email",
    "received_at": "2026-12-01T10:00+05:30",
    "accounts": "@seller_nine\n@gone\n",
    "posts": "post-91\n",
}


def test_receive_from_the_form_and_bad_input_records_nothing(web: TestClient, desk: Platform) -> None:
    csrf = signed_in(web, LEGAL)
    form = web.get("/console/legal/new")
    assert form.status_code == 200 and 'id="legal-receive"' in form.text
    assert 'href="/console/legal/new"' in web.get("/console/legal").text

    added = post(
        web, "/console/legal/authorities", csrf, agency="MeitY", jurisdiction="IN", rank="Joint Secretary"
    )
    assert added.status_code == 303
    authority = desk.legal_authorities()[0]["id"]
    answer = post(web, "/console/legal/new", csrf, **RECEIVE, authority=str(authority), confidential="true")
    assert answer.status_code == 303, answer.text
    location = answer.headers["location"]
    assert location.endswith("?done=received")
    request_id = int(location.split("/")[-1].split("?")[0])
    shown = desk.legal_request(request_id)
    assert shown["kind"] == "blocking_order" and shown["confidential"] is True
    assert shown["authority"]["agency"] == "MeitY"  # type: ignore[index]
    scope = {(s["kind"], s["value"]): s for s in shown["scope"]}  # type: ignore[union-attr]
    assert scope[("account", "@seller_nine")]["account_id"] and scope[("account", "@gone")]["not_found"]
    assert scope[("item", "post-91")]["item_id"]
    page = web.get(location)
    assert "Received: its clocks are running." in page.text and "@gone" in page.text

    before = requests_count(desk)
    for bad, says in (
        ({"received_at": "2026-12-01T10:00"}, "has no offset"),
        ({"received_at": "yesterday"}, "is not a time"),
        ({"jurisdiction": "India"}, "is not a code"),
        ({"stated_due_at": "2026-11-01T10:00Z"}, "before the request was received"),
        ({"kind": "subpoena_by_fax"}, "is not one of the desk's kinds"),
        ({"range_from": "2026-01-01T00:00Z"}, "needs both its start and its end"),
        ({"authority": "99999"}, "no authority #99999"),
    ):
        refused = post(web, "/console/legal/new", csrf, **{**RECEIVE, **bad})
        assert refused.status_code == 400, bad
        assert 'id="legal-error"' in refused.text and says in unescape(refused.text), bad
        assert 'value="69A/2026/7"' in refused.text  # what was typed is kept
    assert requests_count(desk) == before


def test_leads_read_the_desk_but_every_form_is_refused(web: TestClient, desk: Platform) -> None:
    request_id = received(desk)
    csrf = signed_in(web, "lead@example.org")
    page = web.get(f"/console/legal/{request_id}")
    assert page.status_code == 200 and 'id="legal-forms"' not in page.text
    assert 'href="/console/legal/new"' not in web.get("/console/legal").text
    assert web.get("/console/legal/new").status_code == 403
    base = f"/console/legal/{request_id}"
    forms: list[tuple[str, dict[str, str]]] = [
        ("/console/legal/new", RECEIVE),
        ("/console/legal/authorities", {"agency": "X", "jurisdiction": "IN"}),
        (f"{base}/verify", {"how": "portal"}),
        (f"{base}/reject", {"reason": "other"}),
        (f"{base}/start", {}),
        (f"{base}/preserve", {}),
        (f"{base}/renew", {"reason": "r"}),
        (f"{base}/act", {"action": "remove", "password": PASSWORD}),
        (f"{base}/disclose", {}),
        (f"{base}/reply", {}),
        (f"{base}/done", {"step": "acknowledge"}),
        (f"{base}/answer", {}),
        (f"{base}/close", {}),
        (f"{base}/withdraw", {"note": "n"}),
        (f"{base}/disclosures/1/approve", {"password": PASSWORD}),
        (f"{base}/disclosures/1/sent", {"via": "portal"}),
    ]
    for path, data in forms:
        assert post(web, path, csrf, **data).status_code == 403, path
    assert state_of(desk, request_id) == "received" and len(desk.legal_authorities()) == 0
    web.post("/console/sign-out", data={"csrf_token": csrf})
    csrf = signed_in(web, "reviewer@example.org")
    assert post(web, f"{base}/verify", csrf, how="portal").status_code == 403
    assert web.get(base).status_code == 403


def test_forms_without_the_csrf_token_are_refused(web: TestClient, desk: Platform) -> None:
    request_id = received(desk)
    signed_in(web, LEGAL)
    base = f"/console/legal/{request_id}"
    for path, data in (
        ("/console/legal/new", RECEIVE),
        (f"{base}/verify", {"how": "portal"}),
        (f"{base}/preserve", {}),
        (f"{base}/act", {"action": "remove", "password": PASSWORD}),
        (f"{base}/withdraw", {"note": "n"}),
    ):
        refused = post(web, path, None, **data)
        assert refused.status_code == 403 and "security token" in refused.text, path
        assert post(web, path, "0" * 64, **data).status_code == 403, path
    assert state_of(desk, request_id) == "received" and requests_count(desk) == 1
    assert desk.legal_request(request_id)["holds"] == []


def test_verify_reject_start_done_answer_close(web: TestClient, desk: Platform) -> None:
    csrf = signed_in(web, LEGAL)
    first, second = received(desk), received(desk)
    base = f"/console/legal/{first}"
    page = web.get(base)
    assert 'id="legal-verify"' in page.text and 'id="legal-reject"' in page.text

    empty = post(web, f"{base}/verify", csrf, how="  ")
    assert empty.status_code in {400, 422} and state_of(desk, first) == "received"
    answer = post(web, f"{base}/verify", csrf, how="called back on the published number")
    assert answer.status_code == 303 and answer.headers["location"] == f"{base}?done=verified"
    assert state_of(desk, first) == "verified"
    again = post(web, f"{base}/verify", csrf, how="portal")  # a verified request is not verified twice
    assert again.status_code == 409 and "Refused:" in again.text and state_of(desk, first) == "verified"

    assert post(web, f"{base}/start", csrf, note="on it").status_code == 303
    assert state_of(desk, first) == "in_progress"
    assert post(web, f"{base}/done", csrf, step="answer", note="mailed the data").status_code == 303
    clocks = {c["step"]: c for c in desk.legal_request(first)["clocks"]}  # type: ignore[union-attr]
    assert clocks["answer"]["state"] in {"met", "met_late"}
    bad_step = post(web, f"{base}/done", csrf, step="nap")
    assert bad_step.status_code == 422 and "step" in bad_step.text
    assert post(web, f"{base}/answer", csrf, partly_because="@gone: no such account").status_code == 303
    assert state_of(desk, first) == "partly_answered"
    assert post(web, f"{base}/close", csrf, note="done").status_code == 303
    assert state_of(desk, first) == "closed"
    closed = web.get(base).text
    assert 'id="legal-forms"' not in closed and "legal: state" in closed  # the audit trail in words

    rejected = post(web, f"/console/legal/{second}/reject", csrf, reason="wrong_rank", detail="an SI")
    assert rejected.status_code == 303 and state_of(desk, second) == "rejected"
    assert desk.legal_request(second)["state_reason"]
    bad_reason = post(web, f"/console/legal/{second}/reject", csrf, reason="bored")
    assert bad_reason.status_code == 422
    assert post(web, "/console/legal/99999/verify", csrf, how="portal").status_code == 404


def test_preserve_renew_and_withdraw(web: TestClient, desk: Platform) -> None:
    csrf = signed_in(web, LEGAL)
    request_id = received(desk, RequestKind.PRESERVATION)
    base = f"/console/legal/{request_id}"
    no_reason = post(web, f"{base}/renew", csrf, reason="x")  # nothing held yet: refused, said
    assert no_reason.status_code in {400, 409} and 'id="legal-error"' in no_reason.text
    assert post(web, f"{base}/preserve", csrf).status_code == 303
    holds = desk.legal_request(request_id)["holds"]
    assert isinstance(holds, list) and len(holds) == 2 and all(h["active"] for h in holds)
    assert 'id="legal-renew"' in web.get(base).text
    assert post(web, f"{base}/renew", csrf, reason="renewed by letter 12/2026").status_code == 303
    renewed = desk.legal_request(request_id)["holds"]
    assert all(h["extensions"] == 1 for h in renewed)  # type: ignore[union-attr]
    blank = post(web, f"{base}/withdraw", csrf, note=" ")
    assert blank.status_code == 400 and "what the authority said" in blank.text
    assert state_of(desk, request_id) != "closed"
    assert post(web, f"{base}/withdraw", csrf, note="order recalled").status_code == 303
    shown = desk.legal_request(request_id)
    assert shown["state"] == "closed" and not any(h["active"] for h in shown["holds"])  # type: ignore[union-attr]


def test_acting_on_a_blocking_order_needs_verification_and_the_password(
    web: TestClient, desk: Platform
) -> None:
    csrf = signed_in(web, LEGAL)
    request_id = received(desk, RequestKind.BLOCKING_ORDER)
    base = f"/console/legal/{request_id}"

    def actions() -> list[Action]:
        with desk.db.reading() as session:
            return list(session.scalars(select(Action)))

    unverified = post(web, f"{base}/act", csrf, action="withhold", countries="IN", password=PASSWORD)
    assert unverified.status_code == 409 and "verify it before acting" in unverified.text and not actions()
    assert post(web, f"{base}/verify", csrf, how="MeitY letter, checked").status_code == 303
    assert 'id="legal-act"' in web.get(base).text
    wrong = post(web, f"{base}/act", csrf, action="withhold", countries="IN", password="not-it")
    assert wrong.status_code == 401 and "not your password" in wrong.text and not actions()
    missing = post(web, f"{base}/act", csrf, action="withhold", countries="IN")
    assert missing.status_code == 401 and "password again" in missing.text and not actions()
    bad = post(web, f"{base}/act", csrf, action="withhold", countries="India", password=PASSWORD)
    assert bad.status_code == 400 and "two-letter codes" in bad.text and not actions()
    assert post(web, f"{base}/act", csrf, action="burn", password=PASSWORD).status_code == 422

    done = post(web, f"{base}/act", csrf, action="withhold", countries="IN, US", password=PASSWORD)
    assert done.status_code == 303 and done.headers["location"] == f"{base}?done=acted"
    taken = actions()
    assert len(taken) == 2 and {a.kind for a in taken} == {"withhold"}
    page = web.get(done.headers["location"]).text
    assert "each naming the order" in page and 'id="legal-actions"' in page
    acted = {c["step"]: c for c in desk.legal_request(request_id)["clocks"]}  # type: ignore[union-attr]
    assert acted["act"]["state"] in {"met", "met_late"}


def test_a_second_person_approves_the_disclosure_and_downloads_are_audited(
    web: TestClient, desk: Platform
) -> None:
    request_id = received(desk)
    base = f"/console/legal/{request_id}"
    csrf = signed_in(web, LEGAL)
    too_soon = post(web, f"{base}/disclose", csrf)  # not verified yet
    assert too_soon.status_code == 409 and "only a verified request is answered" in too_soon.text
    assert post(web, f"{base}/verify", csrf, how="portal").status_code == 303
    assert post(web, f"{base}/disclose", csrf).status_code == 303
    disclosures = desk.legal_request(request_id)["disclosures"]
    assert isinstance(disclosures, list) and len(disclosures) == 1
    did = disclosures[0]["id"]
    page = web.get(base).text
    assert f"{base}/disclosures/{did}/files/pdf" in page and "Approve (second person)" in page

    own = post(web, f"{base}/disclosures/{did}/approve", csrf, password=PASSWORD)
    assert own.status_code == 403
    assert "the person who drafted a disclosure cannot approve it" in own.text
    assert desk.legal_request(request_id)["disclosures"][0]["state"] == "drafted"  # type: ignore[index]
    not_sent = post(web, f"{base}/disclosures/{did}/sent", csrf, via="IFSO portal")
    assert not_sent.status_code == 409 and "only an approved one leaves" in not_sent.text

    pdf = web.get(f"{base}/disclosures/{did}/files/pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert "attachment" in pdf.headers["content-disposition"]
    summary = web.get(f"{base}/disclosures/{did}/files/summary")
    assert summary.status_code == 200 and summary.json()
    for sneaky in ("..%2F..%2Fsettings.toml", "disclosure-1.pdf", "docx", "%2Fetc%2Fpasswd"):
        assert web.get(f"{base}/disclosures/{did}/files/{sneaky}").status_code == 404, sneaky
    assert web.get(f"/console/legal/99999/disclosures/{did}/files/pdf").status_code == 404
    with desk.db.reading() as session:
        opened = session.scalars(
            select(AuditEvent).where(
                AuditEvent.action == "evidence:access", AuditEvent.subject == f"legal_disclosure:{did}"
            )
        ).all()
    assert sorted(json.loads(e.details)["file"] for e in opened) == [f"disclosure-{did}.pdf", "summary.json"]

    web.post("/console/sign-out", data={"csrf_token": csrf})
    csrf = signed_in(web, "lead@example.org")
    assert web.get(f"{base}/disclosures/{did}/files/pdf").status_code == 403  # packages hold evidence
    web.post("/console/sign-out", data={"csrf_token": csrf})

    csrf = signed_in(web, SECOND)
    wrong = post(web, f"{base}/disclosures/{did}/approve", csrf, password="nope")
    assert wrong.status_code == 401 and desk.legal_request(request_id)["disclosures"][0]["state"] == "drafted"  # type: ignore[index]
    elsewhere = received(desk)
    mismatch = post(web, f"/console/legal/{elsewhere}/disclosures/{did}/approve", csrf, password=PASSWORD)
    assert mismatch.status_code == 400 and "has no disclosure or reply" in mismatch.text
    approved = post(web, f"{base}/disclosures/{did}/approve", csrf, password=PASSWORD)
    assert approved.status_code == 303 and approved.headers["location"] == f"{base}?done=approved"
    no_via = post(web, f"{base}/disclosures/{did}/sent", csrf, via=" ")
    assert no_via.status_code == 400 and "how it was handed over" in no_via.text
    assert post(web, f"{base}/disclosures/{did}/sent", csrf, via="IFSO portal").status_code == 303
    shown = desk.legal_request(request_id)
    assert shown["disclosures"][0]["state"] == "sent"  # type: ignore[index]
    answer = {c["step"]: c for c in shown["clocks"]}  # type: ignore[union-attr]
    assert answer["answer"]["state"] in {"met", "met_late"}


def test_a_commission_reply_is_drafted_approved_and_read_by_leads(web: TestClient, desk: Platform) -> None:
    request_id = received(desk, RequestKind.COMMISSION_NOTICE)
    base = f"/console/legal/{request_id}"
    csrf = signed_in(web, LEGAL)
    assert post(web, f"{base}/verify", csrf, how="summons served in person").status_code == 303
    assert 'id="legal-reply"' in web.get(base).text
    assert post(web, f"{base}/reply", csrf).status_code == 303
    rid = desk.legal_request(request_id)["disclosures"][0]["id"]  # type: ignore[index]
    docx = web.get(f"{base}/disclosures/{rid}/files/docx")
    assert docx.status_code == 200 and docx.content.startswith(b"PK")
    assert web.get(f"{base}/disclosures/{rid}/files/evidence").status_code == 404  # not a reply's file
    web.post("/console/sign-out", data={"csrf_token": csrf})
    csrf = signed_in(web, "lead@example.org")
    assert web.get(f"{base}/disclosures/{rid}/files/pdf").status_code == 200  # replies: leads read them
    web.post("/console/sign-out", data={"csrf_token": csrf})
    csrf = signed_in(web, SECOND)
    assert post(web, f"{base}/disclosures/{rid}/approve", csrf, password=PASSWORD).status_code == 303
    assert desk.legal_request(request_id)["disclosures"][0]["approved_by"]  # type: ignore[index]


def test_a_period_bounds_the_accounts_it_names(web: TestClient, desk: Platform) -> None:
    csrf = signed_in(web, LEGAL)
    period = {"range_from": "2022-01-01T00:00+05:30", "range_to": "2022-09-01T00:00+05:30"}
    answer = post(web, "/console/legal/new", csrf, **{**RECEIVE, **period, "kind": "commission_notice"})
    assert answer.status_code == 303, answer.text
    request_id = int(answer.headers["location"].split("/")[-1].split("?")[0])
    with desk.db.reading() as session:
        request = session.get(LegalRequest, request_id)
        assert request is not None
        bounded = {(s.kind, s.value): (s.from_at, s.to_at) for s in request.scope}
    start, end = datetime(2021, 12, 31, 18, 30, tzinfo=UTC), datetime(2022, 8, 31, 18, 30, tzinfo=UTC)
    assert bounded[("account", "@seller_nine")] == (start, end)
    assert bounded[("date_range", "")] == (start, end)  # the period a commission's reply counts over
    backwards = post(
        web, "/console/legal/new", csrf, **{**RECEIVE, **period, "range_to": "2021-01-01T00:00Z"}
    )
    assert backwards.status_code == 400 and "a date range needs a start before its end" in backwards.text
