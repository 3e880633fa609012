"""Screenshots of the console's main pages for the README (docs/screenshots/), over benign demo data.

Opt-in: ``SURAKSHA_SCREENSHOTS=docs/screenshots .venv/bin/pytest tests/browser/test_screenshots.py``
(skipped otherwise, so the suite never rewrites files in the repository).
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from playwright.sync_api import Page, expect
from sqlalchemy import select

from suraksha.access.models import ConsoleUser
from suraksha.admin.models import KillSwitch
from suraksha.admin.services import set_switch
from suraksha.banks import services as banks
from suraksha.banks.models import BankCategory, BankKind
from suraksha.content.models import Account, Item, ItemMedia
from suraksha.db.base import utcnow
from suraksha.enforcement.models import ActionKind
from suraksha.intake.services import submit_item
from suraksha.legal.clocks import RequestKind
from suraksha.legal.models import Channel, ScopeKind
from suraksha.legal.services import NewRequest, ScopeEntry
from suraksha.reporting.models import CyberTiplineReport, CyberTiplineReportFile
from suraksha.review.models import HumanView, ReviewCase
from suraksha.signals.file_signals import hash_bytes
from suraksha.signals.types import SignalKind
from suraksha.testing.demo_items import RACKET, demo_items
from suraksha.testing.synthetic import encode, synthetic_image, synthetic_jpeg
from suraksha.vault.services import EvidenceActor
from suraksha.worker.policy import WorkerConfig
from suraksha.worker.runner import run_worker
from tests.browser.conftest import Console, sign_in
from tests.browser.network_seed import seed_racket
from tests.transparency_records import seed_history

TARGET = os.environ.get("SURAKSHA_SCREENSHOTS")
KNOWN = (101, 102, 103, 104, 105)
UNRELATED = (201, 202, 203)

pytestmark = pytest.mark.skipif(not TARGET, reason="screenshots are opt-in: set SURAKSHA_SCREENSHOTS=DIR")


def seed_demo(console: Console) -> None:
    """The demo's story in miniature: a 'known bad' bank of benign synthetic pictures, an allow list,
    posts from a racket and from ordinary accounts through the pipeline, a kill switch flipped."""
    platform = console.platform
    with platform.db.session() as session:
        bad = banks.create_bank(
            session, "demo-known-bad", category=BankCategory.CSAM, description="benign synthetic stand-ins"
        )
        allow = banks.create_bank(session, "demo-allow", kind=BankKind.ALLOW, category=BankCategory.CSAM)
        for seed in KNOWN:
            signals = hash_bytes(synthetic_jpeg(seed))
            assert signals.pdq is not None and signals.md5 is not None
            banks.add_entry(session, bad, SignalKind.PDQ, signals.pdq.hex, quality=signals.pdq.quality)
            banks.add_entry(session, bad, SignalKind.MD5, signals.md5)
        flat = hash_bytes(encode(synthetic_image(106), "JPEG"))
        assert flat.pdq is not None
        banks.add_entry(session, allow, SignalKind.PDQ, flat.pdq.hex, note="reviewed: benign")
        for submission in demo_items(KNOWN, UNRELATED):
            submit_item(
                session, platform.media_store, submission, max_media_bytes=platform.settings.media_max_bytes
            )
        set_switch(
            session, KillSwitch.PAUSE_DELIVERY, True, by="user:r-demo01", reason="platform maintenance"
        )
    index = platform.bank_index().load()
    run_worker(
        platform.db,
        platform.job_handlers(index),
        config=WorkerConfig.from_settings(platform.settings),
        until_drained=True,
        install_signal_handlers=False,
    )
    index.close()


def shoot(page: Page, path: Path, *, full_page: bool = True) -> None:
    """A screenshot kept small for the repository: PNG in a 256-colour palette (the console is flat
    colours and text; the one photo is greyscale)."""
    page.screenshot(path=path, full_page=full_page)
    with Image.open(path) as shot:
        small = shot.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT)
    small.save(path, optimize=True)


def seed_report(console: Console, case_id: int) -> int:
    """A draft CyberTiplineReport about the case's item, its file viewed by a reviewer (the report
    page's environment, account and views); returns its id."""
    with console.platform.db.session() as session:
        case = session.get(ReviewCase, case_id)
        assert case is not None
        item = session.get(Item, case.item_id)
        assert item is not None
        media = session.scalars(select(ItemMedia).where(ItemMedia.item_id == item.id)).first()
        assert media is not None and media.sha256 is not None
        report = CyberTiplineReport(account_id=item.account_id, state="draft")
        session.add(report)
        session.flush()
        view = session.scalars(select(HumanView).where(HumanView.media_id == media.id)).first()
        basis = [
            {
                "viewer": "r-demo01",
                "at": (view.viewed_at if view else utcnow()).isoformat(),
                "exif": False,
                "ref": f"human_view:{view.id if view else 0}",
            }
        ]
        session.add(
            CyberTiplineReportFile(
                report_id=report.id,
                item_id=item.id,
                media_id=media.id,
                sha256=media.sha256,
                viewed_by_esp=True,
                view_basis=json.dumps(basis),
                industry_classification="B2",
            )
        )
        return report.id


def test_screenshots(page: Page, console: Console, tmp_path: Path) -> None:
    """Every console page (README's gallery), after the demo's story: sign-in, dashboard, queues, a
    case with its media revealed, the account page, approvals, reports, banks, the match debugger,
    kill switches, the audit log, the lists the dashboard's tiles open, the user's own page and an
    error page."""
    assert TARGET is not None
    out = Path(TARGET)
    out.mkdir(parents=True, exist_ok=True)
    seed_demo(console)
    page.goto(f"{console.url}/console/")
    shoot(page, out / "sign-in.png", full_page=False)
    sign_in(page, console, console.user("lead-demo", ["lead", "admin"]))
    expect(page.locator("h1")).to_have_text("Dashboard")
    # review: the queue, a case with its media revealed (greyscale), a decision waiting for approval
    first = console.case(
        "sale_or_solicitation",
        601,
        text="Fresh set, DM for price. Pay via UPI demo.seller1@okaxis",
        account={"platform_id": "demo-r1", "handle": "@quickdeals_01", "bio": RACKET[0][2]},
    )
    console.case("csam", 602)
    page.goto(f"{console.url}/console/queues")
    shoot(page, out / "queues.png")
    page.locator(f"#case-{first} button", has_text="Claim").click()
    page.locator(".reveal").first.click()
    expect(page.locator(".media-frame img")).to_be_visible()
    page.wait_for_function("() => document.querySelector('.media-frame img').naturalWidth > 0")
    shoot(page, out / "case.png")
    page.locator("#account a").first.click()
    expect(page.locator("#account-handle")).to_have_text("@quickdeals_01")
    shoot(page, out / "account.png")
    page.go_back()
    page.locator("input[name=violation][value=sale_or_solicitation]").check()
    page.locator("input[name=actions][value=remove]").check()
    page.locator("input[name=actions][value=suspend]").check()
    page.fill("textarea[name=note]", "demo: selling, account suspended")
    page.click("#decide-button")
    report_id = seed_report(console, first)
    page.click("#sign-out")
    sign_in(page, console, console.user("second-lead", ["lead", "admin", "auditor"]))
    shots = {
        "approvals.png": "/console/approvals",
        "dashboard.png": "/console/",
        "reports.png": "/console/reports",
        "report.png": f"/console/reports/{report_id}",
        "banks.png": "/console/banks",
        "bank.png": "/console/banks/demo-known-bad",
        "switches.png": "/console/switches",
        "audit.png": "/console/audit",
        "items.png": "/console/items",
        "decisions.png": "/console/decisions?decided_by=policy",
        "user-account.png": "/console/account",
        "not-found.png": "/console/cases/999999",
    }
    for name, path in shots.items():
        page.goto(f"{console.url}{path}")
        shoot(page, out / name)
    page.goto(f"{console.url}/console/debugger")
    upload = tmp_path / "repost.jpg"
    upload.write_bytes(encode(synthetic_image(KNOWN[0]).resize((400, 300)), "JPEG", quality=70))
    page.set_input_files("input[name=file]", str(upload))
    page.click("#debugger-form button[type=submit]")
    expect(page.locator("#matches")).to_be_visible()
    shoot(page, out / "debugger.png")


def seed_legal_desk(console: Console) -> int:
    """The legal desk's part of the story on two accounts of its own: a police request for their
    details (preserved, a disclosure drafted), a blocking order for their posts (withheld in India) and
    a commission's notice past its deadline; returns the police request's id."""
    platform = console.platform
    with platform.db.session() as session:
        for n in (5, 6):
            account = Account(platform_account_id=f"demo-r{n}", handle=f"@quickdeals_0{n}")
            session.add(account)
            session.flush()
            session.add(
                Item(
                    platform_item_id=f"demo-r{n}-post1",
                    payload_digest=f"{n}" * 64,
                    kind="post",
                    account_id=account.id,
                )
            )
    desk = "user:l-demo01"
    police = platform.legal_add_authority(
        actor=desk,
        agency="DEMO Police, cyber cell",
        jurisdiction="IN-DL",
        officer="DEMO officer",
        rank="Deputy Commissioner of Police",
        verified_how="DEMO: called back on the published number",
    )
    ministry = platform.legal_add_authority(
        actor=desk, agency="DEMO Ministry (blocking committee)", jurisdiction="IN", rank="Joint Secretary"
    )
    commission = platform.legal_add_authority(
        actor=desk, agency="DEMO Commission for Women", jurisdiction="IN-DL"
    )
    now = utcnow()
    scope = [ScopeEntry(ScopeKind.ACCOUNT, "@quickdeals_05"), ScopeEntry(ScopeKind.ACCOUNT, "@quickdeals_06")]

    def receive(
        kind: RequestKind, authority: object, reference: str, basis: str, hours_ago: float, **more: Any
    ) -> int:
        new = NewRequest(
            kind=kind,
            jurisdiction="IN-DL",
            received_at=now - timedelta(hours=hours_ago),
            reference=reference,
            authority_id=int(str(authority)),
            legal_basis=basis,
            channel=Channel.PORTAL,
            **more,
        )
        request = int(str(platform.legal_receive(new, actor=desk)["id"]))
        platform.legal_verify(request, actor=desk, how="DEMO: verified")
        return request

    details = receive(
        RequestKind.DATA_DISCLOSURE,
        police["id"],
        "DEMO FIR 1/2022",
        "IT Rules r.3(1)(j); BNSS s.94",
        50,
        scope=[*scope, ScopeEntry(ScopeKind.ACCOUNT, "@no_such_seller")],
    )
    platform.legal_preserve(details, actor=desk)
    order = receive(
        RequestKind.BLOCKING_ORDER, ministry["id"], "DEMO direction 69A/1", "IT Act s.69A", 2, scope=scope
    )
    platform.legal_act(order, ActionKind.WITHHOLD, actor=desk, countries=["IN"])
    receive(
        RequestKind.COMMISSION_NOTICE,
        commission["id"],
        "DEMO summons 2022",
        "Delhi Commission for Women Act, 1994",
        24 * 5,
        scope=scope,
        stated_due_at=now - timedelta(days=1),
    )
    platform.legal_disclose(details, actor=EvidenceActor(desk, frozenset({"legal"})))
    return details


def test_legal_desk_screenshots(page: Page, console: Console) -> None:
    """The legal desk: the list with every clock (overdue first), and a police request's page with its
    scope, clocks, holds, the disclosure waiting for a second person, and the desk's forms."""
    assert TARGET is not None
    out = Path(TARGET)
    out.mkdir(parents=True, exist_ok=True)
    request = seed_legal_desk(console)
    sign_in(page, console, console.user("legal-demo", ["legal"]))
    expect(page.locator("h1")).to_have_text("Dashboard")
    page.goto(f"{console.url}/console/legal")
    shoot(page, out / "legal-desk.png")
    page.goto(f"{console.url}/console/legal/{request}")
    shoot(page, out / "legal-request.png")


def test_accountability_screenshots(page: Page, console: Console) -> None:
    """Statistics drawn for a made-up year, and the commission's five questions answered from it."""
    assert TARGET is not None
    out = Path(TARGET)
    out.mkdir(parents=True, exist_ok=True)
    sign_in(page, console, console.user("legal-stats", ["legal"]))
    expect(page.locator("h1")).to_have_text("Dashboard")
    # accountability: a made-up year (2025) of decisions, actions and reports, drawn and answered
    seed_history(console.platform.db, datetime(2025, 1, 1, tzinfo=UTC), 12, tag="demo-history")
    page.goto(f"{console.url}/console/stats?from=2025-01-01&to=2025-12-31&by=month")
    expect(page.locator("img.chart-image")).to_have_count(5)
    page.wait_for_function(
        "() => [...document.querySelectorAll('img.chart-image')].every(i => i.complete && i.naturalWidth > 0)"
    )
    shoot(page, out / "stats.png")
    named = "post-demo-history-1\npost-demo-history-3\nhttps://example.org/p/unknown-post"
    page.goto(f"{console.url}/console/answer")
    page.fill("#answer-form input[name=from]", "2025-01-01")
    page.fill("#answer-form input[name=to]", "2025-12-31")
    page.fill("#answer-form textarea[name=posts]", named)
    page.locator("#answer-form button").click()
    expect(page.locator(".named-post")).to_have_count(3)
    shoot(page, out / "answer.png")


def test_network_screenshots(page: Page, console: Console) -> None:
    """The suspected rackets and an investigation of one: its graph, the action waiting for a second
    lead, the shared identifiers and the timeline."""
    assert TARGET is not None
    out = Path(TARGET)
    out.mkdir(parents=True, exist_ok=True)
    lead = console.user("network-demo-lead", ["lead"])
    investigation = seed_racket(console, "shop", accounts=14, lead=lead)
    with console.platform.db.reading() as session:
        user_id = session.scalars(select(ConsoleUser.id).where(ConsoleUser.email == lead)).one()
    console.platform.investigation_note(
        investigation,
        "Every bio names the same Telegram channel; two UPI tills take the payments",
        user_id=user_id,
    )
    console.platform.investigation_preserve(investigation, user_id=user_id)
    console.platform.investigation_propose(
        investigation, "suspend", reason="selling abuse material through two tills", user_id=user_id
    )
    sign_in(page, console, lead)
    expect(page.locator("h1")).to_have_text("Dashboard")
    page.goto(f"{console.url}/console/network")
    shoot(page, out / "network.png")
    page.goto(f"{console.url}/console/investigations/{investigation}")
    expect(page.locator("#network-graph")).to_have_attribute("data-stable", "yes", timeout=20_000)
    page.wait_for_timeout(500)
    page.set_viewport_size({"width": 1280, "height": 1250})
    shoot(page, out / "investigation.png", full_page=False)  # the page's top: facts, graph, what waits
