"""The legal desk's requests on SQLite and PostgreSQL: received with their scope, verified (the rank
rule of IT Rules r.3(1)(d)), moved through their states, and their clocks under a fake clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from suraksha import audit
from suraksha.content.lookup import UrlPatterns
from suraksha.content.models import Account, Item
from suraksha.db import Database
from suraksha.errors import Conflict, InvalidInput
from suraksha.legal import services as legal
from suraksha.legal.clocks import ClockState, JurisdictionRules, RequestKind, Step
from suraksha.legal.models import Channel, LegalRequest, RejectReason, RequestState, ScopeKind
from suraksha.legal.services import NewRequest, ScopeEntry

RECEIVED = datetime(2022, 9, 20, 10, 0, tzinfo=UTC)
PATTERNS = UrlPatterns(item="https://example.org/p/{item_id}", profile="https://example.org/u/{handle}")
RULES = JurisdictionRules.load()


def receive(
    session: Session, *, now: datetime, actor: str, patterns: UrlPatterns | None = None, **fields: Any
) -> LegalRequest:
    return legal.receive(session, RULES, NewRequest(**fields), actor=actor, now=now, patterns=patterns)


def hours(n: float) -> datetime:
    return RECEIVED + timedelta(hours=n)


@pytest.fixture
def racket(db: Database) -> Database:
    """Two accounts of the demo's kind and a post (benign stand-ins)."""
    with db.session() as session:
        seller = Account(platform_account_id="acct-1", handle="@seller_one")
        helper = Account(platform_account_id="acct-2", handle="@seller_two")
        session.add_all([seller, helper])
        session.flush()
        session.add(
            Item(platform_item_id="post-9", payload_digest="0" * 64, kind="post", account_id=seller.id)
        )
    return db


def police(db: Database, rank: str = "Inspector") -> int:
    with db.session() as session:
        return legal.add_authority(
            session,
            agency="Delhi Police, IFSO",
            officer="A. Officer",
            rank=rank,
            jurisdiction="IN-DL",
            verified_how="called back on the published number",
            actor="legal@example.org",
        ).id


def test_a_disclosure_request_runs_its_72_hour_clock_to_the_answer(racket: Database) -> None:
    authority = police(racket)
    with racket.session() as session:
        request = receive(
            session,
            kind=RequestKind.DATA_DISCLOSURE,
            jurisdiction="IN-DL",
            received_at=RECEIVED,
            now=RECEIVED,
            authority_id=authority,
            reference="FIR 123/2022",
            legal_basis="IT Rules r.3(1)(j); BNSS s.94",
            channel=Channel.EMAIL,
            scope=[
                ScopeEntry(ScopeKind.ACCOUNT, "@seller_one"),
                ScopeEntry(ScopeKind.ACCOUNT, "https://example.org/u/seller_two"),
                ScopeEntry(ScopeKind.URL, "https://example.org/p/post-9"),
                ScopeEntry(ScopeKind.ACCOUNT, "@nobody_here"),
            ],
            patterns=PATTERNS,
            actor="legal@example.org",
        )
        request_id = request.id
        scope = {s.value: s for s in request.scope}
        assert scope["@seller_one"].account_id is not None and scope["@seller_one"].not_found == ""
        assert scope["https://example.org/u/seller_two"].account_id is not None
        assert scope["https://example.org/p/post-9"].item_id is not None
        assert "no account" in scope["@nobody_here"].not_found  # kept with why, never dropped

    with racket.session() as session:
        [answer_clock] = legal.clocks(RULES, legal.get_request(session, request_id), hours(40))
        assert answer_clock.state is ClockState.WARNING and answer_clock.remaining == timedelta(hours=32)
        [late] = legal.due(session, RULES, now=hours(73))
        assert late.request.id == request_id and late.clock.state is ClockState.OVERDUE

    with racket.session() as session:
        legal.verify(session, RULES, request_id, actor="legal@example.org", how="portal", now=hours(1))
        legal.start(session, request_id, actor="legal@example.org", now=hours(2))
        legal.answer(
            session,
            request_id,
            actor="legal@example.org",
            now=hours(50),
            partly_because="@nobody_here: no such account",
        )
    with racket.session() as session:
        request = legal.get_request(session, request_id)
        assert request.state == RequestState.PARTLY_ANSWERED
        [met] = legal.clocks(RULES, request, hours(100))
        assert met.state is ClockState.MET and legal.due(session, RULES, now=hours(100)) == []
        assert [e.to_state for e in request.events] == [
            "received",
            "verified",
            "in_progress",
            "partly_answered",
        ]
        actions = [e.action for e in audit.tail(session, 10)]
        assert actions.count("legal:state") == 3 and "legal:receive" in actions


def test_a_removal_notice_from_below_the_rank_the_rule_names_cannot_be_verified(racket: Database) -> None:
    inspector = police(racket, rank="Inspector")
    dig = police(racket, rank="Deputy Inspector General of Police")
    with racket.session() as session:
        low = receive(
            session,
            kind=RequestKind.REMOVAL_NOTICE,
            jurisdiction="IN",
            received_at=RECEIVED,
            now=RECEIVED,
            authority_id=inspector,
            actor="legal@example.org",
        ).id
        high = receive(
            session,
            kind=RequestKind.REMOVAL_NOTICE,
            jurisdiction="IN",
            received_at=RECEIVED,
            now=RECEIVED,
            authority_id=dig,
            actor="legal@example.org",
        ).id
    with racket.session() as session, pytest.raises(Conflict, match="may be issued only by"):
        legal.verify(session, RULES, low, actor="legal@example.org", how="email", now=hours(0.5))
    with racket.session() as session:
        legal.reject(
            session, low, reason=RejectReason.WRONG_RANK, detail="an Inspector", actor="l", now=hours(0.6)
        )
        legal.verify(session, RULES, high, actor="legal@example.org", how="email", now=hours(0.5))
        assert legal.get_request(session, low).state_reason == "wrong_rank: an Inspector"
        # the removal clock is 3 h; acting at 2.5 h meets it
        legal.mark_done(session, high, Step.ACT, actor="legal@example.org", now=hours(2.5))
        [clock] = legal.clocks(RULES, legal.get_request(session, high), hours(5))
        assert clock.state is ClockState.MET and clock.due_at == hours(3)


def test_a_blocking_order_is_confidential_whatever_was_ticked(racket: Database) -> None:
    with racket.session() as session:
        order = receive(
            session,
            kind=RequestKind.BLOCKING_ORDER,
            jurisdiction="IN",
            received_at=RECEIVED,
            now=RECEIVED,
            actor="legal@example.org",
            stated_due_at=hours(48),
        )
        assert order.confidential
        [act] = legal.clocks(RULES, order, hours(1))
        assert act.due_at == hours(48)  # the direction states its time; the rule lets it


def test_the_same_forwarded_request_twice_is_one_request(racket: Database) -> None:
    def forward(reference: str) -> int:
        with racket.session() as session:
            return receive(
                session,
                kind=RequestKind.PRESERVATION,
                jurisdiction="US",
                received_at=RECEIVED,
                now=RECEIVED,
                external_id="portal-77",
                reference=reference,
                actor="api:platform",
            ).id

    assert forward("2703(f) letter 5") == forward("2703(f) letter 5")
    with pytest.raises(Conflict, match="already received"):
        forward("another letter")


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"jurisdiction": "FR"}, "no deadlines for data_disclosure in FR"),
        ({"jurisdiction": "India"}, "not a code"),
        ({"received_at": hours(24)}, "in the future"),
        ({"stated_due_at": RECEIVED - timedelta(hours=1)}, "before the request was received"),
        ({"reference": "x" * 500}, "over 200"),
    ],
)
def test_a_bad_request_is_refused_and_nothing_is_written(
    racket: Database, changes: dict[str, object], message: str
) -> None:
    arguments: dict[str, object] = {
        "kind": RequestKind.DATA_DISCLOSURE,
        "jurisdiction": "IN",
        "received_at": RECEIVED,
        "now": RECEIVED,
        "actor": "legal@example.org",
        **changes,
    }
    with racket.session() as session, pytest.raises(InvalidInput, match=message):
        receive(session, **arguments)  # type: ignore[arg-type]
    with racket.session() as session:
        assert session.scalars(select(LegalRequest)).all() == []


def test_states_move_only_as_the_table_allows(racket: Database) -> None:
    with racket.session() as session:
        request_id = receive(
            session,
            kind=RequestKind.COMMISSION_NOTICE,
            jurisdiction="IN",
            received_at=RECEIVED,
            now=RECEIVED,
            actor="legal@example.org",
        ).id
    with racket.session() as session, pytest.raises(Conflict, match="can go to rejected, verified"):
        legal.answer(session, request_id, actor="l", now=hours(1))
    with racket.session() as session:
        legal.withdraw(session, request_id, actor="l", now=hours(2), note="the commission withdrew it")
        assert legal.get_request(session, request_id).state == RequestState.CLOSED
    with racket.session() as session, pytest.raises(Conflict, match="closed"):
        legal.start(session, request_id, actor="l", now=hours(3))
