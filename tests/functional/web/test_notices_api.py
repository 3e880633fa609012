"""Trusted flaggers' notices over HTTP: a flagger sends a notice (safe to retry) and reads it back;
only a flagger's own key may send, a flagger reads only its own notices, a flagger's key opens nothing
else, and bad input is a 4xx (a Schemathesis run with a flagger's key finds no 5xx)."""

from __future__ import annotations

import base64
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode

from suraksha.app import Platform
from suraksha.content.models import Account, Item, ItemKind, ItemState
from suraksha.flaggers.registry import NewFlagger
from tests.functional.web.conftest import Keys, web_state

NOTICE = {
    "reference": "NGO-2026-001",
    "category": "sale_or_solicitation",
    "explanation": "These posts advertise a paid group (benign test data).",
    "targets": [{"platform_id": "post-1"}, {"platform_id": "post-unknown"}],
}


def flagger_key(platform: Platform, name: str) -> dict[str, str]:
    shown = platform.flagger_add(
        NewFlagger(name=name, organisation=f"{name} trust", country="IN", designation="partner"),
        actor="cli:admin",
    )
    return {"Authorization": f"Bearer {shown['api_key']}"}


def seed_item(platform: Platform) -> None:
    with platform.db.session() as session:
        account = Account(platform_account_id="acct-1", handle="seller")
        session.add(account)
        session.flush()
        session.add(
            Item(
                platform_item_id="post-1",
                payload_digest="0" * 64,
                kind=ItemKind.POST,
                account_id=account.id,
                state=ItemState.SCANNED,
            )
        )


def test_send_retry_and_read_back(client: TestClient, platform: Platform) -> None:
    seed_item(platform)
    ngo = flagger_key(platform, "ngo")
    first = client.post("/api/v1/notices", json=NOTICE, headers=ngo)
    assert first.status_code == 201, first.text
    shown = first.json()
    assert first.headers["Location"] == f"/api/v1/notices/{shown['id']}"
    assert [t["state"] for t in shown["targets"]] == ["in_review", "fetching"]
    assert [c["step"] for c in shown["clocks"]] == ["acknowledge", "answer"]
    assert shown["clocks"][0]["state"] == "met"
    again = client.post("/api/v1/notices", json=NOTICE, headers=ngo)
    assert again.status_code == 200 and again.json()["id"] == shown["id"]
    changed = client.post("/api/v1/notices", json={**NOTICE, "category": "csam"}, headers=ngo)
    assert changed.status_code == 409
    read = client.get(f"/api/v1/notices/{shown['id']}", headers=ngo)
    assert read.status_code == 200 and read.json()["reference"] == "NGO-2026-001"


def test_only_a_flaggers_own_key(client: TestClient, platform: Platform, keys: Keys) -> None:
    ngo, other = flagger_key(platform, "ngo"), flagger_key(platform, "other")
    sent = client.post("/api/v1/notices", json=NOTICE, headers=ngo).json()
    assert client.get(f"/api/v1/notices/{sent['id']}", headers=other).status_code == 404
    for role in ("admin", "ingest", "read"):
        assert client.post("/api/v1/notices", json=NOTICE, headers=keys.header(role)).status_code == 403
        assert client.get(f"/api/v1/notices/{sent['id']}", headers=keys.header(role)).status_code == 403
    assert client.post("/api/v1/notices", json=NOTICE).status_code == 401
    assert client.post("/api/v1/notices", json=NOTICE, headers=keys.header("revoked")).status_code == 401
    # a flagger's key opens nothing but its notices
    assert client.get("/api/v1/items/1", headers=ngo).status_code == 403
    assert client.get("/api/v1/legal/due", headers=ngo).status_code == 403
    assert client.get("/c/banks", headers=ngo).status_code == 403


@pytest.mark.parametrize(
    "change",
    [
        {"targets": []},
        {"targets": [{"platform_id": "a", "url": "https://social.example/p/a"}]},
        {"targets": [{}]},
        {"targets": [{"upload": "not base64 !!"}]},
        {"targets": [{"url": "not a url"}]},
        {"category": "benign"},
        {"depicted_person_complaint": True},
        {"reference": "x" * 201},
        {"explanation": ""},
        {"unknown": 1},
    ],
)
def test_bad_notices_are_refused(client: TestClient, platform: Platform, change: dict[str, Any]) -> None:
    ngo = flagger_key(platform, "ngo")
    answer = client.post("/api/v1/notices", json={**NOTICE, **change}, headers=ngo)
    assert answer.status_code == 422, answer.text


def test_bad_ids_and_big_uploads(client: TestClient, platform: Platform) -> None:
    ngo = flagger_key(platform, "ngo")
    assert client.get("/api/v1/notices/0", headers=ngo).status_code == 422
    assert client.get(f"/api/v1/notices/{2**63}", headers=ngo).status_code == 422
    assert client.get("/api/v1/notices/12345", headers=ngo).status_code == 404
    upload = base64.b64encode(b"benign bytes").decode()
    small = {**NOTICE, "reference": "U-1", "targets": [{"upload": upload}]}
    answer = client.post("/api/v1/notices", json=small, headers=ngo)
    assert answer.status_code == 201 and answer.json()["targets"][0]["state"] == "not_found"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_no_server_errors_with_a_flagger_key(cold_app: FastAPI) -> None:
    platform = web_state(cold_app).platform
    headers = flagger_key(platform, "fuzz")
    web_state(cold_app).load_index()
    schema = schemathesis.openapi.from_asgi("/openapi.json", cold_app).include(path_regex="notices")
    cases = st.one_of(
        schema.as_strategy(GenerationMode.POSITIVE, headers=headers),
        schema.as_strategy(GenerationMode.NEGATIVE, headers=headers),
    )
    seen: dict[int, int] = {}

    @settings(
        max_examples=80,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=cases)
    def run(case: schemathesis.Case[Any]) -> None:
        response = case.call()
        seen[response.status_code] = seen.get(response.status_code, 0) + 1
        assert response.status_code < 500, (
            f"{case.method} {case.formatted_path} -> {response.status_code}: {response.content[:500]!r}"
        )

    run()
    assert any(status < 300 for status in seen), seen
