"""The console over HTTP on SQLite and PostgreSQL: sign-in and sign-out, sessions (revoked on the server,
idle and absolute expiry, disabled users), CSRF, security headers, sign-in throttling, TOTP, permission
checks on every page, and the operations pages (banks, debugger, kill switches, audit log)."""

from __future__ import annotations

import base64
import re
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pyotp
import pytest
from argon2 import PasswordHasher
from argon2.profiles import CHEAPEST
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from suraksha.access import users
from suraksha.access.models import ConsoleSession, SignInThrottle
from suraksha.admin.models import KillSwitch
from suraksha.admin.services import is_on
from suraksha.app import Platform
from suraksha.audit import AuditEvent, verify
from suraksha.banks import services as banks
from suraksha.banks.models import BankEntry
from suraksha.content.models import Account
from suraksha.db.base import utcnow
from suraksha.reporting.models import CyberTiplineReport
from suraksha.testing.synthetic import synthetic_jpeg
from suraksha.web.app import create_app
from suraksha.web.state import WebState

PASSWORD = "tidal-oak-lantern-91"
CSRF_RE = re.compile(r'name="csrf_token" value="([0-9a-f]{64})"')
ROLES = {
    "admin@example.org": ["admin"],
    "lead@example.org": ["lead"],
    "reviewer@example.org": ["reviewer"],
    "auditor@example.org": ["auditor"],
}


@pytest.fixture(autouse=True)
def _cheap_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(users, "HASHER", PasswordHasher.from_parameters(CHEAPEST))


@pytest.fixture
def console_platform(platform: Platform, make_platform: Callable[..., Platform]) -> Platform:
    """The web conftest's platform (a bank ``known`` of two benign pictures), with plain-HTTP cookies
    (the test client speaks http://testserver) and one user per role."""
    console = make_platform(
        console_secure_cookies=False,
        console_sign_in_max_failures=4,
        console_totp_key=base64.b64encode(b"k" * 32).decode(),  # a test key: TOTP secrets sealed under it
    )
    with console.db.session() as session:
        for email, roles in ROLES.items():
            users.create_user(session, email, roles, PASSWORD, by="test")
    return console


@pytest.fixture
def web(console_platform: Platform) -> Iterator[TestClient]:
    app = create_app(console_platform, start_index=False)
    state: WebState = app.state.suraksha
    state.load_index()
    with TestClient(app) as client:
        yield client


def csrf_of(html: str) -> str:
    found = CSRF_RE.search(html)
    assert found is not None, "no CSRF token on the page"
    return found.group(1)


def sign_in(client: TestClient, email: str, password: str = PASSWORD) -> Any:
    page = client.get("/console/sign-in")
    return client.post(
        "/console/sign-in",
        data={"email": email, "password": password, "csrf_token": csrf_of(page.text), "next": "/console/"},
        follow_redirects=False,
    )


def signed_in(client: TestClient, email: str) -> str:
    """Sign in; returns the CSRF token of the signed-in pages."""
    answer = sign_in(client, email)
    assert answer.status_code == 303, answer.text
    return csrf_of(client.get("/console/").text)


def audit_rows(platform: Platform, action: str) -> list[AuditEvent]:
    with platform.db.reading() as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def test_anonymous_is_sent_to_sign_in(web: TestClient) -> None:
    for path in ("/console/", "/console/banks", "/console/audit?action=x"):
        answer = web.get(path, follow_redirects=False)
        assert answer.status_code == 303
        assert answer.headers["location"].startswith("/console/sign-in?next=/console/")
    htmx = web.post("/console/audit/verify", headers={"HX-Request": "true"}, follow_redirects=False)
    assert htmx.status_code == 403  # no CSRF token: refused before anything else


def test_sign_in_sign_out_and_headers(web: TestClient, console_platform: Platform) -> None:
    page = web.get("/console/sign-in")
    csp = page.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["referrer-policy"] == "no-referrer"
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["cache-control"] == "no-store"

    answer = sign_in(web, "lead@example.org")
    assert answer.status_code == 303 and answer.headers["location"] == "/console/"
    cookie = answer.headers["set-cookie"]
    assert "suraksha_session=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
    token = web.cookies.get("suraksha_session")
    assert token
    with console_platform.db.reading() as session:
        stored = session.scalars(select(ConsoleSession.token_hash)).all()
    assert token not in stored and len(stored) == 1  # only a hash of it

    dashboard = web.get("/console/")
    assert dashboard.status_code == 200 and "Dashboard" in dashboard.text
    # signing in again from the same browser ends the earlier session
    assert sign_in(web, "lead@example.org").status_code == 303
    with console_platform.db.reading() as session:
        reasons = session.scalars(select(ConsoleSession.revoked_reason).order_by(ConsoleSession.id)).all()
    assert reasons == ["replaced", ""]
    token = web.cookies.get("suraksha_session")
    dashboard = web.get("/console/")
    csrf = csrf_of(dashboard.text)
    assert web.post("/console/sign-out", data={"csrf_token": csrf}, follow_redirects=False).status_code == 303
    assert [r.subject for r in audit_rows(console_platform, "auth:sign_out")]

    # the old cookie, replayed, no longer signs anybody in: the session ended on the server
    web.cookies.set("suraksha_session", token)
    assert web.get("/console/", follow_redirects=False).status_code == 303


def test_wrong_password_says_the_same_thing(web: TestClient, console_platform: Platform) -> None:
    wrong = sign_in(web, "lead@example.org", "not-the-password-1")
    unknown = sign_in(web, "nobody@example.org", "not-the-password-1")
    assert wrong.status_code == unknown.status_code == 401
    assert users.SIGN_IN_FAILED in wrong.text and users.SIGN_IN_FAILED in unknown.text
    assert "suraksha_session" not in web.cookies
    reasons = [r.details for r in audit_rows(console_platform, "auth:sign_in_failed")]
    assert any("wrong_password" in r for r in reasons) and any("unknown_user" in r for r in reasons)


def test_csrf_is_required_for_every_change(web: TestClient, console_platform: Platform) -> None:
    csrf = signed_in(web, "lead@example.org")
    form = {"enabled": "true", "reason": "drill"}
    assert web.post("/console/switches/read_only", data=form).status_code == 403
    assert web.post("/console/switches/read_only", data={**form, "csrf_token": "0" * 64}).status_code == 403
    # a good token from another site is refused too
    cross = web.post(
        "/console/switches/read_only",
        data={**form, "csrf_token": csrf},
        headers={"Origin": "https://evil.example"},
    )
    assert cross.status_code == 403 and "did not come from this console" in cross.text
    with console_platform.db.reading() as session:
        assert not is_on(session, KillSwitch.READ_ONLY)
    ok = web.post("/console/switches/read_only", data=form, headers={"X-CSRF-Token": csrf})
    assert ok.status_code == 200 and "drill" in ok.text
    with console_platform.db.reading() as session:
        assert is_on(session, KillSwitch.READ_ONLY)
    flips = audit_rows(console_platform, "switch:set")
    assert flips[-1].actor.startswith("user:r-") and "drill" in flips[-1].details


def test_permissions_are_checked_on_the_server(web: TestClient) -> None:
    csrf = signed_in(web, "auditor@example.org")
    home = web.get("/console/")
    assert "/console/audit" in home.text and "/console/banks" not in home.text
    for path in (
        "/console/banks",
        "/console/switches",
        "/console/debugger",
        "/console/banks/known",
        "/console/accounts/1",
        "/console/decisions",
        "/console/items",
    ):
        answer = web.get(path)
        assert answer.status_code == 403 and "needs the permission" in answer.text
    answer = web.post("/console/banks", data={"name": "sneaky", "csrf_token": csrf})
    assert answer.status_code == 403
    assert web.get("/console/audit").status_code == 200

    reviewer = TestClient(web.app)
    signed_in(reviewer, "reviewer@example.org")
    assert reviewer.get("/console/audit").status_code == 403
    assert reviewer.get("/console/switches").status_code == 403


def test_sessions_end_when_idle_expired_or_user_disabled(web: TestClient, console_platform: Platform) -> None:
    signed_in(web, "reviewer@example.org")
    db = console_platform.db
    with db.session() as session:
        session.execute(update(ConsoleSession).values(last_seen_at=utcnow() - timedelta(minutes=31)))
    assert web.get("/console/", follow_redirects=False).status_code == 303
    with db.reading() as session:
        assert session.scalars(select(ConsoleSession.revoked_reason)).all() == ["idle"]

    signed_in(web, "reviewer@example.org")
    with db.session() as session:
        session.execute(
            update(ConsoleSession)
            .where(ConsoleSession.revoked_at.is_(None))
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
    assert web.get("/console/", follow_redirects=False).status_code == 303

    signed_in(web, "reviewer@example.org")
    with db.session() as session:
        users.disable_user(session, "reviewer@example.org", by="test")
    assert web.get("/console/", follow_redirects=False).status_code == 303
    with db.reading() as session:
        reasons = session.scalars(select(ConsoleSession.revoked_reason).order_by(ConsoleSession.id)).all()
    assert reasons == ["idle", "expired", "user_disabled"]


def test_sign_in_is_throttled_per_address_and_account(web: TestClient, console_platform: Platform) -> None:
    for _ in range(4):  # the fixture's limit is 4 per pair; the account's own lockout is 5
        assert sign_in(web, "lead@example.org", "not-the-password-1").status_code == 401
    throttled = sign_in(web, "lead@example.org")  # even the right password: refused before it is checked
    assert throttled.status_code == 429 and "too many failed sign-ins" in throttled.text
    with console_platform.db.reading() as session:
        keys = session.scalars(select(SignInThrottle.key)).all()
    assert keys and all("example" not in k for k in keys)  # digests, no emails
    # another account from the same address is not blocked by the pair's counter
    assert sign_in(web, "admin@example.org").status_code == 303


def test_totp_enrolment_and_sign_in(web: TestClient, console_platform: Platform) -> None:
    csrf = signed_in(web, "reviewer@example.org")
    start = web.post("/console/account/totp/start", data={"csrf_token": csrf, "password": PASSWORD})
    secret = re.search(r'id="totp-secret">([A-Z2-7]+)<', start.text)
    assert secret is not None and "data:image/svg+xml" in start.text
    wrong = web.post("/console/account/totp", data={"csrf_token": csrf, "code": "000000"})
    assert wrong.status_code == 400 and secret.group(1) in wrong.text  # the same set-up, shown again
    code = pyotp.TOTP(secret.group(1)).now()
    enabled = web.post("/console/account/totp", data={"csrf_token": csrf, "code": code})
    assert enabled.status_code == 200 and "On: sign-in asks for a code" in enabled.text
    web.post("/console/sign-out", data={"csrf_token": csrf})

    answer = sign_in(web, "reviewer@example.org")
    assert answer.headers["location"].startswith("/console/sign-in/code")
    assert (
        web.get("/console/account", follow_redirects=False)
        .headers["location"]
        .startswith("/console/sign-in/code")
    )
    page = web.get("/console/sign-in/code")
    csrf = csrf_of(page.text)
    replay = web.post("/console/sign-in/code", data={"csrf_token": csrf, "code": code})
    assert replay.status_code == 401  # the enrolment's code was used already
    fresh = pyotp.TOTP(secret.group(1)).at(utcnow() + timedelta(seconds=30))
    done = web.post("/console/sign-in/code", data={"csrf_token": csrf, "code": fresh}, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == "/console/"
    assert web.get("/console/").status_code == 200


def test_banks_pages(web: TestClient, console_platform: Platform) -> None:
    csrf = signed_in(web, "lead@example.org")
    listing = web.get("/console/banks")
    assert "known" in listing.text
    created = web.post(
        "/console/banks",
        data={"csrf_token": csrf, "name": "benign-allow", "kind": "allow", "category": "csam"},
    )
    assert created.status_code == 200 and "benign-allow" in created.text
    bad = web.post(
        "/console/banks/benign-allow/import",
        data={"csrf_token": csrf},
        files={"file": ("list.txt", b"d41d8cd98f00b204e9800998ecf8427e\nnot-a-hash\n", "text/plain")},
    )
    assert bad.status_code == 400 and "Nothing was imported" in bad.text and "line 2" in bad.text
    good = web.post(
        "/console/banks/benign-allow/import",
        data={"csrf_token": csrf},
        files={"file": ("list.txt", b"d41d8cd98f00b204e9800998ecf8427e\n", "text/plain")},
    )
    assert good.status_code == 200 and "1 added" in good.text
    with console_platform.db.reading() as session:
        entry_id = session.scalars(select(BankEntry.id).order_by(BankEntry.id.desc())).first()
    disabled = web.post(
        f"/console/banks/benign-allow/entries/{entry_id}/enabled",
        data={"enabled": "false", "reason": "test"},
        headers={"X-CSRF-Token": csrf, "HX-Request": "true"},
    )
    assert disabled.status_code == 200 and disabled.text.strip().startswith(f'<tr id="entry-{entry_id}"')
    assert "disabled" in disabled.text
    changes = [r.details for r in audit_rows(console_platform, "bank:change")]
    assert any("bank.create" in c for c in changes) and any("bank.import" in c for c in changes)
    assert any("entry.disable" in c for c in changes)


def test_match_debugger(web: TestClient) -> None:
    csrf = signed_in(web, "lead@example.org")
    known = web.post(
        "/console/debugger",
        data={"csrf_token": csrf},
        files={"file": ("x.jpg", synthetic_jpeg(1), "image/jpeg")},
    )
    assert known.status_code == 200 and 'class="hit"' in known.text and "known" in known.text
    other = web.post(
        "/console/debugger",
        data={"csrf_token": csrf},
        files={"file": ("y.jpg", synthetic_jpeg(77), "image/jpeg")},
    )
    assert other.status_code == 200 and 'id="no-match"' in other.text and 'id="pdq"' in other.text
    broken = web.post(
        "/console/debugger",
        data={"csrf_token": csrf},
        files={"file": ("z.jpg", synthetic_jpeg(3)[:300], "image/jpeg")},
    )
    assert broken.status_code == 422 and "could not hash" in broken.text


def test_audit_page_and_verify(web: TestClient, console_platform: Platform) -> None:
    csrf = signed_in(web, "auditor@example.org")
    page = web.get("/console/audit")
    assert "auth:sign_in" in page.text
    ok = web.post("/console/audit/verify", data={}, headers={"X-CSRF-Token": csrf, "HX-Request": "true"})
    assert ok.status_code == 200 and 'id="verify-ok"' in ok.text
    with console_platform.db.reading() as session:
        assert verify(session).ok


def _case(
    platform: Platform, category: str, seed: int, media: tuple[bytes, str] | None = None
) -> tuple[int, int]:
    """A review case about a new item whose picture (or ``media``: bytes, content type) is in the
    ``known`` bank, so its media is kept; returns (case id, media id)."""
    import base64

    from suraksha.content.models import Item, ItemMedia
    from suraksha.intake.schemas import ItemIn
    from suraksha.intake.services import submit_item
    from suraksha.review.cases import open_case
    from suraksha.review.models import CaseSource
    from suraksha.worker.policy import WorkerConfig
    from suraksha.worker.runner import run_worker

    data, content_type = media or (synthetic_jpeg(1), "image/jpeg")
    picture = base64.b64encode(data).decode()
    submission = ItemIn.model_validate(
        {
            "platform_item_id": f"item-{seed}",
            "kind": "post",
            "text": "a photo",
            "account": {"platform_id": f"acct-{seed}", "handle": f"@a{seed}"},
            "media": [{"data": picture, "content_type": content_type}],
        }
    )
    with platform.db.session() as session:
        item_id = submit_item(session, platform.media_store, submission, max_media_bytes=10**7).item_id
    index = platform.bank_index().load()
    config = WorkerConfig.from_settings(platform.settings)
    run_worker(
        platform.db,
        platform.job_handlers(index),
        config=config,
        until_drained=True,
        install_signal_handlers=False,
    )
    index.close()
    with platform.db.session() as session:
        item = session.get(Item, item_id)
        assert item is not None
        case = open_case(session, item, source=CaseSource.USER_REPORT, category=category)
        case.category = category
        media_id = session.scalars(select(ItemMedia.id).where(ItemMedia.item_id == item_id)).one()
        return case.id, media_id


def test_media_only_through_ones_own_recent_reveal(web: TestClient, console_platform: Platform) -> None:
    from suraksha.review.models import HumanView

    case_id, media_id = _case(console_platform, "sexual_violence", 1)
    csrf = signed_in(web, "reviewer@example.org")
    assert web.get(f"/console/media/{media_id}/content?view=1").status_code == 404  # no reveal yet
    assert web.post(f"/console/cases/{case_id}/claim", data={"csrf_token": csrf}).status_code == 200
    revealed = web.post(
        f"/console/media/{media_id}/reveal",
        data={"case_id": str(case_id)},
        headers={"X-CSRF-Token": csrf, "HX-Request": "true"},
    )
    assert revealed.status_code == 200
    found = re.search(r"view=(\d+)", revealed.text)
    assert found is not None
    content = web.get(f"/console/media/{media_id}/content?view={found.group(1)}")
    assert content.status_code == 200 and content.headers["content-type"] == "image/jpeg"
    assert content.headers["cache-control"].startswith("no-store") and content.content[:2] == b"\xff\xd8"
    assert len(audit_rows(console_platform, "media:reveal")) == 1

    other = TestClient(web.app)
    signed_in(other, "lead@example.org")
    assert other.get(f"/console/media/{media_id}/content?view={found.group(1)}").status_code == 404
    with console_platform.db.session() as session:
        session.execute(update(HumanView).values(viewed_at=utcnow() - timedelta(minutes=11)))
    assert web.get(f"/console/media/{media_id}/content?view={found.group(1)}").status_code == 403


def test_reviewer_denied_a_csam_case(web: TestClient, console_platform: Platform) -> None:
    case_id, media_id = _case(console_platform, "csam", 2)
    csrf = signed_in(web, "reviewer@example.org")
    assert f'id="case-{case_id}"' not in web.get("/console/queues").text
    page = web.get(f"/console/cases/{case_id}")
    assert page.status_code == 403 and "media:reveal_csam" in page.text
    refused = web.post(
        f"/console/media/{media_id}/reveal", data={"case_id": str(case_id)}, headers={"X-CSRF-Token": csrf}
    )
    assert refused.status_code == 403
    assert [r.subject for r in audit_rows(console_platform, "media:reveal_refused")] == [f"media:{media_id}"]
    assert not audit_rows(console_platform, "media:reveal")


def test_video_is_muted_with_a_frame_strip(
    web: TestClient, console_platform: Platform, tmp_path: Path
) -> None:
    from suraksha.signals.file_signals import hash_bytes
    from suraksha.signals.types import SignalKind
    from suraksha.testing.synthetic import write_synthetic_video

    video = write_synthetic_video(tmp_path / "clip.mp4", seed=7).read_bytes()
    signals = hash_bytes(video)
    with console_platform.db.session() as session:
        bank = banks.get_bank(session, "known")
        frames = "\n".join(f.to_line() for f in signals.vpdq)
        banks.add_entry(session, bank, SignalKind.VPDQ, frames)
    case_id, media_id = _case(console_platform, "sexual_violence", 3, (video, "video/mp4"))
    csrf = signed_in(web, "reviewer@example.org")
    web.post(f"/console/cases/{case_id}/claim", data={"csrf_token": csrf})
    revealed = web.post(
        f"/console/media/{media_id}/reveal", data={"case_id": str(case_id)}, headers={"X-CSRF-Token": csrf}
    )
    assert "<video" in revealed.text and " muted " in revealed.text
    found = re.search(r"strip\?view=(\d+)", revealed.text)
    assert found is not None
    strip = web.get(f"/console/media/{media_id}/strip?view={found.group(1)}")
    assert strip.status_code == 200 and strip.headers["content-type"] == "image/jpeg"
    assert strip.headers["cache-control"].startswith("no-store")


def test_lead_reassigns_a_case(web: TestClient, console_platform: Platform) -> None:
    from suraksha.access.models import ConsoleUser
    from suraksha.review.models import ReviewCase

    case_id, _media_id = _case(console_platform, "sexual_violence", 4)
    csrf = signed_in(web, "lead@example.org")
    with console_platform.db.reading() as session:
        reviewer = session.scalars(
            select(ConsoleUser).where(ConsoleUser.email == "reviewer@example.org")
        ).one()
    page = web.get(f"/console/cases/{case_id}")
    assert f'<option value="{reviewer.pseudonym}">' in page.text
    moved = web.post(
        f"/console/cases/{case_id}/reassign", data={"csrf_token": csrf, "to": reviewer.pseudonym}
    )
    assert moved.status_code == 200
    with console_platform.db.reading() as session:
        case = session.get(ReviewCase, case_id)
    assert case is not None and case.claimed_by_id == reviewer.id
    assert audit_rows(console_platform, "review:reassign")


def test_an_unexpected_error_is_a_page_without_details(
    web: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from suraksha.web.console import operations

    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("secret internals")

    monkeypatch.setattr(operations, "dashboard_figures", broken)
    signed_in_page = sign_in(web, "lead@example.org")
    assert signed_in_page.status_code == 303
    answer = web.get("/console/")
    assert answer.status_code == 500 and "Something went wrong" in answer.text
    assert (
        "secret internals" not in answer.text
        and "script-src 'self'" in answer.headers["content-security-policy"]
    )


def test_reports_pages_show_state_and_xml_to_leads_only(web: TestClient, console_platform: Platform) -> None:
    with console_platform.db.session() as session:
        account = Account(platform_account_id="reported-1", handle="seller")
        session.add(account)
        session.flush()
        report = CyberTiplineReport(
            account_id=account.id,
            state="finished",
            environment="test",
            report_xml="<report><incidentSummary>benign test document</incidentSummary></report>",
            ncmec_report_id=424242,
        )
        session.add(report)
        session.flush()
        report_id = report.id
    signed_in(web, "lead@example.org")
    listing = web.get("/console/reports")
    assert (
        listing.status_code == 200
        and "424242" in listing.text
        and f"/console/reports/{report_id}" in listing.text
    )
    page = web.get(f"/console/reports/{report_id}")
    assert page.status_code == 200 and "424242" in page.text
    assert "&lt;incidentSummary&gt;benign test document" in page.text  # the XML, escaped
    assert web.get("/console/reports/999999").status_code == 404
    assert web.get("/console/reports?state=failed").text.count("/console/reports/") == 0

    reviewer = TestClient(web.app)
    signed_in(reviewer, "reviewer@example.org")
    assert reviewer.get("/console/reports").status_code == 403
    assert reviewer.get(f"/console/reports/{report_id}").status_code == 403


def test_console_requests_are_counted_by_route_and_the_favicon_is_served(
    make_platform: Callable[..., Platform],
) -> None:
    """Every console request is named in ``/metrics`` by its route template (static files under
    ``/console/static/{path}``), never ``<unmatched>``; the favicon is one of our static files."""
    platform = make_platform(metrics_public=True, console_secure_cookies=False)
    with TestClient(create_app(platform, start_index=False)) as client:
        assert client.get("/console/sign-in").status_code == 200
        icon = client.get("/console/static/favicon.svg")
        assert icon.status_code == 200 and icon.headers["content-type"].startswith("image/svg+xml")
        assert client.get("/favicon.ico").status_code == 200  # redirected to the same file
        assert client.get("/console/static/console.css").status_code == 200
        assert 'rel="icon" href="/console/static/favicon.svg"' in client.get("/console/sign-in").text
        text = client.get("/metrics").text
    assert 'route="/console/static/{path}",status="200"} 3.0' in text
    assert 'route="/console/sign-in",status="200"' in text and 'route="/favicon.ico",status="308"' in text
    assert "<unmatched>" not in text


def test_dashboard_and_lists_refuse_a_bad_period_and_priority(web: TestClient) -> None:
    signed_in(web, "lead@example.org")
    for path in (
        "/console/?period=custom&from=2026-02-01&to=2026-01-01",
        "/console/decisions?period=custom&from=yesterday&to=2026-01-01",
        "/console/reports?state=finished&period=1y",
        "/console/queues?min_priority=high",
    ):
        answer = web.get(path)
        assert answer.status_code == 400, (path, answer.status_code)
        assert 'class="error"' in answer.text
    assert web.get("/console/queues?category=-&source=&min_priority=").status_code == 200
    assert web.get("/console/accounts/999999").status_code == 404
