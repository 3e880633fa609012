"""Reviewing in a real browser: claim, reveal (recorded as a human view with its audit row), decide,
the second approval (four eyes), the exposure budget reached, and a reviewer denied a csam item."""

from __future__ import annotations

from playwright.sync_api import Page, expect
from sqlalchemy import select

from suraksha.audit import AuditEvent
from suraksha.review.models import HumanView, ReviewCase, ReviewDecision
from tests.browser.conftest import Console, sign_in


def claim_and_reveal(page: Page, console: Console, case_id: int) -> None:
    page.goto(f"{console.url}/console/queues")
    page.locator(f"#case-{case_id} button", has_text="Claim").click()
    expect(page.locator("#claim-held")).to_be_visible()
    expect(page.locator(".media-frame img")).to_have_count(0)  # nothing shown before the reveal
    page.locator(".reveal").first.click()
    expect(page.locator(".media-frame img")).to_be_visible()
    page.wait_for_function("() => document.querySelector('.media-frame img').naturalWidth > 0")  # bytes came


def test_claim_reveal_decide_and_approve(page: Page, console: Console, browser: object) -> None:
    case_id = console.case("sexual_violence", 501)
    reviewer = console.user("farah", ["reviewer"])
    sign_in(page, console, reviewer)
    claim_and_reveal(page, console, case_id)
    with console.platform.db.reading() as session:
        views = session.scalars(select(HumanView).where(HumanView.case_id == case_id)).all()
        reveals = session.scalars(
            select(AuditEvent).where(
                AuditEvent.action == "media:reveal", AuditEvent.subject == f"media:{views[0].media_id}"
            )
        ).all()
    assert len(views) == 1 and len(reveals) == 1 and reveals[0].actor.startswith("user:r-")

    # the decision form by keyboard: 3 = sexual violence, r = remove, s = suspend, d = decide
    page.locator("body").click(position={"x": 5, "y": 5})
    for key in ("3", "r", "s"):
        page.keyboard.press(key)
    page.fill("textarea[name=note]", "violent content, account suspended")
    page.locator("body").click(position={"x": 5, "y": 5})
    page.keyboard.press("d")
    expect(page.locator("#history .approval-state")).to_have_text("pending")  # suspension waits
    page.click("#sign-out")

    context = page.context.browser.new_context()  # type: ignore[union-attr]
    lead_page = context.new_page()
    sign_in(lead_page, console, console.user("gita", ["lead"]))
    lead_page.goto(f"{console.url}/console/approvals")
    with console.platform.db.reading() as session:
        decided = session.scalars(select(ReviewDecision).where(ReviewDecision.case_id == case_id)).one()
    row = lead_page.locator(f"#approval-{decided.id}")
    expect(row).to_contain_text("remove suspend")
    row.locator("button", has_text="Approve").click()
    expect(lead_page.locator(f"#approval-{decided.id}")).to_have_count(0)
    context.close()
    with console.platform.db.reading() as session:
        approved = session.get(ReviewDecision, decided.id)
        case = session.get(ReviewCase, case_id)
    assert approved is not None and approved.approval_state == "approved" and approved.approver_ref
    assert case is not None and case.state == "decided"


def test_exposure_budget_reached(page: Page, console: Console) -> None:
    first, second = console.case("budgettest", 502), console.case("budgettest", 503)
    sign_in(page, console, console.user("hari", ["reviewer"]))
    claim_and_reveal(page, console, first)  # the one reveal today's budget allows
    page.goto(f"{console.url}/console/queues")
    expect(page.locator("#budget-spent")).to_contain_text("budgettest")
    expect(page.locator(f"#case-{second}")).to_have_count(0)  # no longer served
    page.goto(f"{console.url}/console/cases/{first}")
    page.locator(".reveal").first.click()
    expect(page.locator("#flash")).to_contain_text("exposure budget")
    expect(page.locator(".media-frame img")).to_have_count(0)


def test_reviewer_denied_a_csam_item(page: Page, console: Console) -> None:
    case_id = console.case("csam", 504)
    sign_in(page, console, console.user("ishaan", ["reviewer"]))
    page.goto(f"{console.url}/console/queues")
    expect(page.locator(f"#case-{case_id}")).to_have_count(0)
    page.goto(f"{console.url}/console/cases/{case_id}")
    expect(page.locator("h1")).to_have_text("Not allowed")
    expect(page.locator("#error-detail")).to_contain_text("media:reveal_csam")
    with console.platform.db.reading() as session:
        media_id = session.scalars(select(HumanView.media_id).where(HumanView.case_id == case_id)).first()
    assert media_id is None  # nothing was shown
