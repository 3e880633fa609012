"""The browser tier: Playwright driving Debian's Chromium (``/usr/bin/chromium``, installed by
``scripts/install test``; browsers are never downloaded) against one real server per session.

Tests share the server and its database, so each uses its own users and data; each gets a fresh
browser context (no cookies carried between tests). Outside CI, the tier is skipped when Chromium or
Playwright is missing; under CI a missing browser is an error.
"""

from __future__ import annotations

import base64
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from argon2.profiles import CHEAPEST

from suraksha.access import users
from suraksha.app import Platform
from suraksha.banks import services as banks
from suraksha.banks.index import BankIndex
from suraksha.content.models import Item
from suraksha.intake.schemas import ItemIn
from suraksha.intake.services import submit_item
from suraksha.review.cases import open_case
from suraksha.review.models import CaseSource
from suraksha.settings import Settings
from suraksha.signals.file_signals import hash_bytes
from suraksha.signals.types import SignalKind
from suraksha.testing.synthetic import synthetic_jpeg
from suraksha.vault.crypto import KeyEncryptionKey, generate_signing_key_text
from suraksha.worker.policy import WorkerConfig
from suraksha.worker.runner import run_worker
from tests.browser.live import live_server

CHROMIUM = os.environ.get("SURAKSHA_CHROMIUM", "/usr/bin/chromium")
PASSWORD = "tidal-oak-lantern-91"

try:
    from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright
except ImportError:  # pragma: no cover - the test extra installs it
    sync_playwright = None


@dataclass
class Console:
    """The running console: its URL, its platform, and the users made for the tests."""

    url: str
    platform: Platform
    index: BankIndex
    emails: dict[str, str] = field(default_factory=dict)

    def user(self, name: str, roles: list[str]) -> str:
        """A user for one test (made once); returns the email."""
        if name not in self.emails:
            email = f"{name}@example.org"
            with self.platform.db.session() as session:
                users.create_user(session, email, roles, PASSWORD, by="test")
            self.emails[name] = email
        return self.emails[name]

    def case(
        self,
        category: str,
        seed: int,
        *,
        text: str = "a holiday photo",
        account: dict[str, str] | None = None,
    ) -> int:
        """A review case of ``category`` about a new item whose picture is in the ``demo-known`` bank
        (benign synthetic pictures; a clean item's media is not kept, a matched one's is), through intake
        and the pipeline; returns the case id. ``account``: the poster (platform_id, handle, bio),
        default one of its own."""
        platform = self.platform
        name = f"case-{category}-{seed}"
        picture = base64.b64encode(synthetic_jpeg(1 + seed % 2)).decode()
        submission = ItemIn.model_validate(
            {
                "platform_item_id": name,
                "kind": "post",
                "text": text,
                "account": account or {"platform_id": f"acct-{name}", "handle": f"@{name}"},
                "media": [{"data": picture, "content_type": "image/jpeg"}],
            }
        )
        with platform.db.session() as session:
            item_id = submit_item(
                session, platform.media_store, submission, max_media_bytes=10_000_000
            ).item_id
        # The session's index is not followed: past index_stale_after_s (30 s into a long run) the
        # pipeline would defer the item as unknown (never clean) and the drain below would wait forever.
        self.index.refresh()
        run_worker(
            platform.db,
            platform.job_handlers(self.index),
            config=WorkerConfig.from_settings(platform.settings),
            until_drained=True,
            install_signal_handlers=False,
        )
        with platform.db.session() as session:
            item = session.get(Item, item_id)
            assert item is not None
            case = open_case(session, item, source=CaseSource.USER_REPORT, category=category, priority=5)
            case.category = category  # the pipeline may have opened it already, with the bank's category
            return case.id


def _check_browser() -> None:
    missing = []
    if sync_playwright is None:
        missing.append("the playwright package")
    if not Path(CHROMIUM).exists() and shutil.which(CHROMIUM) is None:
        missing.append(f"Chromium at {CHROMIUM}")
    if missing:
        message = f"browser tests need {' and '.join(missing)}: `scripts/install test` installs them"
        if os.environ.get("CI") == "true":
            raise RuntimeError(message)
        pytest.skip(message)


@pytest.fixture(scope="session")
def console(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Console]:
    _check_browser()
    base = tmp_path_factory.mktemp("console")
    settings = Settings.load(
        {
            "database_url": f"sqlite:///{base / 'console.sqlite3'}",
            "data_dir": str(base / "data"),
            "index_dir": str(base / "index"),
            "console_secure_cookies": False,
            "review_exposure_budget": "budgettest=1",  # one reveal a day of this category, for the test
            "vault_kek": KeyEncryptionKey.generate().to_text(),  # media is sealed at rest under it
            "vault_signing_key": generate_signing_key_text(),  # the legal desk's disclosure packages
        },
        environ={},
    )
    previous = users.HASHER
    users.HASHER = PasswordHasher.from_parameters(CHEAPEST)  # real argon2id, cheapest parameters
    platform = Platform(settings)
    with platform.db.session() as session:
        bank = banks.create_bank(session, "demo-known", description="benign synthetic stand-ins")
        for seed in (1, 2):
            signals = hash_bytes(synthetic_jpeg(seed))
            assert signals.pdq is not None
            banks.add_entry(session, bank, SignalKind.PDQ, signals.pdq.hex, quality=signals.pdq.quality)
    try:
        index = platform.bank_index().load()
        with live_server(platform) as url:
            yield Console(url=url, platform=platform, index=index)
        index.close()
    finally:
        platform.close()
        users.HASHER = previous


@pytest.fixture(scope="session")
def browser(console: Console) -> Iterator[Browser]:
    assert sync_playwright is not None
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--disable-gpu"]
        )
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    context.set_default_timeout(10_000)
    try:
        yield context
    finally:
        context.close()


@pytest.fixture
def page(context: BrowserContext) -> Iterator[Page]:
    """A page that fails the test on any Content-Security-Policy violation or script error."""
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(f"script error: {error}"))

    def on_console(message: Any) -> None:
        if "Content Security Policy" in message.text or message.type == "error":
            problems.append(message.text)

    page.on("console", on_console)
    yield page
    # 4xx answers the test asked for show up as console errors ("Failed to load resource"): not ours
    ours = [p for p in problems if "Failed to load resource" not in p]
    assert not ours, ours


def sign_in(page: Page, console: Console, email: str, password: str = PASSWORD) -> None:
    page.goto(f"{console.url}/console/")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    page.click("#sign-in-form button[type=submit]")
