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
from typer.testing import CliRunner

from suraksha.access import users
from suraksha.app import Platform
from suraksha.banks import services as banks
from suraksha.banks.models import BankCategory, BankEntry, BankKind
from suraksha.cli.main import app
from suraksha.content.models import Account
from suraksha.outbound.signatures import verify_signature
from suraksha.outbound.webhooks import WebhookSender, endpoint_secrets
from suraksha.review.models import ApprovalState, ReviewDecision
from suraksha.signals.file_signals import hash_bytes
from suraksha.signals.types import SignalKind
from suraksha.testing.synthetic import synthetic_jpeg
from suraksha.web.app import create_app
from suraksha.web.state import WebState
from suraksha.worker.policy import WorkerConfig
from suraksha.worker.runner import run_worker
from tests.functional.web.conftest import Keys
from tests.functional.web.test_console import PASSWORD, _case, signed_in
from tests.unit.outbound.webhooks.conftest import Receiver, ReceiverHandler

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
    human = [e for e in events(receiver)[before:] if e["event"] != "notice.user"]
    assert [e["event"] for e in human] == ["action.remove"]  # the suspension waits for four eyes
    told = [e["data"]["what"] for e in events(receiver)[before:] if e["event"] == "notice.user"]  # type: ignore[index]
    assert told == ["Your post was removed."]  # and the user's statement of reasons with it
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
    human = [e for e in events(receiver)[before:] if e["event"] != "notice.user"]
    assert [e["event"] for e in human] == ["action.remove", "action.suspend"]
    suspend = human[1]["data"]
    assert isinstance(suspend, dict) and suspend["account_id"] == "acct-31" and suspend["automated"] is False
    with hooked.db.reading() as session:
        account = session.scalars(select(Account).where(Account.platform_account_id == "acct-31")).one()
        assert account.suspended_at is not None


def _csam_bank(platform: Platform, seed: int) -> list[int]:
    """A csam bank holding the MD5 and PDQ of synthetic picture ``seed``; returns the entry ids."""
    signals = hash_bytes(synthetic_jpeg(seed))
    assert signals.pdq is not None and signals.md5 is not None
    with platform.db.session() as session:
        bank = banks.create_bank(session, "ncmec", category=BankCategory.CSAM)
        pdq, _ = banks.add_entry(session, bank, SignalKind.PDQ, signals.pdq.hex, quality=signals.pdq.quality)
        md5, _ = banks.add_entry(session, bank, SignalKind.MD5, signals.md5)
        return [pdq.id, md5.id]


def test_a_csam_false_positive_unblocks_only_after_a_reveal_and_a_second_person(
    web: TestClient, hooked: Platform, receiver: Receiver
) -> None:
    entries = _csam_bank(hooked, 41)
    case_id, media_id = _case(hooked, "csam", 41, (synthetic_jpeg(41), "image/jpeg"))
    work_off(hooked, receiver)
    before = len(receiver.received)  # the automated removal and suspension
    csrf = signed_in(web, "cs@example.org")
    assert web.post(f"/console/cases/{case_id}/claim", data={"csrf_token": csrf}).status_code == 200
    choice = {"csrf_token": csrf, "violation": "benign", "allow_list": "true", "note": "a sunset"}
    refused = web.post(f"/console/cases/{case_id}/decide", data=choice, follow_redirects=False)
    assert refused.status_code == 400 and "reveal the file first" in refused.text
    revealed = web.post(
        f"/console/media/{media_id}/reveal", data={"case_id": str(case_id)}, headers={"X-CSRF-Token": csrf}
    )
    assert revealed.status_code == 200
    decided = web.post(f"/console/cases/{case_id}/decide", data=choice, follow_redirects=False)
    assert decided.status_code == 303, decided.text
    work_off(hooked, receiver)
    assert events(receiver)[before:] == []  # nothing restored yet
    with hooked.db.reading() as session:
        assert all(session.get(BankEntry, e).enabled for e in entries)  # type: ignore[union-attr]

    lead = TestClient(web.app)
    lead_csrf = signed_in(lead, "lead@example.org")
    page = lead.get("/console/approvals")
    assert "allow list" in page.text
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
    restored = [(e["event"], e["data"]["target"]) for e in events(receiver)[before:]]  # type: ignore[index]
    assert sorted(restored) == [("action.restore", "account"), ("action.restore", "item")]
    with hooked.db.reading() as session:
        assert not any(session.get(BankEntry, e).enabled for e in entries)  # type: ignore[union-attr]
        allow = banks.get_bank(session, hooked.review_options.allow_list_bank)
        assert allow.kind == BankKind.ALLOW and banks.bank_stats(session, allow).total == 2


def test_bank_pages_cli_and_hma_routes_do_not_unblock_a_csam_hash(
    web: TestClient, hooked: Platform, keys: Keys, client: TestClient, database_url: str
) -> None:
    """The console's bank pages, the CLI's bank commands and the HMA curation routes (an API key is
    nobody in particular) refuse; they say how it is done (a review decision and its approval)."""
    entries = _csam_bank(hooked, 42)
    csam_md5 = hash_bytes(synthetic_jpeg(42)).md5
    with hooked.db.session() as session:
        banks.create_bank(session, "allow", kind=BankKind.ALLOW)
        users.create_user(session, "admin@example.org", ["admin"], PASSWORD, by="test")
    csrf = signed_in(web, "admin@example.org")
    disable = web.post(
        f"/console/banks/ncmec/entries/{entries[0]}/enabled",
        data={"csrf_token": csrf, "enabled": "false", "reason": "looks fine"},
        follow_redirects=False,
    )
    assert disable.status_code == 403 and "never one person" in disable.text
    whole = web.post("/console/banks/ncmec/enabled", data={"csrf_token": csrf, "enabled": "false"})
    assert whole.status_code == 403
    allow = web.post(
        "/console/banks/allow/entries",
        data={"csrf_token": csrf, "signal_type": "md5", "value": csam_md5},
        follow_redirects=False,
    )
    assert allow.status_code == 403 and "never one person" in allow.text

    cli = {"SURAKSHA_DATABASE_URL": database_url, "SURAKSHA_DATA_DIR": str(hooked.settings.data_path)}
    for args in (
        ["bank", "entry-disable", str(entries[1]), "--reason", "looks fine"],
        ["bank", "disable", "ncmec"],
        ["bank", "add", "allow", "--signal", f"md5:{csam_md5}"],
    ):
        result = CliRunner().invoke(app, args, env=cli, catch_exceptions=False)
        said = " ".join(result.output.split())  # rich wraps long lines
        assert result.exit_code == 2 and "never one person's call" in said, (args, said)

    admin = keys.header("admin")  # the conftest's platform: the same database
    assert client.put("/c/bank/ncmec", json={"enabled": False}, headers=admin).status_code == 403
    assert client.post("/c/bank/allow/signal", json={"md5": csam_md5}, headers=admin).status_code == 403
    with hooked.db.reading() as session:
        assert all(session.get(BankEntry, e).enabled for e in entries)  # type: ignore[union-attr]
        assert banks.get_bank(session, "ncmec").enabled
        assert banks.bank_stats(session, banks.get_bank(session, "allow")).total == 0


def test_confirming_an_automated_match_sends_no_action_twice(
    web: TestClient, hooked: Platform, receiver: Receiver
) -> None:
    """Automated enforcement removed the item and suspended the account; the reviewer who confirms
    the match sees both on the decision form, and the platform is not asked again. A restore in
    between makes a new removal legitimate."""
    from suraksha.content.models import Item
    from suraksha.enforcement.models import Action, ActionKind, ActionState, ActionTarget
    from suraksha.enforcement.services import action_in_force, add_action
    from suraksha.worker.queue import retry_dead

    _csam_bank(hooked, 43)
    case_id, _media = _case(hooked, "csam", 43, (synthetic_jpeg(43), "image/jpeg"))
    with hooked.db.session() as session:  # _case's worker could not reach the loopback receiver
        retry_dead(session, "action.deliver")
    work_off(hooked, receiver)
    automated = [e["event"] for e in events(receiver)]
    assert automated == ["action.remove", "action.suspend"]
    csrf = signed_in(web, "cs@example.org")
    assert web.post(f"/console/cases/{case_id}/claim", data={"csrf_token": csrf}).status_code == 200
    form = web.get(f"/console/cases/{case_id}").text
    assert 'id="actions-taken"' in form and "remove item" in form and "suspend account" in form
    decided = web.post(
        f"/console/cases/{case_id}/decide",
        data={"csrf_token": csrf, "violation": "csam", "actions": ["remove", "suspend"]},
        follow_redirects=False,
    )
    assert decided.status_code == 303, decided.text
    lead = TestClient(web.app)
    lead_csrf = signed_in(lead, "lead@example.org")
    with hooked.db.reading() as session:
        pending = session.scalars(
            select(ReviewDecision.id).where(ReviewDecision.approval_state == ApprovalState.PENDING)
        ).all()
    for review_decision in pending:  # the suspension waits for four eyes in a csam case
        approved = lead.post(
            f"/console/approvals/{review_decision}",
            data={"csrf_token": lead_csrf, "verdict": "approve"},
            follow_redirects=False,
        )
        assert approved.status_code == 303
    work_off(hooked, receiver)
    assert [e["event"] for e in events(receiver)] == automated  # nothing sent twice
    with hooked.db.reading() as session:
        human = session.scalars(select(Action).where(Action.automated.is_(False))).all()
        taken = [(a.kind, a.state) for a in human if a.kind in ("remove", "suspend")]
        assert sorted(taken) == [("remove", "already_taken"), ("suspend", "already_taken")]
        assert all("already in force: action" in a.state_reason for a in human if a.state == "already_taken")

    with hooked.db.session() as session:  # a restore in between: removing again is a new action
        item = session.scalars(select(Item).where(Item.platform_item_id == "item-43")).one()
        first = session.scalars(select(Action).where(Action.item_id == item.id)).first()
        assert first is not None
        decision = first.decision
        restore = add_action(session, decision, item, ActionKind.RESTORE, automated=False)
        assert restore.state == ActionState.PENDING
        assert action_in_force(session, ActionKind.REMOVE, ActionTarget.ITEM, item) is None
        assert action_in_force(session, ActionKind.SUSPEND, ActionTarget.ACCOUNT, item) is not None
