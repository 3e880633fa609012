"""The demo's racket in a real browser, as a lead meets it: ``suraksha demo`` (built as a user builds
it, in its own process) hides about a hundred racket accounts among thousands of ordinary ones; the
console's network page ranks it first, explains why, and from it a lead opens an investigation whose
page is ready to preserve, act and make the one police referral."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from suraksha.access import users
from suraksha.app import Platform
from suraksha.settings import Settings
from tests.browser.conftest import PASSWORD, Console
from tests.browser.live import live_server


@pytest.fixture
def demo(tmp_path: Path, console: Console) -> Iterator[tuple[str, str]]:
    """The demo built by the CLI, served; answers (base URL, a lead's email)."""
    del console  # the browser tier's own server: only its set-up (cheap password hashing) is shared
    base = tmp_path / "demo"
    env = {**os.environ, "SURAKSHA_DATA_DIR": str(tmp_path)}
    for name in [n for n in env if n.startswith("SURAKSHA_") and n != "SURAKSHA_DATA_DIR"]:
        del env[name]
    built = subprocess.run(
        [sys.executable, "-m", "suraksha", "demo", "--no-serve", "--dir", str(base)],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert built.returncode == 0, built.stderr[-3000:]
    keys = dict(
        line.split("=", 1) for line in (base / "demo-vault-keys.env").read_text().splitlines() if "=" in line
    )
    settings = Settings.load(
        {
            "database_url": f"sqlite:///{base / 'demo.sqlite3'}",
            "data_dir": str(base),
            "console_secure_cookies": False,
            "vault_kek": keys["SURAKSHA_VAULT_KEK"],
            "vault_signing_key": keys["SURAKSHA_VAULT_SIGNING_KEY"],
        },
        environ={},
    )
    platform = Platform(settings)
    try:
        with platform.db.session() as session:
            users.create_user(session, "demo-network-lead@example.org", ["lead"], PASSWORD, by="test")
        with live_server(platform) as url:
            yield url, "demo-network-lead@example.org"
    finally:
        platform.close()


def test_the_demo_racket_is_found_explained_and_ready_for_the_police(
    page: Page, demo: tuple[str, str]
) -> None:
    url, lead = demo
    page.goto(f"{url}/console/")
    page.fill("input[name=email]", lead)
    page.fill("input[name=password]", PASSWORD)
    page.click("#sign-in-form button[type=submit]")
    expect(page.locator("h1")).to_have_text("Dashboard")

    page.goto(f"{url}/console/network")
    rows = page.locator("#network-clusters tbody tr")
    first = rows.first
    expect(first).to_contain_text("suspected racket")
    accounts = int(first.locator("td").nth(1).inner_text())
    assert 90 <= accounts <= 120, f"the top cluster holds {accounts} accounts; the demo's racket has 100"
    why = first.locator("td").nth(3).inner_text()
    assert "payment handle" in why.lower() or "upi" in why.lower(), why
    # ordinary accounts are not ranked as rackets beside it: no other suspected cluster of that size
    others = [int(r.locator("td").nth(1).inner_text()) for r in rows.all()[1:]]
    assert all(n < 20 for n in others), others

    first.locator("a").first.click()
    expect(page.locator("h1")).to_contain_text("Suspected racket")
    expect(page.locator("#cluster-accounts tbody tr")).to_have_count(accounts)
    page.fill("#open-investigation input[name=title]", "Sellers on the demo's UPI tills")
    page.click("#open-investigation button[type=submit]")
    expect(page).to_have_url(re.compile(r"/console/investigations/\d+"))
    expect(page.locator("#network-graph")).to_have_attribute("data-rendered", "yes", timeout=30_000)
    expect(page.locator("#investigation-refer button")).to_have_text("Make the one police referral")
