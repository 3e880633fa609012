"""Notices to users (statements of reasons): one for each restriction, withheld with its reason under a
gag, an investigation or a tip-off risk and released when that ends, delivered signed over real HTTP
and through the pull feed."""

from __future__ import annotations

import http.server
import json
import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from suraksha.admin.models import KillSwitch
from suraksha.admin.services import set_switch
from suraksha.audit import AuditEvent
from suraksha.content.models import Item
from suraksha.db import Database
from suraksha.enforcement import services as enforcement
from suraksha.enforcement import user_notices
from suraksha.enforcement.models import ActionKind, Decision, NoticeState, UserNotice, WithheldReason
from suraksha.enforcement.user_notices import NoticeOptions
from suraksha.legal import services as legal
from suraksha.legal.models import LegalRequest, LegalRequestScope, RequestState
from suraksha.legal.notice_bars import notice_bar
from suraksha.outbound.signatures import verify_signature
from suraksha.outbound.webhooks import WebhookEndpoint, WebhookSender, endpoint_secrets
from suraksha.worker.handlers import HandlerRegistry
from suraksha.worker.models import Job
from suraksha.worker.policy import RetryPolicy, WorkerConfig
from suraksha.worker.runner import run_worker

from .conftest import ReviewWorld

CONFIG = WorkerConfig(poll_interval_s=0.05, retry=RetryPolicy(backoff_base_s=0.05, backoff_max_s=0.1))


def send(db: Database, options: NoticeOptions, sender: WebhookSender | None = None) -> None:
    registry = HandlerRegistry()
    user_notices.register(registry, db, options, sender or WebhookSender())
    run_worker(
        db,
        registry,
        kinds={user_notices.SEND},
        config=CONFIG,
        until_drained=True,
        install_signal_handlers=False,
    )


def notices(db: Database, item_id: int) -> list[UserNotice]:
    with db.reading() as s:
        return list(
            s.scalars(select(UserNotice).where(UserNotice.item_id == item_id).order_by(UserNotice.id))
        )


def act(db: Database, decision_id: int, *kinds: ActionKind) -> None:
    with db.session() as s:
        decision = s.get(Decision, decision_id)
        assert decision is not None
        item = s.get(Item, decision.item_id)
        assert item is not None
        for kind in kinds:
            countries = ("IN", "DE") if kind == ActionKind.WITHHOLD else ()
            enforcement.add_action(s, decision, item, kind, automated=False, countries=countries)


def test_a_notice_for_each_restriction(world: ReviewWorld) -> None:
    seeded = world.item(rule_category="payment_request")
    act(
        world.db,
        seeded.decision_id,
        ActionKind.REMOVE,
        ActionKind.RESTRICT,
        ActionKind.WITHHOLD,
        ActionKind.SUSPEND,
    )
    act(world.db, seeded.decision_id, ActionKind.REMOVE)  # again: no second notice
    send(world.db, NoticeOptions(bars=notice_bar))
    rows = notices(world.db, seeded.item_id)
    assert len(rows) == 4
    assert {r.state for r in rows} == {NoticeState.READY}
    by_kind = {json.loads(r.body)["action"]["kind"]: json.loads(r.body) for r in rows}
    assert by_kind["remove"]["what"] == "Your post was removed."
    assert by_kind["withhold"]["what"] == "Your post is withheld in IN, DE."
    assert by_kind["suspend"]["what"] == "Your account was suspended."
    assert by_kind["suspend"]["action"]["target"] == "account"
    statement = by_kind["restrict"]
    assert statement["ground"]["kind"] == "terms"
    assert statement["why"] == "Its text matched a rule against payment request."
    assert statement["automated_detection"] is True and statement["automated_decision"] is False
    assert statement["appeal"]["allowed"] is True and statement["appeal"]["by"]
    assert statement["item_id"].startswith("item-") and statement["account_id"].startswith("acct-")
    with world.db.reading() as s:
        feed = user_notices.notice_feed(s, after=0)
        assert [n.id for _, n in feed][-4:] == [r.id for r in rows]
        cursor = feed[-1][0]
        assert user_notices.notice_feed(s, after=cursor) == []


def _request(db: Database, item_id: int, **fields: object) -> int:
    with db.session() as s:
        item = s.get(Item, item_id)
        assert item is not None
        values: dict[str, object] = {
            "kind": "data_disclosure",
            "jurisdiction": "IN",
            "channel": "email",
            "received_at": datetime.now(UTC),
            "created_by": "user:legal-1",
            "state": RequestState.VERIFIED,
            **fields,
        }
        request = LegalRequest(**values)
        request.scope.append(LegalRequestScope(kind="account", value="@x", account_id=item.account_id))
        s.add(request)
        s.flush()
        return request.id


class FakeClock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


def test_a_gag_withholds_the_notice_until_it_ends(world: ReviewWorld) -> None:
    clock = FakeClock()
    seeded = world.item(rule_category="payment_request")
    gag = _request(
        world.db, seeded.item_id, confidential=True, confidential_until=clock.now + timedelta(days=30)
    )
    options = NoticeOptions(bars=notice_bar, clock=clock)
    act(world.db, seeded.decision_id, ActionKind.REMOVE)
    send(world.db, options)
    (row,) = notices(world.db, seeded.item_id)
    assert row.state == NoticeState.WITHHELD
    assert (row.withheld_reason, row.withheld_ref) == (WithheldReason.CONFIDENTIALITY, f"legal_request:{gag}")
    assert json.loads(row.body)["what"] == "Your post was removed."  # the statement is kept, not sent
    with world.db.reading() as s:
        assert all(n.id != row.id for _, n in user_notices.notice_feed(s))
    with world.db.session() as s:  # still gagged: nothing released
        assert user_notices.release_lifted(s, options, clock.now + timedelta(days=29)) == []
    clock.now += timedelta(days=31)
    with world.db.session() as s:
        assert user_notices.release_lifted(s, options, clock()) == [row.id]
    send(world.db, options)
    (row,) = notices(world.db, seeded.item_id)
    assert row.state == NoticeState.READY and row.released_by == "system:notices"
    assert row.withheld_reason == WithheldReason.CONFIDENTIALITY  # the record of why it waited stays


def test_a_withdrawn_order_gags_no_more(world: ReviewWorld) -> None:
    seeded = world.item(rule_category="payment_request")
    order = _request(world.db, seeded.item_id, kind="blocking_order", confidential=True)  # no end date
    options = NoticeOptions(bars=notice_bar)
    act(world.db, seeded.decision_id, ActionKind.WITHHOLD)
    send(world.db, options)
    assert notices(world.db, seeded.item_id)[0].state == NoticeState.WITHHELD
    with world.db.session() as s:
        assert user_notices.release_lifted(s, options, datetime.now(UTC)) == []
        legal.withdraw(s, order, actor="user:legal-1", now=datetime.now(UTC), note="the ministry revoked it")
    with world.db.session() as s:
        assert len(user_notices.release_lifted(s, options, datetime.now(UTC))) == 1
    send(world.db, options)
    assert notices(world.db, seeded.item_id)[0].state == NoticeState.READY


def test_an_open_preservation_withholds_until_it_closes(world: ReviewWorld) -> None:
    seeded = world.item(rule_category="payment_request")
    preservation = _request(world.db, seeded.item_id, kind="preservation")
    options = NoticeOptions(bars=notice_bar)
    act(world.db, seeded.decision_id, ActionKind.SUSPEND)
    send(world.db, options)
    (row,) = notices(world.db, seeded.item_id)
    assert (row.state, row.withheld_reason) == (NoticeState.WITHHELD, WithheldReason.PRESERVATION)
    with world.db.session() as s:
        request = s.get(LegalRequest, preservation)
        assert request is not None
        request.state = RequestState.CLOSED
    with world.db.session() as s:
        assert user_notices.release_lifted(s, options, datetime.now(UTC)) == [row.id]
    send(world.db, options)
    assert notices(world.db, seeded.item_id)[0].state == NoticeState.READY


def test_csam_notices_wait_for_a_person(world: ReviewWorld) -> None:
    seeded = world.item(bank_category="csam")  # automated: remove, suspend, preserve, report
    options = NoticeOptions(bars=notice_bar)
    send(world.db, options)
    rows = notices(world.db, seeded.item_id)
    assert [json.loads(r.body)["action"]["kind"] for r in rows] == ["remove", "suspend"]
    assert {(r.state, r.withheld_reason, r.withheld_ref) for r in rows} == {
        (NoticeState.WITHHELD, WithheldReason.TIP_OFF, "category:csam")
    }
    assert json.loads(rows[0].body)["ground"]["kind"] == "law"
    assert json.loads(rows[0].body)["automated_decision"] is True
    with world.db.session() as s, pytest.raises(Exception, match="needs a note"):
        user_notices.release(s, rows[0].id, actor="user:lead", note=" ")
    with world.db.session() as s:
        user_notices.release(s, rows[0].id, actor="user:lead", note="the investigation is over")
    send(world.db, options)
    rows = notices(world.db, seeded.item_id)
    assert [r.state for r in rows] == [NoticeState.READY, NoticeState.WITHHELD]
    with world.db.reading() as s:
        audited = s.scalars(select(AuditEvent).where(AuditEvent.subject == f"user_notice:{rows[0].id}")).all()
        assert [e.action for e in audited] == ["notice:withhold", "notice:release"]


class Receiver:
    """The platform's webhook endpoint on loopback: records what arrives; 500 to the first N."""

    def __init__(self, failures: int = 0) -> None:
        self.received: list[tuple[dict[str, str], bytes]] = []
        self.failures = failures
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if receiver.failures > 0:
                    receiver.failures -= 1
                    self.send_response(500)
                else:
                    receiver.received.append((dict(self.headers.items()), body))
                    self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()


def test_notices_are_delivered_signed_by_webhook(world: ReviewWorld) -> None:
    receiver = Receiver(failures=1)
    try:
        secrets = endpoint_secrets(["s3cret-for-tests"])
        endpoint = WebhookEndpoint(f"http://127.0.0.1:{receiver.port}/hook", secrets)
        options = NoticeOptions(bars=notice_bar, endpoints={"platform": endpoint})
        seeded = world.item(rule_category="payment_request")
        act(world.db, seeded.decision_id, ActionKind.REMOVE)
        send(world.db, options, WebhookSender(allow_loopback_ports_for_testing={receiver.port}))
        ((headers, body),) = receiver.received  # the 500 was retried, the same bytes sent
        verify_signature(secrets, headers, body)
        envelope = json.loads(body)
        assert envelope["event"] == "notice.user"
        assert envelope["data"]["what"] == "Your post was removed."
        (row,) = notices(world.db, seeded.item_id)
        assert row.state == NoticeState.DELIVERED and row.attempts == 2
        assert headers["Suraksha-Delivery-Id"] == row.delivery_id == envelope["delivery_id"]
    finally:
        receiver.close()


def test_paused_delivery_keeps_the_notice_in_the_feed(world: ReviewWorld) -> None:
    receiver = Receiver()
    try:
        endpoint = WebhookEndpoint(f"http://127.0.0.1:{receiver.port}/hook", endpoint_secrets(["s3cret"]))
        options = NoticeOptions(bars=notice_bar, endpoints={"platform": endpoint})
        sender = WebhookSender(allow_loopback_ports_for_testing={receiver.port})
        with world.db.session() as s:
            set_switch(s, KillSwitch.PAUSE_DELIVERY, True, by="lead-1")
        seeded = world.item(rule_category="payment_request")
        act(world.db, seeded.decision_id, ActionKind.RESTRICT)
        registry = HandlerRegistry()
        user_notices.register(registry, world.db, options, sender)
        stop = threading.Event()
        threading.Timer(1.0, stop.set).start()
        run_worker(
            world.db,
            registry,
            kinds={user_notices.SEND},
            config=CONFIG,
            stop_event=stop,
            install_signal_handlers=False,
        )
        assert receiver.received == []  # paused: nothing sent
        (row,) = notices(world.db, seeded.item_id)
        assert row.state == NoticeState.READY  # but the feed has it
        with world.db.session() as s:
            set_switch(s, KillSwitch.PAUSE_DELIVERY, False, by="lead-1")
            for job in s.scalars(select(Job).where(Job.kind == user_notices.SEND)):
                job.run_after = job.created_at
        send(world.db, options, sender)
        assert len(receiver.received) == 1
        assert notices(world.db, seeded.item_id)[0].state == NoticeState.DELIVERED
    finally:
        receiver.close()
