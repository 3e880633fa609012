"""Feedback to the exchanges: a reviewer's verdict on an item that matched an exchange's entry reaches
that exchange's stand-in once, through the job queue (``exchanges.feedback``), and is audited."""

from __future__ import annotations

import hashlib
import itertools
from dataclasses import dataclass

from sqlalchemy import select

from suraksha.access.models import ConsoleUser
from suraksha.app import DECISION_FOLLOW_UPS, Platform
from suraksha.audit import AuditEvent
from suraksha.banks.models import BankEntry
from suraksha.content.models import Account, Item, ItemKind, ItemMatch, ItemMedia, ItemState, MediaState
from suraksha.enforcement import services as enforcement
from suraksha.enforcement.policy import BUILTIN, BankFinding, Findings, decide
from suraksha.exchanges.feedback import FEEDBACK
from suraksha.exchanges.models import ExchangeApi, RunState, Trust
from suraksha.review import decisions
from suraksha.review import services as review
from suraksha.review.models import ReviewCase, ViolationCategory
from suraksha.worker.handlers import HandlerRegistry
from suraksha.worker.models import Job
from suraksha.worker.policy import WorkerConfig
from suraksha.worker.runner import Worker
from tests.integration.exchanges.conftest import Upstream, image, pdq

COUNTER = itertools.count(1)
OPTIONS = review.ReviewOptions(claim_minutes=15)


@dataclass
class Matched:
    item_id: int
    case_id: int


def matched_item(p: Platform, value: str) -> Matched:
    """An item whose picture matched the bank entry of ``value`` in bank ``known``, sent to review."""
    n = next(COUNTER)
    with p.db.session() as session:
        entry = session.scalar(select(BankEntry).where(BankEntry.value == value))
        assert entry is not None
        account = Account(platform_account_id=f"acct-fb-{n}", handle=f"fb{n}")
        session.add(account)
        session.flush()
        item = Item(
            platform_item_id=f"item-fb-{n}",
            payload_digest="0" * 64,
            kind=ItemKind.POST,
            account_id=account.id,
            text="benign words",
            state=ItemState.QUEUED,
        )
        session.add(item)
        session.flush()
        data = f"benign feedback test picture {n}".encode()
        media = ItemMedia(
            item_id=item.id,
            position=0,
            state=MediaState.HASHED,
            size=len(data),
            media_format="JPEG",
            md5=hashlib.md5(data, usedforsecurity=False).hexdigest(),
            sha256=hashlib.sha256(data).hexdigest(),
        )
        session.add(media)
        session.flush()
        session.add(
            ItemMatch(
                item_id=item.id,
                media_id=media.id,
                bank_name="known",
                bank_category="other",
                entry_id=entry.id,
                signal_type="pdq",
                distance=0,
            )
        )
        finding = BankFinding("known", "other", entry.id, "pdq", 0, review_only=True)
        plan = decide(BUILTIN, Findings(banks=[finding]))
        assert enforcement.claim_for_decision(session, item.id)
        enforcement.record_decision(session, item, plan, follow_ups=DECISION_FOLLOW_UPS)
        session.flush()
        case = session.scalar(select(ReviewCase).where(ReviewCase.item_id == item.id))
        assert case is not None
        return Matched(item.id, case.id)


def reviewer(p: Platform) -> ConsoleUser:
    with p.db.session() as session:
        user = ConsoleUser(
            email=f"fb{next(COUNTER)}@example.org",
            pseudonym=f"r-fb{next(COUNTER)}",
            roles="lead",
            password_hash="not-a-password-hash (these tests never sign in)",
            failed_logins=0,
        )
        session.add(user)
    return user


def review_decide(p: Platform, user: ConsoleUser, case_id: int, violation: ViolationCategory) -> None:
    with p.db.session() as session:
        review.claim(session, case_id, user, OPTIONS)
    with p.db.session() as session:
        decisions.decide(session, case_id, user, decisions.ReviewChoice(violation=violation), OPTIONS)


def run_feedback_jobs(p: Platform) -> int:
    registry = HandlerRegistry()
    p.register_exchange_jobs(registry)
    worker = Worker(p.db.sessions, registry, kinds=[FEEDBACK], config=WorkerConfig())
    done = 0
    while ran := worker.run_once():
        done += ran
    return done


def feedback_jobs(p: Platform) -> list[tuple[str | None, str]]:
    with p.db.reading() as session:
        return [(j.dedupe_key, j.state) for j in session.scalars(select(Job).where(Job.kind == FEEDBACK))]


def test_ncmec_gets_one_vote_per_verdict(platform: Platform, upstream: Upstream) -> None:
    upstream.sim.upsert([image(1), image(2), image(3)])
    platform.exchange_create(
        "nc", ExchangeApi.NCMEC, "known", settings={"url": upstream.url}, trust=Trust.REVIEW, actor="test"
    )
    assert platform.exchange_fetch("nc", actor="test").state == RunState.DONE
    user = reviewer(platform)

    confirmed = matched_item(platform, pdq(1))
    review_decide(platform, user, confirmed.case_id, ViolationCategory.SEXUAL_VIOLENCE)
    benign = matched_item(platform, pdq(2))
    review_decide(platform, user, benign.case_id, ViolationCategory.BENIGN)
    # a second item on the first entry, confirmed again: the entry already has that verdict
    again = matched_item(platform, pdq(1))
    review_decide(platform, user, again.case_id, ViolationCategory.SEXUAL_VIOLENCE)

    assert len(feedback_jobs(platform)) == 2
    assert run_feedback_jobs(platform) == 2
    assert run_feedback_jobs(platform) == 0
    votes = sorted((f.id, f.fingerprint, f.vote, len(f.reasons)) for f in upstream.sim.feedback)
    assert votes == [("img-1", "PDQ", "affirmative", 0), ("img-2", "PDQ", "negative", 1)]
    assert {state for _, state in feedback_jobs(platform)} == {"done"}
    with platform.db.reading() as session:
        rows = list(session.scalars(select(AuditEvent).where(AuditEvent.action == "exchange:feedback")))
        assert sorted(r.subject for r in rows) == ["exchange:nc", "exchange:nc"]


def test_feedback_is_retried_until_the_exchange_answers(platform: Platform, upstream: Upstream) -> None:
    upstream.sim.upsert([image(7)])
    platform.exchange_create(
        "nc", ExchangeApi.NCMEC, "known", settings={"url": upstream.url}, trust=Trust.REVIEW, actor="test"
    )
    assert platform.exchange_fetch("nc", actor="test").state == RunState.DONE
    user = reviewer(platform)
    password = upstream.sim.password
    upstream.sim.password = "changed-so-the-first-try-fails"
    review_decide(platform, user, matched_item(platform, pdq(7)).case_id, ViolationCategory.SEXUAL_VIOLENCE)
    run_feedback_jobs(platform)
    assert upstream.sim.feedback == []
    [(_, state)] = feedback_jobs(platform)
    assert state != "done"
    upstream.sim.password = password
    with platform.db.session() as session:  # the backoff has passed
        for job in session.scalars(select(Job).where(Job.kind == FEEDBACK)):
            job.run_after = job.created_at
    run_feedback_jobs(platform)
    assert [(f.id, f.vote) for f in upstream.sim.feedback] == [("img-7", "affirmative")]
    assert feedback_jobs(platform)[0][1] == "done"
