"""An appeal decided in a real browser: the appeals list, the appeal's page (the decision appealed and
the user's statement), claim, and the reversal form; the restore goes out through enforcement."""

from __future__ import annotations

from playwright.sync_api import Page, expect
from sqlalchemy import select

from suraksha.appeals.services import NewAppeal
from suraksha.enforcement.models import Action
from suraksha.testing.appeals import wrongly_removed_post
from tests.browser.conftest import Console, sign_in


def test_a_reviewer_reverses_an_appeal(page: Page, console: Console, browser: object) -> None:
    platform = console.platform
    post = wrongly_removed_post(
        platform.db, platform.rule_engine, platform_item_id="b-cake", account="@b_cakes"
    )
    lodged, _ = platform.appeal_lodge(
        NewAppeal("b-appeal-1", "My bake sale for the library.", decision_id=post.decision_id), by="api:test"
    )
    sign_in(page, console, console.user("hema", ["reviewer"]))
    page.goto(f"{console.url}/console/appeals")
    page.locator(f"#appeal-{lodged['id']} a").click()
    expect(page.locator("#statement")).to_contain_text("My bake sale for the library.")
    expect(page.locator("#original-decision")).to_contain_text("pay-via-upi")
    page.locator("#claim-form button").click()
    page.locator("#decide-form input[value=reversed]").check()
    page.fill("#decide-form textarea[name=note]", "A school bake sale.")
    page.locator("#decide-form button[type=submit]").click()
    expect(page.locator("#appeal-outcome")).to_contain_text("reversed")
    with platform.db.reading() as session:
        restore = session.scalars(
            select(Action).where(Action.item_id == post.item_id, Action.kind == "restore")
        ).all()
    assert len(restore) == 1
