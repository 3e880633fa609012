"""The legal desk in a real browser: a legal user receives a blocking order from the console's form,
verifies it and withholds what it names (the password again); a data request's disclosure drafted by
one legal user is refused to them and approved by a second, then marked sent."""

from __future__ import annotations

from playwright.sync_api import Page, expect
from sqlalchemy import select

from suraksha.content.models import Account, Item
from suraksha.enforcement.models import Action
from tests.browser.conftest import PASSWORD, Console, sign_in


def seller(console: Console, handle: str, posts: int = 2) -> int:
    """A platform account with ``posts`` posts (benign text items); returns the account id."""
    with console.platform.db.session() as session:
        account = Account(platform_account_id=f"acct-{handle}", handle=f"@{handle}")
        session.add(account)
        session.flush()
        for n in range(posts):
            session.add(
                Item(
                    platform_item_id=f"{handle}-post-{n}",
                    payload_digest=f"{handle}-{n}".encode().hex().ljust(64, "0")[:64],
                    kind="post",
                    account_id=account.id,
                )
            )
        return account.id


def test_receive_verify_and_act_on_a_blocking_order(page: Page, console: Console) -> None:
    account = seller(console, "blocked_seller")
    sign_in(page, console, console.user("legal-one", ["legal"]))
    page.goto(f"{console.url}/console/legal")
    page.click("#legal-new")
    form = page.locator("#legal-receive")
    form.locator("select[name=kind]").select_option("blocking_order")
    form.locator("input[name=jurisdiction]").fill("IN")
    form.locator("input[name=reference]").fill("69A/2026/41")
    form.locator("input[name=legal_basis]").fill("IT Act s.69A")
    form.locator("input[name=confidential]").check()
    form.locator("textarea[name=accounts]").fill("@blocked_seller\n")
    form.locator("button[type=submit]").click()
    expect(page.locator("#legal-done")).to_contain_text("clocks are running")
    expect(page.locator("h1")).to_contain_text("blocking order")
    expect(page.locator("#legal-scope")).to_contain_text("@blocked_seller")

    page.locator("#legal-verify input[name=how]").fill("MeitY letter, called back on the published number")
    page.locator("#legal-verify button[type=submit]").click()
    expect(page.locator("#legal-done")).to_have_text("Verified.")

    act = page.locator("#legal-act")
    act.locator("select[name=action]").select_option("withhold")
    act.locator("input[name=countries]").fill("IN")
    act.locator("input[name=password]").fill("not my password")
    act.locator("button[type=submit]").click()
    expect(page.locator("#legal-error")).to_contain_text("not your password")
    with console.platform.db.reading() as session:
        acted = session.scalars(select(Action).join(Item).where(Item.account_id == account)).all()
    assert acted == []  # refused: nothing withheld

    act = page.locator("#legal-act")
    act.locator("input[name=countries]").fill("IN")
    act.locator("input[name=password]").fill(PASSWORD)
    act.locator("button[type=submit]").click()
    expect(page.locator("#legal-done")).to_contain_text("each naming the order")
    expect(page.locator("#legal-actions tbody tr")).to_have_count(2)
    expect(page.locator("#legal-actions")).to_contain_text("withhold")
    with console.platform.db.reading() as session:
        acted = session.scalars(select(Action).join(Item).where(Item.account_id == account)).all()
    assert {a.kind for a in acted} == {"withhold"} and len(acted) == 2


def test_a_second_legal_user_approves_the_disclosure(page: Page, console: Console) -> None:
    seller(console, "disclosed_seller", posts=1)
    first = console.user("legal-drafter", ["legal"])
    second = console.user("legal-approver", ["legal"])
    sign_in(page, console, first)
    page.goto(f"{console.url}/console/legal/new")
    form = page.locator("#legal-receive")
    form.locator("select[name=kind]").select_option("data_disclosure")
    form.locator("input[name=jurisdiction]").fill("IN-DL")
    form.locator("input[name=reference]").fill("FIR 77/2026")
    form.locator("textarea[name=accounts]").fill("@disclosed_seller")
    form.locator("button[type=submit]").click()
    expect(page.locator("#legal-done")).to_be_visible()
    request_url = page.url.split("?")[0]
    page.locator("#legal-verify input[name=how]").fill("IFSO portal")
    page.locator("#legal-verify button[type=submit]").click()
    page.locator("#legal-disclose button[type=submit]").click()
    expect(page.locator("#legal-done")).to_contain_text("a second person approves it")
    row = page.locator("#legal-disclosures tbody tr").first
    expect(row).to_contain_text("drafted")
    expect(row.locator("a", has_text=".pdf")).to_be_visible()

    row.locator(".approve-form input[name=password]").fill(PASSWORD)
    row.locator(".approve-form button[type=submit]").click()
    expect(page.locator("#legal-error")).to_contain_text("cannot approve it: a second person must")
    expect(page.locator("#legal-disclosures tbody tr").first).to_contain_text("drafted")

    page.click("#sign-out")
    sign_in(page, console, second)
    page.goto(request_url)
    row = page.locator("#legal-disclosures tbody tr").first
    row.locator(".approve-form input[name=password]").fill(PASSWORD)
    row.locator(".approve-form button[type=submit]").click()
    expect(page.locator("#legal-done")).to_have_text("Approved: it may be handed over.")
    row = page.locator("#legal-disclosures tbody tr").first
    expect(row).to_contain_text("approved")
    row.locator(".sent-form input[name=via]").fill("IFSO portal")
    row.locator(".sent-form button[type=submit]").click()
    expect(page.locator("#legal-done")).to_contain_text("the answer clock stopped")
    expect(page.locator("#legal-disclosures tbody tr").first).to_contain_text("sent via IFSO portal")
    with page.expect_download() as download:
        page.locator("#legal-disclosures a", has_text=".pdf").click()
    assert download.value.suggested_filename.endswith(".pdf")
    page.reload()
    expect(page.locator("#legal-audit")).to_contain_text("evidence: access")
