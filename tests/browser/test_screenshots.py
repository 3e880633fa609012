"""Screenshots of the console's main pages for the README (docs/screenshots/), over benign demo data.

Opt-in: ``SURAKSHA_SCREENSHOTS=docs/screenshots .venv/bin/pytest tests/browser/test_screenshots.py``
(skipped otherwise, so the suite never rewrites files in the repository).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from suraksha.admin.models import KillSwitch
from suraksha.admin.services import set_switch
from suraksha.banks import services as banks
from suraksha.banks.models import BankCategory, BankKind
from suraksha.intake.services import submit_item
from suraksha.signals.file_signals import hash_bytes
from suraksha.signals.types import SignalKind
from suraksha.testing.demo_items import demo_items
from suraksha.testing.synthetic import encode, synthetic_image, synthetic_jpeg
from suraksha.worker.policy import WorkerConfig
from suraksha.worker.runner import run_worker
from tests.browser.conftest import Console, sign_in

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


def test_screenshots(page: Page, console: Console, tmp_path: Path) -> None:
    assert TARGET is not None
    out = Path(TARGET)
    out.mkdir(parents=True, exist_ok=True)
    seed_demo(console)
    page.goto(f"{console.url}/console/")
    page.screenshot(path=out / "sign-in.png")
    sign_in(page, console, console.user("lead-demo", ["lead", "admin"]))
    expect(page.locator("h1")).to_have_text("Dashboard")
    shots = {
        "dashboard.png": "/console/",
        "banks.png": "/console/banks",
        "bank.png": "/console/banks/demo-known-bad",
        "switches.png": "/console/switches",
        "audit.png": "/console/audit",
    }
    for name, path in shots.items():
        page.goto(f"{console.url}{path}")
        page.screenshot(path=out / name, full_page=True)
    # review: the queue, a case with its media revealed (greyscale), a decision waiting for approval
    first = console.case("sexual_violence", 601)
    console.case("csam", 602)
    page.goto(f"{console.url}/console/queues")
    page.screenshot(path=out / "queues.png", full_page=True)
    page.locator(f"#case-{first} button", has_text="Claim").click()
    page.locator(".reveal").first.click()
    expect(page.locator(".media-frame img")).to_be_visible()
    page.wait_for_function("() => document.querySelector('.media-frame img').naturalWidth > 0")
    page.screenshot(path=out / "case.png", full_page=True)
    page.locator("input[name=violation][value=sexual_violence]").check()
    page.locator("input[name=actions][value=remove]").check()
    page.locator("input[name=actions][value=suspend]").check()
    page.fill("textarea[name=note]", "demo: violent content")
    page.click("#decide-button")
    page.click("#sign-out")
    sign_in(page, console, console.user("second-lead", ["lead"]))
    page.goto(f"{console.url}/console/approvals")
    page.screenshot(path=out / "approvals.png", full_page=True)
    page.goto(f"{console.url}/console/")
    page.screenshot(path=out / "dashboard.png", full_page=True)
    page.goto(f"{console.url}/console/debugger")
    upload = tmp_path / "repost.jpg"
    upload.write_bytes(encode(synthetic_image(KNOWN[0]).resize((400, 300)), "JPEG", quality=70))
    page.set_input_files("input[name=file]", str(upload))
    page.click("#debugger-form button[type=submit]")
    expect(page.locator("#matches")).to_be_visible()
    page.screenshot(path=out / "debugger.png", full_page=True)
