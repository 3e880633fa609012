"""Console sign-in against strangers, over HTTP on SQLite and PostgreSQL (issue 12): wrong passwords
never lock a reviewer out; an account under a distributed guessing run asks browsers from new addresses
for the second factor with the password; wrong codes are limited per account whatever the address;
TOTP secrets are made on the server, stored encrypted, and set up or removed only with the password."""

from __future__ import annotations

import base64
import os
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pyotp
import pytest
from argon2 import PasswordHasher
from argon2.profiles import CHEAPEST
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from suraksha.access import users
from suraksha.access.models import ConsoleUser
from suraksha.app import Platform
from suraksha.web.app import create_app

PASSWORD = "tidal-oak-lantern-91"
WRONG = "not-the-password-1"
EMAIL = "reviewer@example.org"
CSRF_RE = re.compile(r'name="csrf_token" value="([0-9a-f]{64})"')
KEY = base64.b64encode(os.urandom(32)).decode()


@pytest.fixture(autouse=True)
def _cheap_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(users, "HASHER", PasswordHasher.from_parameters(CHEAPEST))


@pytest.fixture
def make_console(make_platform: Callable[..., Platform]) -> Callable[..., Platform]:
    def make(**overrides: Any) -> Platform:
        settings: dict[str, Any] = {
            "console_secure_cookies": False,
            "console_sign_in_max_failures": 4,
            "console_sign_in_max_failures_per_address": 50,
            "console_sign_in_max_failures_per_account": 6,
            "console_totp_max_failures": 5,
            "console_totp_key": KEY,
            **overrides,
        }
        platform = make_platform(**settings)
        with platform.db.session() as session:
            users.create_user(session, EMAIL, ["reviewer"], PASSWORD, by="test")
        return platform

    return make


@pytest.fixture
def platform(make_console: Callable[..., Platform]) -> Platform:
    return make_console()


@pytest.fixture
def app(platform: Platform) -> FastAPI:
    return create_app(platform, start_index=False)


@pytest.fixture
def browser(app: FastAPI) -> Iterator[Callable[..., TestClient]]:
    """A new browser at a client address (``10.0.0.N``)."""
    made: list[TestClient] = []

    def make(address: str, cookies: Any = None) -> TestClient:
        client = TestClient(app, client=(address, 40000), cookies=cookies)
        client.__enter__()
        made.append(client)
        return client

    yield make
    for client in made:
        client.__exit__(None, None, None)


def csrf_of(html: str) -> str:
    found = CSRF_RE.search(html)
    assert found is not None, "no CSRF token on the page"
    return found.group(1)


def sign_in(client: TestClient, password: str = PASSWORD, code: str | None = None, email: str = EMAIL) -> Any:
    page = client.get("/console/sign-in")
    data = {"email": email, "password": password, "csrf_token": csrf_of(page.text), "next": "/console/"}
    if code is not None:
        data["code"] = code
    return client.post("/console/sign-in", data=data, follow_redirects=False)


def enrol(client: TestClient) -> str:
    """Set up TOTP through the account page (the client is signed in); returns the secret."""
    csrf = csrf_of(client.get("/console/account").text)
    start = client.post("/console/account/totp/start", data={"csrf_token": csrf, "password": PASSWORD})
    assert start.status_code == 200, start.text
    found = re.search(r'id="totp-secret">([A-Z2-7]+)<', start.text)
    assert found is not None
    code = pyotp.TOTP(found.group(1)).now()
    done = client.post("/console/account/totp", data={"csrf_token": csrf, "code": code})
    assert done.status_code == 200 and "On: sign-in asks for a code" in done.text
    return found.group(1)


def stored_secret(platform: Platform) -> str | None:
    with platform.db.reading() as session:
        return session.scalar(select(ConsoleUser.totp_secret).where(ConsoleUser.email == EMAIL))


def test_wrong_passwords_from_anywhere_never_lock_a_reviewer_out(
    browser: Callable[..., TestClient],
) -> None:
    for n in range(5):  # five wrong passwords from five addresses used to lock the account for 15 minutes
        assert sign_in(browser(f"10.0.1.{n}"), WRONG).status_code == 401
    assert sign_in(browser("10.0.0.1")).status_code == 303


def test_a_distributed_run_asks_new_addresses_for_the_second_factor(
    browser: Callable[..., TestClient], platform: Platform
) -> None:
    home = browser("10.0.0.1")
    assert sign_in(home).status_code == 303  # the reviewer's usual address: known from now on
    for n in range(8):  # over the per-account limit (6), each address under its own limits
        assert sign_in(browser(f"10.0.2.{n}"), WRONG).status_code == 401
    # the known address signs in as usual, with the password alone
    assert sign_in(browser("10.0.0.1")).status_code == 303
    # a new address: the password alone is not enough, and the answer says what to do
    stranger = sign_in(browser("10.0.3.1"))
    assert stranger.status_code == 401 and 'name="code"' in stranger.text
    assert "authenticator" in stranger.text


def test_under_attack_password_and_code_from_a_new_address_still_sign_in(
    browser: Callable[..., TestClient],
) -> None:
    home = browser("10.0.0.1")
    assert sign_in(home).status_code == 303
    secret = enrol(home)
    for n in range(8):
        assert sign_in(browser(f"10.0.2.{n}"), WRONG).status_code == 401
    laptop = browser("10.0.4.1")
    asked = sign_in(laptop)
    assert asked.status_code == 401 and 'name="code"' in asked.text
    wrong_password = sign_in(laptop, WRONG, pyotp.TOTP(secret).now())
    assert wrong_password.status_code == 401
    fresh = pyotp.TOTP(secret).at(datetime.now(UTC) + timedelta(seconds=30))  # enrolment used this step
    done = sign_in(laptop, PASSWORD, fresh)
    assert done.status_code == 303 and done.headers["location"] == "/console/"
    assert laptop.get("/console/").status_code == 200  # a full session: no second page


def test_wrong_codes_are_limited_per_account_whatever_the_address(
    browser: Callable[..., TestClient], platform: Platform
) -> None:
    home = browser("10.0.0.1")
    assert sign_in(home).status_code == 303
    secret = enrol(home)
    thief = browser("10.0.5.1")
    pending = sign_in(thief)  # someone who knows the password, not the code
    assert pending.headers["location"].startswith("/console/sign-in/code")
    csrf = csrf_of(thief.get("/console/sign-in/code").text)
    for n in range(5):
        elsewhere = browser(f"10.0.6.{n}", cookies=thief.cookies)
        answer = elsewhere.post("/console/sign-in/code", data={"csrf_token": csrf, "code": "000000"})
        assert answer.status_code == 401
    right = pyotp.TOTP(secret).now()
    last = browser("10.0.6.99", cookies=thief.cookies)
    refused = last.post("/console/sign-in/code", data={"csrf_token": csrf, "code": right})
    assert refused.status_code == 429 and "too many wrong codes" in refused.text


def test_totp_secret_is_made_on_the_server_stored_encrypted_and_needs_the_password(
    browser: Callable[..., TestClient], platform: Platform
) -> None:
    home = browser("10.0.0.1")
    assert sign_in(home).status_code == 303
    csrf = csrf_of(home.get("/console/account").text)
    wrong = home.post("/console/account/totp/start", data={"csrf_token": csrf, "password": WRONG})
    assert wrong.status_code == 401 and "password" in wrong.text
    chosen = pyotp.random_base32()
    forced = home.post(
        "/console/account/totp",
        data={"csrf_token": csrf, "secret": chosen, "code": pyotp.TOTP(chosen).now()},
    )
    assert forced.status_code == 400  # no set-up was started: a secret from the client is never taken
    assert stored_secret(platform) is None
    secret = enrol(home)
    stored = stored_secret(platform)
    assert stored is not None and stored.startswith("TS1:") and secret not in stored
    assert secret not in base64.b64encode(stored.encode()).decode()
    # turning it off needs the password as well as a current code
    csrf = csrf_of(home.get("/console/account").text)
    code = pyotp.TOTP(secret).now()
    no_password = home.post("/console/account/totp/off", data={"csrf_token": csrf, "code": code})
    assert no_password.status_code == 422
    bad = home.post("/console/account/totp/off", data={"csrf_token": csrf, "code": code, "password": WRONG})
    assert bad.status_code == 401 and stored_secret(platform) is not None


def test_no_key_no_second_factor(make_console: Callable[..., Platform]) -> None:
    platform = make_console(console_totp_key=None)
    with TestClient(create_app(platform, start_index=False)) as client:
        assert sign_in(client).status_code == 303
        csrf = csrf_of(client.get("/console/account").text)
        answer = client.post("/console/account/totp/start", data={"csrf_token": csrf, "password": PASSWORD})
    assert answer.status_code == 503 and "console_totp_key" in answer.text
    assert stored_secret(platform) is None


def test_a_plaintext_secret_from_before_is_sealed_at_its_next_use(
    browser: Callable[..., TestClient], platform: Platform
) -> None:
    secret = pyotp.random_base32()
    with platform.db.session() as session:
        session.execute(update(ConsoleUser).where(ConsoleUser.email == EMAIL).values(totp_secret=secret))
    client = browser("10.0.0.1")
    assert sign_in(client).headers["location"].startswith("/console/sign-in/code")
    csrf = csrf_of(client.get("/console/sign-in/code").text)
    done = client.post(
        "/console/sign-in/code",
        data={"csrf_token": csrf, "code": pyotp.TOTP(secret).now()},
        follow_redirects=False,
    )
    assert done.status_code == 303
    stored = stored_secret(platform)
    assert stored is not None and stored.startswith("TS1:") and secret not in stored
