"""API keys over HTTP: 401 without or with a bad key, 403 with the wrong role, admin implies all;
nothing changes on a refused request; the key never reaches the logs."""

from __future__ import annotations

import logging
import time
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from suraksha.access.models import ApiKey
from suraksha.access.services import TOUCH_INTERVAL, create_api_key, revoke_api_key, verify_api_key
from suraksha.admin.models import KillSwitch
from suraksha.admin.services import set_switch
from suraksha.app import Platform
from suraksha.db.base import utcnow
from suraksha.errors import Unauthenticated
from suraksha.web.app import create_app

from .conftest import Keys, bank_names

# (method, path, body, role needed)
ROUTES = [
    ("GET", "/c/banks", None, "read"),
    ("GET", "/m/index/status", None, "read"),
    ("GET", "/m/lookup?signal_type=md5&signal=" + "0" * 32, None, "read"),
    ("POST", "/m/compare", {"md5": ["0" * 32, "0" * 32]}, "read"),
    ("GET", "/metrics", None, "read"),
    ("POST", "/c/banks", {"name": "made-by-test"}, "admin"),
]
ALLOWED = {"admin": {"admin"}, "read": {"read", "admin"}, "ingest": {"ingest", "admin"}}


@pytest.mark.parametrize(("method", "path", "body", "needs"), ROUTES)
def test_role_matrix(
    client: TestClient, keys: Keys, platform: Platform, method: str, path: str, body: object, needs: str
) -> None:
    for role in ("ingest", "read", "admin"):  # admin last: its create must come after the refusals
        before = bank_names(platform)
        response = client.request(method, path, json=body, headers=keys.header(role))
        if role in ALLOWED[needs]:
            assert response.status_code in (200, 201), (role, response.text)
        else:
            assert response.status_code == 403, (role, response.text)
            problem = response.json()
            assert problem["status"] == 403 and f"needs {needs}" in problem["detail"]
            assert bank_names(platform) == before  # refused: nothing changed


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({}, "an API key is needed"),
        ({"Authorization": "Bearer "}, "an API key is needed"),
        ({"Authorization": "Basic dXNlcjpwYXNz"}, "an API key is needed"),
        ({"Authorization": "Bearer not-a-key"}, "malformed API key"),
        ({"X-Api-Key": "sk_00000000_" + "A" * 43}, "invalid API key"),
        ({"X-Api-Key": "sk_" + "x" * 300}, "malformed API key"),
    ],
)
def test_missing_and_bad_keys_are_401(
    client: TestClient, platform: Platform, headers: dict[str, str], expected: str
) -> None:
    response = client.post("/c/banks", json={"name": "nope"}, headers=headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert response.headers["content-type"] == "application/problem+json"
    assert expected in response.json()["detail"]
    assert "nope" not in bank_names(platform)


def test_wrong_secret_and_revoked_key_are_401(client: TestClient, keys: Keys) -> None:
    prefix = keys.admin.split("_")[1]
    wrong = f"sk_{prefix}_{'B' * 43}"
    assert client.get("/c/banks", headers={"X-Api-Key": wrong}).status_code == 401
    revoked = client.get("/c/banks", headers=keys.header("revoked"))
    assert revoked.status_code == 401 and "revoked" in revoked.json()["detail"]


def test_both_header_forms_work(client: TestClient, keys: Keys) -> None:
    assert client.get("/c/banks", headers={"X-Api-Key": keys.read}).status_code == 200
    assert client.get("/c/banks", headers={"Authorization": f"Bearer {keys.read}"}).status_code == 200


def test_keys_never_logged(client: TestClient, keys: Keys, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    client.get("/c/banks", headers=keys.header("read"))
    client.get("/c/banks", headers={"X-Api-Key": keys.admin[:-1] + "x"})
    text = caplog.text
    assert "event=http.request" in text and "key=read-key" in text
    for secret in (keys.read, keys.admin, keys.admin.split("_", 2)[2]):
        assert secret not in text


def test_last_used_is_written_at_most_once_a_minute(platform: Platform) -> None:
    with platform.db.session() as session:
        _, plaintext = create_api_key(session, "touchy", ["read"])
    now = utcnow()
    with platform.db.session() as session:
        assert verify_api_key(session, plaintext, now=now).last_used_at == now
    with platform.db.session() as session:
        key = verify_api_key(session, plaintext, now=now + timedelta(seconds=30))
        assert key.last_used_at == now
    later = now + TOUCH_INTERVAL
    with platform.db.session() as session:
        assert verify_api_key(session, plaintext, now=later).last_used_at == later
    with platform.db.session() as session:
        stored = session.query(ApiKey).filter_by(name="touchy").one()
        assert stored.secret_hash != plaintext and plaintext not in stored.secret_hash
        with pytest.raises(Unauthenticated):
            verify_api_key(session, plaintext.upper())


def test_checks_are_reused_for_web_auth_cache_s_only(make_platform: Any, keys: Keys) -> None:
    """With ``web_auth_cache_s`` set, a revoked key keeps working until the reuse runs out, and not a
    moment longer; a failed check is never reused; the read_only switch follows the same clock."""
    platform = make_platform(web_auth_cache_s=0.5)
    with platform.db.session() as session:
        _, plaintext = create_api_key(session, "short-lived", ["admin"])
    headers = {"Authorization": f"Bearer {plaintext}"}
    with TestClient(create_app(platform, start_index=False)) as client:
        assert client.get("/c/banks", headers=headers).status_code == 200
        assert client.get("/c/banks", headers=keys.header("revoked")).status_code == 401
        with platform.db.session() as session:
            revoke_api_key(session, "short-lived")
            set_switch(session, KillSwitch.READ_ONLY, True, by="test")
        assert client.get("/c/banks", headers=headers).status_code == 200  # reused
        time.sleep(0.6)
        refused = client.get("/c/banks", headers=headers)
        assert refused.status_code == 401 and "revoked" in refused.json()["detail"]
        answer = client.post("/c/banks", json={"name": "late"}, headers=keys.header("admin"))
        assert answer.status_code == 503 and "read-only" in answer.json()["detail"]
