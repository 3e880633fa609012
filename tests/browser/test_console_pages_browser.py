"""What a person sees on the console's pages, in a real browser: the queue's filter and rows, the case
page's grouped rule hits and linked accounts, the Decide button's shortcut hint, the audit log's
details, a report's environment, account and views, the dashboard's period and tiles, the favicon,
and no stored snake_case names, internal ids or JSON where words belong."""

from __future__ import annotations

import io
import json
import re
from datetime import UTC, date, datetime

from PIL import Image
from playwright.sync_api import Page, Response, expect
from sqlalchemy import select

from suraksha import audit
from suraksha.content.models import Account, Item, ItemMedia, ItemRuleHit
from suraksha.enforcement.models import Action, Decision
from suraksha.flaggers.registry import NewFlagger
from suraksha.reporting.models import CyberTiplineReport, CyberTiplineReportFile
from suraksha.review.models import ReviewCase
from tests.browser.conftest import Console, sign_in

SNAKE = re.compile(r"\b[a-z]+_[a-z_]+\b")
WORDS = """els => els.map(e => { const c = e.cloneNode(true);
  c.querySelectorAll("code, kbd").forEach(x => x.remove()); return c.textContent; })"""
"""The words of elements, without the code they quote (a file format's column names)."""
RACKET_TEXT = "New set today, DM for price. Pay via UPI demo.seller1@okaxis"
RACKET_BIO = "Paid content. DM for price. UPI demo.seller1@okaxis"


def selected_label(page: Page, selector: str) -> str:
    return str(page.locator(selector).evaluate("s => s.options[s.selectedIndex].text"))


def test_queue_filters_uncategorised_and_rows_say_whose_and_when_due(page: Page, console: Console) -> None:
    plain = console.case("", 711)
    wordy = console.case("grooming_risk", 712, text="word " * 60)
    sign_in(page, console, console.user("queue-lead", ["lead"]))
    page.goto(f"{console.url}/console/queues")
    assert selected_label(page, "#queue-filters select[name=category]") == "all"  # nothing filtered

    page.locator("#queue-filters select[name=category]").select_option(label="uncategorised")
    page.locator("#queue-filters button").click()
    expect(page).to_have_url(re.compile(r"category=-"))
    assert selected_label(page, "#queue-filters select[name=category]") == "uncategorised"
    expect(page.locator(f"#case-{plain}")).to_be_visible()
    expect(page.locator(f"#case-{wordy}")).to_have_count(0)
    row = page.locator(f"#case-{plain}")
    expect(row.locator(".account a")).to_have_text("@case--711")
    expect(row.locator(".snippet")).to_have_text("a holiday photo")
    due = row.locator(".due").inner_text()
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC", due) and re.search(r"left|overdue by", due), due

    page.locator("#queue-filters select[name=category]").select_option(label="grooming risk")
    page.locator("#queue-filters button").click()
    row = page.locator(f"#case-{wordy}")
    snippet = row.locator(".snippet").inner_text()
    assert snippet.endswith("…") and len(snippet) <= 91
    expect(row).to_contain_text("grooming risk")
    expect(row).to_contain_text("automated match")  # the source, in words
    expect(page.locator(f"#case-{plain}")).to_have_count(0)
    row.locator(".account a").click()
    expect(page.locator("#account-handle")).to_have_text("@case-grooming_risk-712")
    expect(page.locator("#account-cases")).to_contain_text(f"#{wordy}")


def test_case_page_groups_rule_hits_and_links_linked_accounts(page: Page, console: Console) -> None:
    seller = {"platform_id": "racket-721", "handle": "@seller_721", "bio": RACKET_BIO}
    backup = {"platform_id": "racket-723", "handle": "@backup_723", "bio": RACKET_BIO}
    case_id = console.case("sale", 721, text=RACKET_TEXT, account=seller)
    console.case("sale", 723, text="UPI demo.seller1@okaxis", account=backup)  # same picture, same UPI
    with console.platform.db.reading() as session:
        case = session.get(ReviewCase, case_id)
        assert case is not None
        hits = session.scalars(select(ItemRuleHit).where(ItemRuleHit.item_id == case.item_id)).all()
        other = session.scalars(select(Account).where(Account.platform_account_id == "racket-723")).one()
    rules = {h.rule_id for h in hits}
    assert len(hits) > len(rules) >= 1, "the racket's post should hit a rule more than once"

    sign_in(page, console, console.user("case-lead", ["lead"]))
    page.goto(f"{console.url}/console/cases/{case_id}")
    rows = page.locator("#rules tbody tr")
    expect(rows).to_have_count(len(rules))  # one row per rule, not one per field and pack
    shown = [r.split(" ")[0] for r in rows.locator("td:first-child").all_inner_texts()]
    assert sorted(shown) == sorted(rules)

    linked = page.locator("#linked-accounts a", has_text="@backup_723")
    expect(linked).to_have_attribute("href", f"/console/accounts/{other.id}")
    expect(page.locator("#linked-accounts")).not_to_contain_text(f"account {other.id}")
    expect(page.locator("#linked-accounts")).to_contain_text("racket-723")
    linked.click()
    expect(page.locator("#account-handle")).to_have_text("@backup_723")
    expect(page.locator("#account")).to_contain_text("racket-723")
    expect(page.locator("#linked-accounts")).to_contain_text("@seller_721")


def test_decide_shortcut_hint_is_readable(page: Page, console: Console) -> None:
    case_id = console.case("sale", 731)
    sign_in(page, console, console.user("decide-reviewer", ["reviewer"]))
    page.goto(f"{console.url}/console/cases/{case_id}")
    page.locator("#claim-button").click()
    hint = page.locator("#decide-button kbd")
    expect(hint).to_have_text("d")
    colours = hint.evaluate("k => { const s = getComputedStyle(k); return [s.color, s.backgroundColor]; }")
    assert colours[0] != colours[1], colours
    # what the browser drew: the letter stands out from the box behind it
    shot = Image.open(io.BytesIO(hint.screenshot())).convert("L")
    darkest, lightest = shot.getextrema()
    assert lightest - darkest > 80, (darkest, lightest)


def test_audit_details_read_as_pairs_and_digests_stay_in_their_cell(page: Page, console: Console) -> None:
    digest = "ab12" * 16
    with console.platform.db.session() as session:
        row = audit.record(
            session,
            "cli:test",
            "bank:change",
            "bank:audit-browser",
            {"sha256": digest, "changes": {"pdq_threshold": 31}, "enabled": True},
        )
        row_id = row.id
    sign_in(page, console, console.user("audit-reader", ["auditor"]))
    page.goto(f"{console.url}/console/audit?action=bank:change")
    cell = page.locator(f"#audit-rows tr:has(td:first-child:text-is('{row_id}')) td.details")
    expect(cell).to_contain_text("changes › pdq threshold")
    expect(cell).to_contain_text("31")
    expect(cell).to_contain_text("enabled")
    assert not re.search(r"[{}']|=", cell.inner_text()), cell.inner_text()
    for td in page.locator("#audit-rows td").all():  # nothing spills into the next column
        assert td.evaluate("e => e.scrollWidth <= e.clientWidth + 1"), td.inner_text()
    assert digest not in cell.inner_text()  # shortened ...
    full = cell.locator("details.digest > code")
    expect(full).to_be_hidden()
    cell.locator("details.digest summary").click()
    expect(full).to_be_visible()  # ... the whole on demand
    expect(full).to_have_text(digest)
    assert cell.evaluate("e => e.scrollWidth <= e.clientWidth + 1")


def test_report_page_says_where_whose_and_why_viewed(page: Page, console: Console) -> None:
    case_id = console.case("csam", 741)
    with console.platform.db.session() as session:
        case = session.get(ReviewCase, case_id)
        assert case is not None
        item = session.get(Item, case.item_id)
        assert item is not None
        media = session.scalars(select(ItemMedia).where(ItemMedia.item_id == item.id)).one()
        report = CyberTiplineReport(account_id=item.account_id, state="draft")
        session.add(report)
        session.flush()
        basis = [{"viewer": "r-browser", "at": "2026-12-01T10:00:00+00:00", "exif": False, "ref": "view:9"}]
        session.add(
            CyberTiplineReportFile(
                report_id=report.id,
                item_id=item.id,
                media_id=media.id,
                sha256=media.sha256 or "0" * 64,
                viewed_by_esp=True,
                view_basis=json.dumps(basis),
            )
        )
        report_id = report.id
    sign_in(page, console, console.user("report-lead", ["lead"]))
    page.goto(f"{console.url}/console/reports/{report_id}")
    expect(page.locator("#report-environment")).to_contain_text("not sent yet")
    expect(page.locator("#report-environment .badge")).to_have_text("test")  # ncmec_environment
    account = page.locator("#report-account")
    expect(account.locator("a")).to_have_text("@case-csam-741")
    expect(account).to_contain_text("acct-case-csam-741")
    viewed = page.locator("#report-files .view-basis")
    expect(viewed).to_have_text("seen by r-browser at 2026-12-01 10:00:00 UTC (view:9)")
    page.goto(f"{console.url}/console/reports")
    expect(page.locator("#reports")).to_contain_text("@case-csam-741")


def test_dashboard_period_tiles_and_counts(page: Page, console: Console) -> None:
    """Removals and finished reports in a custom period long past (the shared database holds only
    this test's rows there): counted from the action and report records, each tile a link to them."""
    first = console.case("sale", 751)
    second = console.case("sale", 752)
    when = datetime(2020, 1, 11, 12, tzinfo=UTC)
    with console.platform.db.session() as session:
        for case_id in (first, second):
            case = session.get(ReviewCase, case_id)
            assert case is not None
            item = session.get(Item, case.item_id)
            assert item is not None
            for verdict in ("remove", "remove"):  # the same item removed twice counts once
                decision = Decision(
                    item_id=item.id,
                    verdict=verdict,
                    category="sale",
                    automated=False,
                    decided_by="reviewer",
                    decided_by_ref="r-dash",
                    created_at=when,
                )
                session.add(decision)
                session.flush()
                session.add(
                    Action(
                        decision_id=decision.id,
                        item_id=item.id,
                        account_id=item.account_id,
                        kind="remove",
                        target="item",
                        automated=False,
                        state="delivered",
                        created_at=when,
                    )
                )
        account_id = item.account_id
        session.add(
            CyberTiplineReport(
                account_id=account_id,
                state="finished",
                environment="test",
                ncmec_report_id=775511,
                finished_at=when,
            )
        )
        session.add(
            CyberTiplineReport(
                account_id=account_id,
                state="finished",
                environment="test",
                ncmec_report_id=775512,
                finished_at=datetime(2020, 2, 1, tzinfo=UTC),
            )
        )

    sign_in(page, console, console.user("dash-lead", ["lead"]))
    expect(page.locator("h1")).to_have_text("Dashboard")
    expect(page.locator("#period-heading")).to_have_text("In the last 24 hours")
    for heading in page.locator(".cards h2").all_inner_texts():
        assert not SNAKE.search(heading), heading
    expect(page.locator("#card-approvals")).to_have_attribute("href", "/console/approvals")
    expect(page.locator("#card-accountability")).to_contain_text("Accountability statistics")
    expect(page.locator("#card-accountability")).to_have_attribute("href", "/console/stats")

    page.locator("#period-picker select[name=period]").select_option("7d")
    page.locator("#period-picker button").click()
    expect(page.locator("#period-heading")).to_have_text("In the last 7 days")

    page.locator("#period-picker select[name=period]").select_option("custom")
    page.fill("#period-picker input[name=from]", "2020-01-10")
    page.fill("#period-picker input[name=to]", "2020-01-12")
    page.locator("#period-picker button").click()
    expect(page.locator("#period-heading")).to_have_text("In the 2020-01-10 to 2020-01-12 (UTC)")
    expect(page.locator("#card-removed .big")).to_have_text("2")
    expect(page.locator("#card-reports .big")).to_have_text("1")
    expect(page.locator("#card-human .big")).to_have_text("4")
    expect(page.locator("#card-automated .big")).to_have_text("0")

    page.locator("#card-removed").click()
    expect(page.locator("#decisions-total")).to_contain_text("2 items")
    expect(page.locator("#decisions tbody tr")).to_have_count(2)
    expect(page.locator("#decisions")).to_contain_text("@case-sale-751")
    page.go_back()
    page.locator("#card-reports").click()
    expect(page.locator("#finished-in")).to_contain_text("2020-01-10 to 2020-01-12")
    expect(page.locator("#reports")).to_contain_text("775511")
    expect(page.locator("#reports")).not_to_contain_text("775512")

    page.goto(f"{console.url}/console/?period=custom&from=2020-01-12&to=2020-01-10")
    expect(page.locator(".error")).to_contain_text("swap the dates")


def test_no_missing_files_and_no_stored_names_on_any_page(page: Page, console: Console) -> None:
    """Every console page loads everything it asks for (the favicon included), and shows words: no
    snake_case in headings, labels, badges or options, no raw JSON in details."""
    poster = {"platform_id": "acct-pages-761", "handle": "@pages761", "bio": RACKET_BIO}
    case_id = console.case("sale_or_solicitation", 761, text=RACKET_TEXT, account=poster)
    missing: list[str] = []

    def on_response(response: Response) -> None:
        if response.status >= 400:
            missing.append(f"{response.status} {response.url}")

    page.on("response", on_response)
    sign_in(page, console, console.user("pages-admin", ["admin", "lead"]))
    console.platform.flagger_add(
        NewFlagger(
            name="pages-ngo",
            organisation="Pages NGO",
            country="IN",
            designation="dsa_art22",
            designated_on=date(2025, 5, 1),
            designating_authority="A coordinator",
            expertise=("sale_or_solicitation",),
        ),
        actor="test",
    )
    with console.platform.db.reading() as session:
        case = session.get(ReviewCase, case_id)
        assert case is not None
        item = session.get(Item, case.item_id)
        assert item is not None
    pages = [
        "/console/",
        "/console/queues",
        f"/console/cases/{case_id}",
        f"/console/accounts/{item.account_id}",
        "/console/approvals",
        "/console/reports",
        "/console/banks",
        "/console/banks/demo-known",
        "/console/debugger",
        "/console/switches",
        "/console/audit",
        "/console/account",
        "/console/items",
        "/console/decisions",
        "/console/stats",
        f"/console/answer?from=2021-01-01&to=2030-12-31&posts=%23{item.id}",
        "/console/flaggers",
    ]
    for path in pages:
        page.goto(f"{console.url}{path}")
        icon = page.locator("link[rel=icon]").get_attribute("href")
        assert icon and page.request.get(f"{console.url}{icon}").ok
        for text in page.locator("h1, h2, h3, th, dt, label, option, .badge").evaluate_all(WORDS):
            assert not SNAKE.search(text), f"{path}: {text!r}"
        for text in page.locator("td.details, td.view-basis").all_inner_texts():
            assert not re.search(r"[{}\[\]]", text), f"{path}: {text!r}"
    assert page.request.get(f"{console.url}/favicon.ico").ok
    assert not missing, missing
