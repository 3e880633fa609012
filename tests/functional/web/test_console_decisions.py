"""Reviewers' decisions through the console over HTTP, end to end: what a person decides reaches the
platform as signed webhooks (a real local receiver), exactly like what automated enforcement decides;
and the CSAM guard (un-blocking a CSAM hash needs a recorded reveal and a second person)."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator

import pytest
from argon2 import PasswordHasher
from argon2.profiles import CHEAPEST
from fastapi.testclient import TestClient
from sqlalchemy import select

from suraksha.access import users
from suraksha.app import Platform
from suraksha.enforcement.signatures import verify_signature
from suraksha.enforcement.webhooks import WebhookSender, endpoint_secrets
from suraksha.intake.models import Account
from suraksha.review.models import ApprovalState, ReviewDecision
from suraksha.web.app import create_app
from suraksha.web.state import WebState
from suraksha.worker.policy import WorkerConfig
from suraksha.worker.runner import run_worker
from tests.functional.web.test_console import PASSWORD, _case, signed_in
from tests.unit.enforcement.conftest import Receiver, ReceiverHandler

SECRET = "console-webhook-secret"
PEOPLE = {
    "reviewer@example.org": ["reviewer"],
    "cs@example.org": ["child_safety_reviewer"],
    "lead@example.org": ["lead"],
    "lead2@example.org": ["lead"],
}


@pytest.fixture(autouse=True)
def _cheap_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(users, "HASHER", PasswordHasher.from_parameters(CHEAPEST))


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver(("127.0.0.1", 0), ReceiverHandler)
    server.received = []
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def hooked(platform: Platform, make_platform: Callable[..., Platform], receiver: Receiver) -> Platform:
    """The web conftest's platform (bank ``known``) with a webhook endpoint at the local receiver and
    one console user per role."""
    port = receiver.server_address[1]
    console = make_platform(
        console_secure_cookies=False,
        webhook_url=f"http://127.0.0.1:{port}/ok",
        webhook_secrets=SECRET,
    )
    with console.db.session() as session:
        for email, roles in PEOPLE.items():
            users.create_user(session, email, roles, PASSWORD, by="test")
    return console


@pytest.fixture
def web(hooked: Platform) -> Iterator[TestClient]:
    app = create_app(hooked, start_index=False)
    state: WebState = app.state.suraksha
    state.load_index()
    with TestClient(app) as client:
        yield client


def work_off(platform: Platform, receiver: Receiver) -> None:
    """Run the worker until the queue is empty, sending webhooks to the local receiver."""
    index = platform.bank_index().load()
    sender = WebhookSender(allow_loopback_ports_for_testing={receiver.server_address[1]})
    run_worker(
        platform.db,
        platform.job_handlers(index, sender=sender),
        config=WorkerConfig.from_settings(platform.settings),
        until_drained=True,
        install_signal_handlers=False,
    )
    index.close()


def events(receiver: Receiver) -> list[dict[str, object]]:
    """The webhooks received, each checked against the signing secret."""
    found = []
    for got in receiver.received:
        verify_signature(endpoint_secrets([SECRET]), got.headers, got.body)
        found.append(json.loads(got.body))
    return found


def test_a_reviewers_removal_and_an_approved_suspension_reach_the_platform_as_webhooks(
    web: TestClient, hooked: Platform, receiver: Receiver
) -> None:
    case_id, _media_id = _case(hooked, "sexual_violence", 31)
    work_off(hooked, receiver)
    before = len(receiver.received)  # what automated enforcement sent for the banked picture
    csrf = signed_in(web, "reviewer@example.org")
    assert web.post(f"/console/cases/{case_id}/claim", data={"csrf_token": csrf}).status_code == 200
    decided = web.post(
        f"/console/cases/{case_id}/decide",
        data={"csrf_token": csrf, "violation": "sexual_violence", "actions": ["remove", "suspend"]},
        follow_redirects=False,
    )
    assert decided.status_code == 303, decided.text
    work_off(hooked, receiver)
    human = events(receiver)[before:]
    assert [e["event"] for e in human] == ["action.remove"]  # the suspension waits for four eyes
    data = human[0]["data"]
    assert isinstance(data, dict) and data["automated"] is False and data["item_id"] == "item-31"

    lead = TestClient(web.app)
    lead_csrf = signed_in(lead, "lead@example.org")
    with hooked.db.reading() as session:
        pending = session.scalars(
            select(ReviewDecision.id).where(ReviewDecision.approval_state == ApprovalState.PENDING)
        ).one()
    approved = lead.post(
        f"/console/approvals/{pending}",
        data={"csrf_token": lead_csrf, "verdict": "approve"},
        follow_redirects=False,
    )
    assert approved.status_code == 303
    work_off(hooked, receiver)
    human = events(receiver)[before:]
    assert [e["event"] for e in human] == ["action.remove", "action.suspend"]
    suspend = human[1]["data"]
    assert isinstance(suspend, dict) and suspend["account_id"] == "acct-31" and suspend["automated"] is False
    with hooked.db.reading() as session:
        account = session.scalars(select(Account).where(Account.platform_account_id == "acct-31")).one()
        assert account.suspended_at is not None
