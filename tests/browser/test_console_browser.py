"""The console in a real browser: signing in, a wrong password, a forged form (CSRF) refused, a page the
user's roles do not open, and an htmx interaction carrying its CSRF header under the CSP."""

from __future__ import annotations

from playwright.sync_api import Page, expect
from sqlalchemy import select

from suraksha.admin.models import KillSwitch
from suraksha.admin.services import is_on
from suraksha.audit import AuditEvent
from tests.browser.conftest import Console, sign_in


def test_sign_in_and_out(page: Page, console: Console) -> None:
    email = console.user("asha", ["lead"])
    sign_in(page, console, email)
    expect(page.locator("h1")).to_have_text("Dashboard")
    expect(page.locator("header nav")).to_contain_text("Banks")
    page.click("#sign-out")
    expect(page.locator("h1")).to_have_text("Sign in")
    page.goto(f"{console.url}/console/banks")
    expect(page.locator("h1")).to_have_text("Sign in")  # the session ended on the server


def test_wrong_password(page: Page, console: Console) -> None:
    email = console.user("bilal", ["reviewer"])
    sign_in(page, console, email, "not-the-password-1")
    expect(page.locator("#sign-in-error")).to_have_text("wrong email or password")
    with console.platform.db.reading() as session:
        failed = session.scalars(
            select(AuditEvent.details).where(AuditEvent.action == "auth:sign_in_failed")
        ).all()
    assert any("wrong_password" in d for d in failed)


def test_forged_form_is_refused(page: Page, console: Console) -> None:
    email = console.user("chitra", ["lead"])
    sign_in(page, console, email)
    page.goto(f"{console.url}/console/switches")
    row = page.locator("#switch-pause_delivery")
    row.locator("input[name=reason]").fill("forged")
    # what a page on another site could send: the form without our token
    row.locator("input[name=csrf_token]").evaluate("input => { input.value = '0'.repeat(64) }")
    row.locator("button[type=submit]").click()
    expect(page.locator("h1")).to_contain_text("Refused")
    with console.platform.db.reading() as session:
        assert not is_on(session, KillSwitch.PAUSE_DELIVERY)


def test_permission_denied(page: Page, console: Console) -> None:
    email = console.user("dev", ["reviewer"])
    sign_in(page, console, email)
    expect(page.locator("header nav")).not_to_contain_text("Banks")
    page.goto(f"{console.url}/console/banks")
    expect(page.locator("h1")).to_have_text("Not allowed")
    expect(page.locator("#error-detail")).to_contain_text("bank:manage")


def test_htmx_audit_verify(page: Page, console: Console) -> None:
    email = console.user("esha", ["auditor"])
    sign_in(page, console, email)
    page.goto(f"{console.url}/console/audit")
    page.click("#verify-button")
    expect(page.locator("#verify-ok")).to_contain_text("The chain holds")
