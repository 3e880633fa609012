"""What requests make happen, on SQLite and PostgreSQL: preservation holds for the jurisdiction's
period (renewable as the law allows, released when the request ends), and withholding under a
verified blocking order, recorded against the order and lifted when it is revoked."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from suraksha.app import Platform
from suraksha.content.models import Account, Item
from suraksha.enforcement.models import Action, ActionKind, Decision
from suraksha.errors import Conflict, Forbidden, InvalidInput
from suraksha.legal.clocks import RequestKind
from suraksha.legal.models import ScopeKind
from suraksha.legal.services import NewRequest, ScopeEntry
from suraksha.settings import Settings
from suraksha.testing.database import truncate_all
from suraksha.vault.crypto import generate_signing_key_text
from suraksha.vault.models import Preservation, PreservationHold
from suraksha.vault.services import EvidenceActor

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
DESK = "user:legal-desk"


@pytest.fixture
def platform(database_url: str, tmp_path: Path) -> Iterator[Platform]:
    platform = Platform(
        Settings.load(
            {
                "database_url": database_url,
                "data_dir": str(tmp_path / "data"),
                "index_dir": str(tmp_path / "index"),
                "vault_signing_key": generate_signing_key_text(),
            }
        )
    )
    with platform.db.session() as session:
        seller = Account(platform_account_id="acct-1", handle="@seller_one")
        bystander = Account(platform_account_id="acct-2", handle="@bystander")
        session.add_all([seller, bystander])
        session.flush()
        for n in range(3):
            session.add(
                Item(platform_item_id=f"post-{n}", payload_digest="0" * 64, kind="post", account_id=seller.id)
            )
        session.add(
            Item(platform_item_id="other", payload_digest="0" * 64, kind="post", account_id=bystander.id)
        )
    yield platform
    if platform.db.dialect == "postgresql":
        truncate_all(platform.db)
    platform.close()


def receive(platform: Platform, kind: RequestKind, jurisdiction: str, *scope: ScopeEntry) -> int:
    shown = platform.legal_receive(
        NewRequest(kind=kind, jurisdiction=jurisdiction, received_at=NOW, reference="ref-1", scope=scope),
        actor=DESK,
        now=NOW,
    )
    request_id = shown["id"]
    assert isinstance(request_id, int)
    return request_id


def test_a_us_preservation_holds_90_days_renews_once_and_ends_with_the_request(platform: Platform) -> None:
    request = receive(platform, RequestKind.PRESERVATION, "US", ScopeEntry(ScopeKind.ACCOUNT, "@seller_one"))
    shown = platform.legal_preserve(request, actor=DESK, now=NOW + timedelta(hours=2))
    holds = shown["holds"]
    assert isinstance(holds, list) and len(holds) == 3  # every post of the account, not the bystander's
    assert {h["expires_at"] for h in holds} == {(NOW + timedelta(hours=2, days=90)).isoformat()}
    assert shown["clocks"][0]["state"] == "met"  # type: ignore[index]  # acted within 24 h
    with platform.db.reading() as session:
        preserved = session.scalars(select(Preservation)).all()
        assert len(preserved) == 3  # the vault's preservation job copies the evidence
        decisions = session.scalars(select(Decision)).all()
        assert {(d.verdict, d.decided_by, d.decided_by_ref) for d in decisions} == {
            ("legal_order", "legal", f"legal_request:{request}")
        }

    renewed = platform.legal_renew(
        request, actor=DESK, reason="second 2703(f) letter", now=NOW + timedelta(days=80)
    )
    assert {h["extensions"] for h in renewed["holds"]} == {1}  # type: ignore[union-attr]
    with pytest.raises(Conflict, match="all that US allows"):
        platform.legal_renew(request, actor=DESK, reason="third letter", now=NOW + timedelta(days=160))

    platform.legal_verify(request, actor=DESK, how="portal", now=NOW + timedelta(days=161))
    platform.legal_answer(request, actor=DESK, now=NOW + timedelta(days=161))
    closed = platform.legal_close(request, actor=DESK, now=NOW + timedelta(days=162))
    assert not [h for h in closed["holds"] if h["active"]]  # type: ignore[union-attr]


def test_india_holds_180_days(platform: Platform) -> None:
    request = receive(platform, RequestKind.PRESERVATION, "IN-DL", ScopeEntry(ScopeKind.ITEM, "post-1"))
    shown = platform.legal_preserve(request, actor=DESK, now=NOW)
    [hold] = shown["holds"]  # type: ignore[misc]
    assert hold["expires_at"] == (NOW + timedelta(days=180)).isoformat()


def test_a_blocking_order_withholds_once_verified_and_is_lifted_when_revoked(platform: Platform) -> None:
    request = receive(
        platform,
        RequestKind.BLOCKING_ORDER,
        "IN",
        ScopeEntry(ScopeKind.ITEM, "post-0"),
        ScopeEntry(ScopeKind.ITEM, "post-2"),
    )
    with pytest.raises(Conflict, match="verify it before acting"):
        platform.legal_act(request, ActionKind.WITHHOLD, actor=DESK, now=NOW)
    platform.legal_verify(request, actor=DESK, how="MeitY letter checked", now=NOW + timedelta(minutes=20))
    shown = platform.legal_act(request, ActionKind.WITHHOLD, actor=DESK, now=NOW + timedelta(hours=2))
    actions = shown["actions"]
    assert isinstance(actions, list)
    assert [(a["kind"], a["countries"]) for a in actions] == [("withhold", "IN"), ("withhold", "IN")]
    [clock] = shown["clocks"]  # type: ignore[misc]
    assert clock["state"] == "met"  # acted 2 h after receipt, inside the 24 h the direction allowed

    withdrawn = platform.legal_withdraw(
        request, actor=DESK, note="order revoked", now=NOW + timedelta(days=3)
    )
    kinds = [a["kind"] for a in withdrawn["actions"]]  # type: ignore[union-attr]
    assert kinds.count("restore") == 2
    with platform.db.reading() as session:
        assert session.scalars(select(Action.kind).where(Action.kind == "withhold")).all() == ["withhold"] * 2


def test_a_scope_with_nothing_found_acts_on_nothing(platform: Platform) -> None:
    request = receive(platform, RequestKind.PRESERVATION, "US", ScopeEntry(ScopeKind.ACCOUNT, "@nobody"))
    with pytest.raises(InvalidInput, match="nothing in request"):
        platform.legal_preserve(request, actor=DESK, now=NOW)
    with platform.db.reading() as session:
        assert session.scalars(select(PreservationHold)).all() == []


LEAD_COUNSEL = EvidenceActor("user:counsel-1", frozenset({"legal"}))
SECOND_COUNSEL = EvidenceActor("user:counsel-2", frozenset({"legal"}))


def test_a_disclosure_is_drafted_approved_by_another_and_sent(platform: Platform, tmp_path: Path) -> None:
    with platform.db.session() as session:
        item = session.scalar(select(Item).where(Item.platform_item_id == "post-1"))
        assert item is not None
        item.upload_ip, item.upload_port = "203.0.113.7", 51234
    scope = [ScopeEntry(ScopeKind.ACCOUNT, "@seller_one"), ScopeEntry(ScopeKind.ACCOUNT, "@nobody")]
    request = receive(platform, RequestKind.DATA_DISCLOSURE, "IN", *scope)
    with pytest.raises(Conflict, match="only a verified request"):
        platform.legal_disclose(request, actor=LEAD_COUNSEL, now=NOW)
    platform.legal_verify(request, actor=DESK, how="called back", now=NOW + timedelta(hours=1))
    platform.legal_preserve(request, actor=DESK, now=NOW + timedelta(hours=1))
    platform.run_worker(platform.bank_index().load(), until_drained=True, install_signal_handlers=False)

    drafted = platform.legal_disclose(request, actor=LEAD_COUNSEL, now=NOW + timedelta(hours=20))
    folder = Path(str(drafted["package_path"]))
    assert drafted["state"] == "drafted" and drafted["accounts"] == 1 and drafted["items"] == 3
    assert {p.name for p in folder.iterdir()} == {
        f"disclosure-{drafted['id']}.pdf",
        "summary.json",
        "evidence.zip",
    }
    assert all(oct(p.stat().st_mode & 0o777) == "0o600" for p in folder.iterdir())
    summary = json.loads((folder / "summary.json").read_text())
    facts = {i["item_id"]: i for i in summary["accounts"][0]["items"]}
    assert facts["post-1"]["upload_ip"] == "203.0.113.7" and facts["post-1"]["upload_port"] == 51234
    assert summary["not_found"] and "@nobody" in summary["not_found"][0]
    assert (folder / f"disclosure-{drafted['id']}.pdf").read_bytes().startswith(b"%PDF")

    disclosure = int(str(drafted["id"]))
    with pytest.raises(Conflict, match="only an approved one leaves"):
        platform.legal_disclosure_sent(
            disclosure, via="portal", actor=LEAD_COUNSEL, now=NOW + timedelta(hours=21)
        )
    with pytest.raises(Forbidden, match="second person"):
        platform.legal_approve_disclosure(disclosure, actor=LEAD_COUNSEL, now=NOW + timedelta(hours=21))
    platform.legal_approve_disclosure(disclosure, actor=SECOND_COUNSEL, now=NOW + timedelta(hours=22))
    platform.legal_disclosure_sent(
        disclosure, via="IFSO portal", actor=LEAD_COUNSEL, now=NOW + timedelta(hours=23)
    )
    shown = platform.legal_request(request, now=NOW + timedelta(days=5))
    [answer] = [c for c in shown["clocks"] if c["step"] == "answer"]  # type: ignore[union-attr]
    assert answer["state"] == "met"  # sent 23 h after receipt, inside the 72 h of r.3(1)(j)
    assert shown["disclosures"] == [  # type: ignore[comparison-overlap]
        {
            "id": disclosure,
            "kind": "disclosure",
            "state": "sent",
            "drafted_by": "user:counsel-1",
            "approved_by": "user:counsel-2",
            "sent_via": "IFSO portal",
        }
    ]
    with pytest.raises(Forbidden):
        platform.legal_disclose(
            request, actor=EvidenceActor("user:reviewer", frozenset({"reviewer"})), now=NOW
        )


def test_a_commission_notice_gets_a_drafted_reply_approved_by_another(platform: Platform) -> None:
    """The worked example: the commission names posts and asks its five questions; the reply is drafted
    from the records (PDF to send, DOCX to edit), approved by a second person, then sent."""
    notice = platform.legal_receive(
        NewRequest(
            kind=RequestKind.COMMISSION_NOTICE,
            jurisdiction="IN-DL",
            received_at=NOW,
            reference="DCW summons 2022",
            stated_due_at=NOW + timedelta(days=4),
            scope=[
                ScopeEntry(ScopeKind.ITEM, "post-0"),
                ScopeEntry(ScopeKind.DATE_RANGE, "", NOW - timedelta(days=4 * 365), NOW),
            ],
        ),
        actor=DESK,
        now=NOW,
    )
    request = int(str(notice["id"]))
    platform.legal_verify(request, actor=DESK, how="summons served in person", now=NOW + timedelta(hours=1))
    drafted = platform.legal_reply(request, actor=LEAD_COUNSEL, now=NOW + timedelta(days=1))
    folder = Path(str(drafted["package_path"]))
    assert drafted["kind"] == "reply" and {p.name for p in folder.iterdir()} == {
        "reply.pdf",
        "reply.docx",
        "answer.json",
    }
    answer = json.loads((folder / "answer.json").read_text())
    assert len(answer["questions"]) == 5 and answer["items"][0]["named_as"] == "post-0"
    assert answer["period_start"].startswith(str((NOW - timedelta(days=4 * 365)).date()))
    with pytest.raises(Forbidden, match="second person"):
        platform.legal_approve_disclosure(
            int(str(drafted["id"])), actor=LEAD_COUNSEL, now=NOW + timedelta(days=1)
        )
    platform.legal_approve_disclosure(
        int(str(drafted["id"])), actor=SECOND_COUNSEL, now=NOW + timedelta(days=2)
    )
    platform.legal_disclosure_sent(
        int(str(drafted["id"])), via="by hand", actor=LEAD_COUNSEL, now=NOW + timedelta(days=3)
    )
    shown = platform.legal_request(request, now=NOW + timedelta(days=10))
    [answer_clock] = [c for c in shown["clocks"] if c["step"] == "answer"]  # type: ignore[union-attr]
    assert answer_clock["state"] == "met" and answer_clock["due_at"] == (NOW + timedelta(days=4)).isoformat()
