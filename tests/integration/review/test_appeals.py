"""Appeals: lodged idempotently, in the appeals queue, decided by a different person (never the
automation), reversal restores through enforcement, a CSAM reversal needs a reveal and four eyes,
clocks from the jurisdiction file under a fake clock, and reversal rates with their flags."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from suraksha.appeals import rates
from suraksha.appeals import services as appeals
from suraksha.appeals.models import Appeal, AppealState, ReversalFlag
from suraksha.appeals.services import AppealOptions, AppealOutcome, NewAppeal
from suraksha.audit import AuditEvent
from suraksha.banks.models import Bank
from suraksha.content.models import Item
from suraksha.db.base import utcnow
from suraksha.enforcement.models import Action, ActionKind, ActionTarget, Decision, UserNotice
from suraksha.errors import Conflict, Forbidden, InvalidInput
from suraksha.exchanges.feedback import FEEDBACK
from suraksha.exchanges.models import Exchange, ExchangeApi, ExchangeEntry
from suraksha.legal.clocks import JurisdictionRules
from suraksha.review import decisions, reveals
from suraksha.review import services as review
from suraksha.review.cases import open_case
from suraksha.review.models import CaseSource, CaseState, ReviewCase, ViolationCategory
from suraksha.worker.models import Job

from .conftest import ReviewWorld, Seeded

RULES = JurisdictionRules.load()
OPTIONS = AppealOptions(jurisdiction="IN", priority=65)


def lodge(
    world: ReviewWorld,
    decision_id: int,
    external_id: str,
    *,
    now: datetime | None = None,
    statement: str = "It was a school fundraiser.",
    jurisdiction: str | None = None,
) -> tuple[Appeal, bool]:
    new = NewAppeal(external_id, statement, decision_id=decision_id, jurisdiction=jurisdiction)
    with world.db.session() as s:
        appeal, created = appeals.lodge(s, RULES, new, OPTIONS, by="api:platform", now=now or utcnow())
        s.expunge(appeal)
        return appeal, created


def reviewer_removes(world: ReviewWorld, options: review.ReviewOptions, who: str) -> Seeded:
    """A text-rule item that ``who`` decides to remove (a reviewer's decision)."""
    seeded = world.item(rule_category="payment_request")
    user = world.users[who]
    with world.db.session() as s:
        case = s.scalar(select(ReviewCase).where(ReviewCase.item_id == seeded.item_id))
        assert case is not None
        review.claim(s, case.id, user, options)
    with world.db.session() as s:
        choice = decisions.ReviewChoice(
            ViolationCategory.SALE_OR_SOLICITATION, (ActionKind.REMOVE,), note="spam"
        )
        decided = decisions.decide(s, case.id, user, choice, options)
        return Seeded(seeded.item_id, seeded.media_ids, int(decided.decision_id or 0))


def claim(world: ReviewWorld, appeal_id: int, who: str, options: review.ReviewOptions) -> None:
    with world.db.session() as s:
        appeal = s.get(Appeal, appeal_id)
        assert appeal is not None and appeal.case_id is not None
        review.claim(s, appeal.case_id, world.users[who], options)


def decide(
    world: ReviewWorld, appeal_id: int, who: str, outcome: AppealOutcome, note: str = "on a second look"
) -> Appeal:
    with world.db.session() as s:
        appeal = appeals.decide(s, appeal_id, world.users[who], outcome, note)
        s.expunge(appeal)
        return appeal


def test_lodging_is_idempotent_and_opens_an_appeals_case(
    world: ReviewWorld, options: review.ReviewOptions
) -> None:
    world.user("alice", "reviewer")
    seeded = reviewer_removes(world, options, "alice")
    appeal, created = lodge(world, seeded.decision_id, "pa-1")
    again, created_again = lodge(world, seeded.decision_id, "pa-1")
    assert created and not created_again and again.id == appeal.id
    with pytest.raises(Conflict, match="other content"):
        lodge(world, seeded.decision_id, "pa-1", statement="something else")
    with pytest.raises(Conflict, match="already appealed"):
        lodge(world, seeded.decision_id, "pa-2")
    with world.db.reading() as s:
        case = s.get(ReviewCase, appeal.case_id)
        assert case is not None
        assert (case.source, case.state, case.priority) == (CaseSource.APPEAL, CaseState.OPEN, 65)
        assert [c.id for c in review.list_queue(s, source=CaseSource.APPEAL)] == [case.id]
    clean = world.item()  # nothing was done to it
    with pytest.raises(InvalidInput, match="nothing to appeal"):
        lodge(world, clean.decision_id, "pa-3")
    with pytest.raises(InvalidInput, match="jurisdiction"):
        lodge(world, world.item(bank_category="ncii").decision_id, "pa-4", jurisdiction="ZZ")


def test_the_decider_may_not_decide_the_appeal(world: ReviewWorld, options: review.ReviewOptions) -> None:
    world.user("alice", "reviewer")
    world.user("bob", "reviewer")
    seeded = reviewer_removes(world, options, "alice")
    appeal, _ = lodge(world, seeded.decision_id, "pa-10")
    claim(world, appeal.id, "alice", options)
    with pytest.raises(Forbidden, match="different person"):
        decide(world, appeal.id, "alice", AppealOutcome.REVERSED)
    with world.db.session() as s:
        review.release(s, appeal.case_id or 0, world.users["alice"])
    claim(world, appeal.id, "bob", options)
    with pytest.raises(InvalidInput, match="needs a note"):
        decide(world, appeal.id, "bob", AppealOutcome.REVERSED, note=" ")
    done = decide(world, appeal.id, "bob", AppealOutcome.REVERSED, note="A fundraiser, not a sale.")
    assert done.state == AppealState.REVERSED and done.decided_by_ref == world.users["bob"].pseudonym
    with world.db.reading() as s:
        restore = s.scalars(select(Action).where(Action.decision_id == done.reversal_decision_id)).all()
        assert [(a.kind, a.target, a.state) for a in restore] == [("restore", "item", "pending")]
        notice = s.scalar(select(UserNotice).where(UserNotice.key == f"appeal:{appeal.id}"))
        assert notice is not None
        body = json.loads(notice.body)
        assert body["outcome"] == "reversed" and body["why"] == "A fundraiser, not a sale."
        assert "Grievance Appellate Committee" in body["further_redress"]
        case = s.get(ReviewCase, appeal.case_id)
        assert case is not None and case.state == CaseState.DECIDED
        shown = appeals.appeal_dict(s, s.get(Appeal, appeal.id), RULES, utcnow())  # type: ignore[arg-type]
        assert shown["outcome"] == "reversed" and shown["restore_action_ids"] == [restore[0].id]
        assert shown["clock"] == "met" and shown["notice_id"] == notice.id
    with pytest.raises(Conflict):
        decide(world, appeal.id, "bob", AppealOutcome.UPHELD)


def test_an_automated_decision_goes_to_a_person_and_may_be_upheld(
    world: ReviewWorld, options: review.ReviewOptions
) -> None:
    world.user("carol", "reviewer")
    seeded = world.item(bank_category="ncii")  # automated: remove, preserve
    appeal, _ = lodge(world, seeded.decision_id, "pa-20")
    with world.db.reading() as s:
        assert s.get(Appeal, appeal.id).state == AppealState.OPEN  # type: ignore[union-attr]
        case = s.get(ReviewCase, appeal.case_id)
        assert case is not None and case.state == CaseState.OPEN and case.category == "ncii"
    claim(world, appeal.id, "carol", options)
    done = decide(world, appeal.id, "carol", AppealOutcome.UPHELD, note="The picture is intimate imagery.")
    assert done.state == AppealState.UPHELD and done.reversal_decision_id is None
    with world.db.reading() as s:
        notice = s.scalar(select(UserNotice).where(UserNotice.key == f"appeal:{appeal.id}"))
        assert notice is not None and json.loads(notice.body)["outcome"] == "upheld"


def test_a_csam_reversal_needs_a_reveal_and_a_second_person(
    world: ReviewWorld, options: review.ReviewOptions
) -> None:
    world.user("dana", "child_safety_reviewer", "lead")  # a lead too: still not her own second pair of eyes
    world.user("lee", "lead")
    world.user("plain", "reviewer")
    seeded = world.item(bank_category="csam")  # automated: remove, suspend, preserve, report
    appeal, _ = lodge(world, seeded.decision_id, "pa-30")
    with world.db.reading() as s:
        case = s.get(ReviewCase, appeal.case_id)
        assert case is not None and case.category == "csam"
    with pytest.raises(Forbidden):
        claim(world, appeal.id, "plain", options)  # may not see csam: never served it
    claim(world, appeal.id, "dana", options)
    with pytest.raises(InvalidInput, match="reveal the file first"):
        decide(world, appeal.id, "dana", AppealOutcome.REVERSED)
    claim(world, appeal.id, "dana", options)
    reveals.reveal_media(world.db, seeded.media_ids[0], world.users["dana"], options, case_id=appeal.case_id)
    waiting = decide(world, appeal.id, "dana", AppealOutcome.REVERSED, note="A benign stand-in.")
    assert waiting.state == AppealState.AWAITING_APPROVAL and waiting.reversal_decision_id is None
    with world.db.session() as s, pytest.raises(Forbidden, match="four eyes"):
        appeals.approve(s, appeal.id, world.users["dana"])
    with world.db.session() as s:
        done = appeals.approve(s, appeal.id, world.users["lee"], note="agreed")
        assert done.state == AppealState.REVERSED
        restore = s.scalars(select(Action).where(Action.decision_id == done.reversal_decision_id)).all()
        assert {(a.kind, a.target) for a in restore} == {
            (ActionKind.RESTORE, ActionTarget.ITEM),
            (ActionKind.RESTORE, ActionTarget.ACCOUNT),
        }
        events = s.scalars(select(AuditEvent.action).where(AuditEvent.subject == f"appeal:{appeal.id}")).all()
        assert list(events) == ["appeal:lodge", "appeal:decide", "appeal:approve"]


def test_a_rejected_reversal_goes_back_to_the_queue(
    world: ReviewWorld, options: review.ReviewOptions
) -> None:
    world.user("dana", "child_safety_reviewer")
    world.user("lee", "lead")
    seeded = world.item(bank_category="csam")
    appeal, _ = lodge(world, seeded.decision_id, "pa-31")
    claim(world, appeal.id, "dana", options)
    reveals.reveal_media(world.db, seeded.media_ids[0], world.users["dana"], options, case_id=appeal.case_id)
    decide(world, appeal.id, "dana", AppealOutcome.REVERSED)
    with world.db.session() as s:
        back = appeals.reject(s, appeal.id, world.users["lee"], note="the match is exact")
        assert back.state == AppealState.OPEN
        case = s.get(ReviewCase, appeal.case_id)
        assert case is not None and case.state == CaseState.OPEN
        assert (
            s.scalars(select(Decision).where(Decision.item_id == seeded.item_id)).all()[-1].verdict != "clean"
        )


def test_clocks_from_the_jurisdiction_file_with_a_fake_clock(world: ReviewWorld) -> None:
    seeded = world.item(bank_category="ncii")
    with world.db.reading() as s:
        decided_at = s.get(Decision, seeded.decision_id).created_at  # type: ignore[union-attr]
    with pytest.raises(InvalidInput, match="time to appeal"):
        lodge(world, seeded.decision_id, "pa-40", now=decided_at + timedelta(days=31))  # IN: 30 days
    received = decided_at + timedelta(days=29)
    appeal, _ = lodge(world, seeded.decision_id, "pa-41", now=received)
    assert appeal.due_at == received + timedelta(days=7)  # IN: a grievance, 7 days
    with world.db.reading() as s:  # the queue's clock runs from the appeal, not from the post
        case = s.get(ReviewCase, appeal.case_id)
        assert case is not None and case.detected_at == received
    with world.db.reading() as s:
        row = s.get(Appeal, appeal.id)
        assert row is not None
        states = [
            appeals.appeal_dict(s, row, RULES, received + timedelta(days=d))["clock"] for d in (1, 4, 8)
        ]
    assert states == ["running", "warning", "overdue"]
    eu = world.item(bank_category="ncii")
    appeal_eu, _ = lodge(
        world, eu.decision_id, "pa-42", jurisdiction="EU", now=utcnow() + timedelta(days=100)
    )
    assert appeal_eu.jurisdiction == "EU"  # EU: at least six months to appeal (DSA Art. 20(1))


def test_reversal_rates_and_flags(world: ReviewWorld, options: review.ReviewOptions) -> None:
    world.user("erin", "reviewer")
    outcomes = [AppealOutcome.REVERSED, AppealOutcome.REVERSED, AppealOutcome.UPHELD]
    for n, outcome in enumerate(outcomes):
        seeded = world.item(bank_category="ncii")
        appeal, _ = lodge(world, seeded.decision_id, f"pa-5{n}")
        claim(world, appeal.id, "erin", options)
        decide(world, appeal.id, "erin", outcome)
    with world.db.reading() as s:
        found = {(r.dimension, r.key): r for r in rates.reversal_rates(s)}
    assert (found["bank", "bank:bank-ncii"].appealed, found["bank", "bank:bank-ncii"].reversed) == (3, 2)
    assert found["tool", "hash_bank"].appealed == 3
    assert found["policy", "policy builtin-1"].rate == pytest.approx(2 / 3)
    with world.db.session() as s:
        shown = rates.flag_often_wrong(s, threshold=0.5, min_count=4, actor="user:lead", now=utcnow())
        assert not any(r.flagged for r in shown)  # too few appeals yet
    with world.db.session() as s:
        shown = rates.flag_often_wrong(s, threshold=0.5, min_count=3, actor="user:lead", now=utcnow())
        assert [r.key for r in shown if r.flagged] == ["bank:bank-ncii"]
    with world.db.session() as s:  # flagged once: one audit row however often it runs
        rates.flag_often_wrong(s, threshold=0.5, min_count=3, actor="user:lead", now=utcnow())
    with world.db.reading() as s:
        assert s.get(ReversalFlag, "bank:bank-ncii") is not None
        assert len(s.scalars(select(AuditEvent).where(AuditEvent.action == "appeals:flag")).all()) == 1
        assert [r.key for r in rates.reversal_rates(s) if r.flagged] == ["bank:bank-ncii"]
    with world.db.session() as s:
        rates.flag_often_wrong(s, threshold=0.9, min_count=3, actor="user:lead", now=utcnow())
    with world.db.reading() as s:
        assert s.get(ReversalFlag, "bank:bank-ncii") is None


def test_an_appeal_that_joined_a_case_decided_without_it_gets_its_own(
    world: ReviewWorld, options: review.ReviewOptions
) -> None:
    world.user("alice", "reviewer")
    world.user("bob", "reviewer")
    seeded = reviewer_removes(world, options, "alice")
    with world.db.session() as s:  # the item is back in a queue (a report) when the appeal comes
        item = s.get(Item, seeded.item_id)
        assert item is not None
        other = open_case(s, item, source=CaseSource.USER_REPORT).id
    appeal, _ = lodge(world, seeded.decision_id, "pa-60")
    assert appeal.case_id == other
    with world.db.session() as s:
        review.claim(s, other, world.users["bob"], options)
    with world.db.session() as s:
        choice = decisions.ReviewChoice(ViolationCategory.SALE_OR_SOLICITATION, (), note="still spam")
        decisions.decide(s, other, world.users["bob"], choice, options)
    with world.db.session() as s:
        case = appeals.claim(s, appeal.id, world.users["bob"], options)
        assert case.id != other and case.source == CaseSource.APPEAL
    done = decide(world, appeal.id, "bob", AppealOutcome.UPHELD)
    assert done.state == AppealState.UPHELD and done.case_id == case.id


def test_a_reversal_tells_the_exchange_whose_entry_matched(
    world: ReviewWorld, options: review.ReviewOptions
) -> None:
    """The entry the item matched came from an exchange that takes feedback: the reversal queues a
    false positive for its record (``suraksha.exchanges.feedback.queue_for_reversal``), once."""
    world.user("erin", "reviewer")
    seeded = world.item(bank_category="ncii")
    assert seeded.entry_id is not None
    with world.db.session() as s:
        bank_id = s.scalar(select(Bank.id).where(Bank.name == "bank-ncii"))
        exchange = Exchange(name="sn", api=ExchangeApi.STOPNCII, bank_id=bank_id, settings="{}")
        s.add(exchange)
        s.flush()
        s.add(
            ExchangeEntry(
                exchange_id=exchange.id,
                upstream_key="video_md5:" + "0" * 32,
                signal_type="md5",
                value_digest="0" * 64,
                bank_entry_id=seeded.entry_id,
            )
        )
    appeal, _ = lodge(world, seeded.decision_id, "pa-fb-1")
    claim(world, appeal.id, "erin", options)
    decide(world, appeal.id, "erin", AppealOutcome.REVERSED)
    with world.db.reading() as s:
        jobs = list(s.scalars(select(Job).where(Job.kind == FEEDBACK)))
    assert [(j.payload["verdict"], j.payload["appeal_id"]) for j in jobs] == [("false_positive", appeal.id)]
