# ruff: noqa: F811 - the console fixtures come from test_console_decisions, by name
"""Appeals and notices to users over HTTP: the platform lodges an appeal (auth, validation,
idempotency), reads it back and the notices feed; a reviewer decides it in the console (CSRF), the
reversal's restore and the outcome's notice reach the platform by signed webhook (a real local
receiver); schemathesis over these routes never gets a server error."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from sqlalchemy import select

from suraksha.app import Platform
from suraksha.appeals import rates
from suraksha.appeals.models import Appeal
from suraksha.db.base import utcnow
from suraksha.enforcement.models import UserNotice
from suraksha.outbound.signatures import verify_signature
from suraksha.outbound.webhooks import endpoint_secrets
from suraksha.testing.appeals import wrongly_removed_post
from tests.functional.web.conftest import Keys, web_state
from tests.functional.web.test_console import signed_in
from tests.functional.web.test_console_decisions import (  # noqa: F401 - fixtures
    SECRET,
    _cheap_hashing,
    hooked,
    receiver,
    web,
    work_off,
)
from tests.integration.review.conftest import ReviewWorld
from tests.unit.outbound.webhooks.conftest import Receiver


@pytest.fixture
def api(hooked: Platform, keys: Keys) -> Iterator[TestClient]:
    from suraksha.web.app import create_app

    with TestClient(create_app(hooked, start_index=False)) as client:
        yield client


def test_appeal_api_auth_validation_and_idempotency(hooked: Platform, api: TestClient, keys: Keys) -> None:
    post = wrongly_removed_post(hooked.db, hooked.rule_engine, platform_item_id="p-api", account="@asha")
    body = {"appeal_id": "ap-1", "decision_id": post.decision_id, "statement": "A school fundraiser."}
    assert api.post("/api/v1/appeals", json=body).status_code == 401
    assert api.post("/api/v1/appeals", json=body, headers=keys.header("read")).status_code == 403
    ingest = keys.header("ingest")
    for bad in (
        {**body, "statement": ""},
        {**body, "action_id": post.action_id},  # both named
        {"appeal_id": "ap-1", "statement": "x"},  # neither
        {**body, "jurisdiction": "not a code"},
        {**body, "extra": 1},
    ):
        answer = api.post("/api/v1/appeals", json=bad, headers=ingest)
        assert answer.status_code == 422, (bad, answer.text)
    assert (
        api.post("/api/v1/appeals", json={**body, "decision_id": 999999}, headers=ingest).status_code == 404
    )
    first = api.post("/api/v1/appeals", json=body, headers=ingest)
    assert first.status_code == 201, first.text
    shown = first.json()
    assert shown["state"] == "open" and shown["jurisdiction"] == "IN" and shown["clock"] == "running"
    assert first.headers["Location"] == f"/api/v1/appeals/{shown['id']}"
    again = api.post("/api/v1/appeals", json=body, headers=ingest)
    assert again.status_code == 200 and again.json()["id"] == shown["id"]
    changed = api.post("/api/v1/appeals", json={**body, "statement": "other words"}, headers=ingest)
    assert changed.status_code == 409
    second = api.post("/api/v1/appeals", json={**body, "appeal_id": "ap-2"}, headers=ingest)
    assert second.status_code == 409
    read = api.get(f"/api/v1/appeals/{shown['id']}", headers=ingest)
    assert read.status_code == 200 and read.json() == shown
    assert api.get("/api/v1/appeals/999999", headers=ingest).status_code == 404
    assert api.get("/api/v1/user-notices?after=0", headers=keys.header("read")).status_code == 403


def test_wrongly_removed_post_appealed_reversed_and_restored(
    hooked: Platform, web: TestClient, keys: Keys, receiver: Receiver
) -> None:
    post = wrongly_removed_post(hooked.db, hooked.rule_engine, platform_item_id="p-cake", account="@asha")
    work_off(hooked, receiver)  # the removal and its notice go out
    events = [json.loads(r.body)["event"] for r in receiver.received]
    assert sorted(events) == ["action.remove", "notice.user"]
    ingest = keys.header("ingest")
    feed = web.get("/api/v1/user-notices?after=0", headers=ingest).json()
    (notice,) = feed["notices"]
    statement = notice["statement"]
    assert statement["what"] == "Your post was removed." and statement["automated_decision"] is True
    assert statement["ground"]["kind"] == "terms" and statement["decision_id"] == post.decision_id
    lodged = web.post(
        "/api/v1/appeals",
        json={"appeal_id": "cake-1", "action_id": post.action_id, "statement": "It is a bake sale."},
        headers=ingest,
    ).json()
    csrf = signed_in(web, "reviewer@example.org")
    with hooked.db.reading() as session:
        case_id = session.get(Appeal, lodged["id"]).case_id  # type: ignore[union-attr]
    case_page = web.get(f"/console/cases/{case_id}")
    assert case_page.status_code == 200 and f'href="/console/appeals/{lodged["id"]}"' in case_page.text
    page = web.get(f"/console/appeals/{lodged['id']}")
    assert page.status_code == 200
    assert "It is a bake sale." in page.text and "pay-via-upi" in page.text and "strict-rules-1" in page.text
    assert web.post(f"/console/appeals/{lodged['id']}/claim", data={}).status_code == 403  # no CSRF token
    assert web.post(f"/console/appeals/{lodged['id']}/claim", data={"csrf_token": csrf}).status_code == 200
    decided = web.post(
        f"/console/appeals/{lodged['id']}/decide",
        data={
            "csrf_token": csrf,
            "outcome": "reversed",
            "note": "A bake sale for a school, not a sale of abuse.",
        },
    )
    assert decided.status_code == 200 and 'id="appeal-outcome">reversed by' in decided.text, decided.text[
        -3000:
    ]
    shown = web.get(f"/api/v1/appeals/{lodged['id']}", headers=ingest).json()
    assert shown["outcome"] == "reversed" and len(shown["restore_action_ids"]) == 1
    work_off(hooked, receiver)
    bodies = {json.loads(r.body)["event"]: json.loads(r.body) for r in receiver.received}
    assert bodies["action.restore"]["data"]["item_id"] == "p-cake"
    feed = web.get(f"/api/v1/user-notices?after={feed['next_after']}", headers=ingest).json()
    (outcome,) = feed["notices"]
    assert outcome["kind"] == "appeal_outcome" and outcome["statement"]["outcome"] == "reversed"
    assert outcome["id"] == shown["notice_id"]
    for r in receiver.received:
        verify_signature(endpoint_secrets([SECRET]), r.headers, r.body)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_appeal_routes_never_fail_with_a_server_error(
    cold_app: FastAPI, keys: Keys, platform: Platform
) -> None:
    wrongly_removed_post(platform.db, platform.rule_engine, platform_item_id="p-fuzz", account="@fuzz")
    web_state(cold_app).load_index()
    schema = schemathesis.openapi.from_asgi("/openapi.json", cold_app).include(
        path_regex="appeals|user-notices"
    )
    headers = keys.header("ingest")
    cases = st.one_of(
        schema.as_strategy(GenerationMode.POSITIVE, headers=headers),
        schema.as_strategy(GenerationMode.NEGATIVE, headers=headers),
    )
    seen: dict[int, int] = {}

    @settings(
        max_examples=120,
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
    assert any(400 <= status < 500 for status in seen), seen


def test_console_marks_rules_often_wrong_and_releases_withheld_notices(
    hooked: Platform, web: TestClient, keys: Keys, receiver: Receiver
) -> None:
    post = wrongly_removed_post(hooked.db, hooked.rule_engine, platform_item_id="p-rate", account="@rate")
    lodged = web.post(
        "/api/v1/appeals",
        json={"appeal_id": "rate-1", "decision_id": post.decision_id, "statement": "A bake sale."},
        headers=keys.header("ingest"),
    ).json()
    csrf = signed_in(web, "reviewer@example.org")
    web.post(f"/console/appeals/{lodged['id']}/claim", data={"csrf_token": csrf})
    web.post(
        f"/console/appeals/{lodged['id']}/decide",
        data={"csrf_token": csrf, "outcome": "reversed", "note": "ok"},
    )
    with hooked.db.session() as session:
        rates.flag_often_wrong(session, threshold=0.5, min_count=1, actor="user:lead", now=utcnow())
    page = web.get("/console/appeals").text
    assert "rule:default/pay-via-upi" in page and "often wrong" in page

    seeded = ReviewWorld(hooked.db).item(bank_category="csam")  # notices withheld: tip-off
    work_off(hooked, receiver)
    lead = TestClient(web.app)
    lead_csrf = signed_in(lead, "lead@example.org")
    listed = lead.get("/console/notices")
    assert listed.status_code == 200 and "tip off" in listed.text.replace("_", " ")
    assert web.get("/console/notices").status_code == 403  # a reviewer does not release notices
    with hooked.db.reading() as session:
        withheld = session.scalars(
            select(UserNotice.id).where(UserNotice.item_id == seeded.item_id).order_by(UserNotice.id)
        ).all()
    refused = lead.post(f"/console/notices/{withheld[0]}/release", data={"note": "over"})
    assert refused.status_code == 403  # no CSRF token
    released = lead.post(
        f"/console/notices/{withheld[0]}/release",
        data={"csrf_token": lead_csrf, "note": "the investigation is over"},
    )
    assert released.status_code == 200
    work_off(hooked, receiver)
    with hooked.db.reading() as session:
        states = [session.get(UserNotice, n).state for n in withheld]  # type: ignore[union-attr]
    assert states == ["delivered", "withheld"]
