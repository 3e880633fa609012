"""Clock warnings, on SQLite and PostgreSQL under a fake clock: each warning share and the overdue
state is sent once, a warning that could not be sent is tried again, and the HTTP port signs them."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from suraksha.db import Database
from suraksha.errors import ExternalServiceError
from suraksha.legal import services as legal
from suraksha.legal.clocks import JurisdictionRules, RequestKind, Step
from suraksha.legal.ports import ClockAlert, HttpAlerts
from suraksha.legal.services import NewRequest
from suraksha.legal.tasks import check_clocks
from suraksha.outbound.signatures import verify_signature
from suraksha.outbound.webhooks import WebhookEndpoint
from tests.unit.outbound.webhooks.conftest import Platform as Receiver
from tests.unit.outbound.webhooks.conftest import Receiver as ReceiverServer
from tests.unit.outbound.webhooks.conftest import ReceiverHandler

RECEIVED = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
RULES = JurisdictionRules.load()


class Recorder:
    def __init__(self, fail: bool = False) -> None:
        self.sent: list[ClockAlert] = []
        self.fail = fail

    def send(self, alert: ClockAlert) -> None:
        if self.fail:
            raise ExternalServiceError("paging is down")
        self.sent.append(alert)


def removal_notice(db: Database) -> int:
    with db.session() as session:
        new = NewRequest(
            kind=RequestKind.REMOVAL_NOTICE, jurisdiction="IN", received_at=RECEIVED, reference="N-1"
        )
        return legal.receive(session, RULES, new, actor="legal", now=RECEIVED).id


def check(db: Database, alerts: Recorder, hours: float) -> list[str]:
    with db.session() as session:
        return [a.level for a in check_clocks(session, RULES, alerts, now=RECEIVED + timedelta(hours=hours))]


def test_each_warning_is_sent_once_then_overdue(db: Database) -> None:
    removal_notice(db)  # 3 h to act, warnings at a third and two thirds of it
    alerts = Recorder()
    assert check(db, alerts, 0.5) == []
    assert check(db, alerts, 1.0) == ["warn:0.33"]
    assert check(db, alerts, 1.5) == []
    assert check(db, alerts, 2.5) == ["warn:0.66"]
    assert check(db, alerts, 3.5) == ["overdue"]
    assert check(db, alerts, 9) == []
    assert [a.step for a in alerts.sent] == ["act"] * 3 and alerts.sent[-1].remaining_s == -1800


def test_a_met_clock_warns_no_more(db: Database) -> None:
    request = removal_notice(db)
    with db.session() as session:
        legal.mark_done(session, request, Step.ACT, actor="legal", now=RECEIVED + timedelta(hours=2))
    assert check(db, Recorder(), 4) == []


def test_a_warning_that_could_not_be_sent_is_tried_again(db: Database) -> None:
    removal_notice(db)
    with pytest.raises(ExternalServiceError):
        check(db, Recorder(fail=True), 1.0)
    assert check(db, Recorder(), 1.0) == ["warn:0.33"]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = ReceiverServer(("127.0.0.1", 0), ReceiverHandler)
    server.received = []
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield Receiver(server.server_address[1], server)
    finally:
        server.shutdown()
        server.server_close()


def test_the_http_port_posts_signed_warnings(receiver: Receiver) -> None:
    platform = receiver
    secret = "s3cret-s3cret"
    alert = ClockAlert(
        1, "removal_notice", "IN", "N-1", "act", "warn:0.66", "2026-03-01T12:00:00+00:00", 1800, "r"
    )
    loopback = {platform.port}
    HttpAlerts(
        WebhookEndpoint(platform.url("/ok"), (secret,)), allow_loopback_ports_for_testing=loopback
    ).send(alert)
    got = platform.received[-1]
    verify_signature(secret, got.headers, got.body)  # raises unless signed as webhooks are
    body = json.loads(got.body)
    assert body["event"] == "legal.clock" and body["data"]["level"] == "warn:0.66"
    refusing = HttpAlerts(
        WebhookEndpoint(platform.url("/bad"), (secret,)), allow_loopback_ports_for_testing=loopback
    )
    with pytest.raises(ExternalServiceError, match="HTTP 400"):
        refusing.send(alert)
