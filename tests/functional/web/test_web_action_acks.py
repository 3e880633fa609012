"""The platform acknowledges actions (done, or failed with a reason) on the feed's ack routes and in
its answer to a webhook; actions it has not confirmed in time are shown as overdue in the API, the
CLI and /metrics, and a failed one goes back before a person."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from suraksha.app import Platform
from suraksha.cli.main import app as cli
from suraksha.enforcement.models import Action
from suraksha.outbound.webhooks import WebhookSender
from suraksha.review.models import ReviewCase
from suraksha.testing.synthetic import synthetic_jpeg
from suraksha.web.app import create_app
from suraksha.worker.policy import WorkerConfig
from suraksha.worker.runner import run_worker
from tests.functional.web.conftest import Keys, web_state
from tests.functional.web.test_web_items import CSAM_SEED, body, csam_bank, drain
from tests.unit.outbound.webhooks.conftest import Receiver, ReceiverHandler

REASON = "the post is on a legal hold in our system"


def _actioned(client: TestClient, keys: Keys, platform: Platform, item: str = "p-1") -> list[dict[str, Any]]:
    """Submit a picture in a csam bank (automated remove and suspend), run the worker: the feed."""
    csam_bank(platform)
    ingest = keys.header("ingest")
    answer = client.post(
        "/api/v1/items", json=body(item, synthetic_jpeg(CSAM_SEED, 500, 375)), headers=ingest
    )
    assert answer.status_code == 202, answer.text
    drain(client, platform)
    actions: list[dict[str, Any]] = client.get("/api/v1/actions", headers=ingest).json()["actions"]
    assert [(a["kind"], a["state"]) for a in actions] == [("remove", "pending"), ("suspend", "pending")]
    return actions


def test_the_platform_acknowledges_actions_on_the_feed(
    client: TestClient, keys: Keys, platform: Platform
) -> None:
    remove, suspend = _actioned(client, keys, platform)
    assert not remove["overdue"] and not suspend["overdue"]  # a day by default
    ingest = keys.header("ingest")
    done = client.post(f"/api/v1/actions/{remove['action_id']}/ack", json={"outcome": "done"}, headers=ingest)
    assert done.status_code == 200, done.text
    assert done.json()["state"] == "done" and done.json()["acknowledged_at"]
    again = client.post(
        f"/api/v1/actions/{remove['action_id']}/ack", json={"outcome": "done"}, headers=ingest
    )
    assert again.status_code == 200 and again.json() == done.json()  # idempotent

    no_reason = client.post(
        f"/api/v1/actions/{suspend['action_id']}/ack", json={"outcome": "failed"}, headers=ingest
    )
    assert no_reason.status_code in (400, 422) and "reason" in no_reason.json()["detail"]
    unknown = client.post(
        "/api/v1/actions/ack",
        json={
            "acks": [
                {"action_id": suspend["action_id"], "outcome": "done"},
                {"action_id": 999999, "outcome": "done"},
            ]
        },
        headers=ingest,
    )
    assert unknown.status_code == 404  # all or none: the suspension is not acknowledged either
    assert client.get("/api/v1/actions", headers=ingest).json()["actions"][1]["state"] == "pending"
    assert (
        client.post(
            f"/api/v1/actions/{suspend['action_id']}/ack",
            json={"outcome": "done"},
            headers=keys.header("read"),
        ).status_code
        == 403
    )

    failed = client.post(
        "/api/v1/actions/ack",
        json={"acks": [{"action_id": suspend["action_id"], "outcome": "failed", "reason": REASON}]},
        headers=ingest,
    )
    assert failed.status_code == 200, failed.text
    assert failed.json()["actions"][0]["state"] == "failed"
    undone = client.post(
        f"/api/v1/actions/{remove['action_id']}/ack",
        json={"outcome": "failed", "reason": "x"},
        headers=ingest,
    )
    assert undone.status_code == 409 and "cannot fail afterwards" in undone.json()["detail"]

    item = client.get("/api/v1/items?ref=p-1", headers=ingest).json()  # the platform's own id
    states = {a["kind"]: (a["state"], a["state_reason"]) for a in item["actions"]}
    assert states["remove"] == ("done", "") and states["suspend"] == ("failed", REASON)
    with platform.db.reading() as session:  # a person sees the failure: the item's case says so
        case = session.scalars(select(ReviewCase).where(ReviewCase.item_id == item["id"])).one()
        assert case.open_item_id == item["id"] and REASON in case.escalation_note
    listed = [(a.kind, a.state, a.state_reason) for a in platform.unconfirmed_actions()]
    assert listed == [("suspend", "failed", REASON)]

    retried = client.post(
        f"/api/v1/actions/{suspend['action_id']}/ack", json={"outcome": "done"}, headers=ingest
    )
    assert retried.status_code == 200 and retried.json()["state"] == "done"  # a retry that worked


def test_actions_not_confirmed_in_time_are_overdue_everywhere(
    make_platform: Callable[..., Platform], platform: Platform, keys: Keys, database_url: str
) -> None:
    hurried = make_platform(action_ack_overdue_s=0.2)
    application = create_app(hurried, start_index=False)
    web_state(application).load_index()
    with TestClient(application) as client:
        remove, _suspend = _actioned(client, keys, hurried)
        time.sleep(0.3)
        ingest = keys.header("ingest")
        client.post(f"/api/v1/actions/{remove['action_id']}/ack", json={"outcome": "done"}, headers=ingest)
        feed = client.get("/api/v1/actions", headers=ingest).json()["actions"]
        assert [(a["kind"], a["overdue"]) for a in feed] == [("remove", False), ("suspend", True)]
        item = client.get(f"/api/v1/items/{_item_id(hurried)}", headers=ingest).json()
        overdue = {a["kind"]: a["overdue"] for a in item["actions"]}
        assert overdue == {"remove": False, "suspend": True, "preserve": False, "report": False}
        metrics = client.get("/metrics", headers=keys.header("read")).text
        assert "suraksha_actions_overdue 1.0" in metrics and "suraksha_actions_failed 0.0" in metrics
        assert "suraksha_bank_quarantines 0.0" in metrics

    env = {
        "SURAKSHA_DATABASE_URL": database_url,
        "SURAKSHA_DATA_DIR": str(hurried.settings.data_path),
        "SURAKSHA_ACTION_ACK_OVERDUE_S": "0.2",
        "COLUMNS": "200",
    }
    result = CliRunner().invoke(cli, ["actions", "unconfirmed", "--json"], env=env, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert [(r["kind"], r["state"], r["overdue"], r["item_id"]) for r in rows] == [
        ("suspend", "pending", True, "p-1")
    ]
    human = CliRunner().invoke(cli, ["actions", "unconfirmed"], env=env, catch_exceptions=False)
    assert "suspend" in human.output and "overdue" in human.output


def _item_id(platform: Platform) -> int:
    with platform.db.reading() as session:
        return int(session.scalars(select(Action.item_id)).first() or 0)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver(("127.0.0.1", 0), ReceiverHandler)
    server.received = []
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize(
    ("path", "state", "reason"),
    [("/done", "done", ""), ("/cannot", "failed", REASON), ("/ok", "delivered", "")],
)
def test_a_webhook_receiver_acknowledges_in_its_answer(
    make_platform: Callable[..., Platform],
    platform: Platform,
    keys: Keys,
    receiver: Receiver,
    path: str,
    state: str,
    reason: str,
) -> None:
    """A receiver that answers with the outcome acknowledges there and then; one that answers as
    older receivers do (``{}``) leaves the action delivered, to be acknowledged later."""
    port = receiver.server_address[1]
    hooked = make_platform(webhook_url=f"http://127.0.0.1:{port}{path}", webhook_secrets="s3cret")
    application = create_app(hooked, start_index=False)
    web_state(application).load_index()
    with TestClient(application) as client:
        csam_bank(hooked)
        ingest = keys.header("ingest")
        client.post("/api/v1/items", json=body("p-9", synthetic_jpeg(CSAM_SEED, 500, 375)), headers=ingest)
        index = web_state(application).index
        index.refresh()
        sender = WebhookSender(allow_loopback_ports_for_testing={port})
        run_worker(
            hooked.db,
            hooked.job_handlers(index, sender=sender),
            config=WorkerConfig(poll_interval_s=0.05),
            until_drained=True,
            install_signal_handlers=False,
        )
        assert len(receiver.received) == 2
        feed = client.get("/api/v1/actions", headers=ingest).json()["actions"]
        assert [(a["state"], a["state_reason"]) for a in feed] == [(state, reason)] * 2
    with hooked.db.reading() as session:  # a failure is put before a person, the others are not
        notes = " ".join(session.scalars(select(ReviewCase.escalation_note)))
        assert (REASON in notes) == (state == "failed")
