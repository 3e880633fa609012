"""Cases open with the decisions that need a person; queues filter and count them; claims are
exclusive and expire; release, reassign and escalate."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from suraksha.audit import AuditEvent
from suraksha.db import Database
from suraksha.enforcement.models import Decision
from suraksha.errors import Conflict, Forbidden
from suraksha.review import services as review
from suraksha.review.models import CaseSource, CaseState, ReviewCase

from .conftest import ReviewWorld


def _cases(db: Database, item_id: int) -> list[ReviewCase]:
    with db.reading() as s:
        return list(s.scalars(select(ReviewCase).where(ReviewCase.item_id == item_id)))


def test_decisions_that_need_a_person_open_one_case(world: ReviewWorld) -> None:
    csam = world.item(bank_category="csam")
    rule = world.item(rule_category="solicitation")
    flagged = world.item(reporter_kind="trusted_flagger")
    ncii = world.item(bank_category="ncii")  # automated removal without a report: no case

    [case] = _cases(world.db, csam.item_id)
    assert (case.source, case.category, case.state, case.priority) == (
        CaseSource.AUTOMATED_MATCH,
        "csam",
        CaseState.OPEN,
        100,
    )
    assert case.decision_id == csam.decision_id and case.open_item_id == csam.item_id
    assert [c.source for c in _cases(world.db, rule.item_id)] == [CaseSource.RULE]
    assert [c.source for c in _cases(world.db, flagged.item_id)] == [CaseSource.TRUSTED_FLAGGER]
    assert _cases(world.db, ncii.item_id) == []


def test_one_open_case_per_item(world: ReviewWorld) -> None:
    seeded = world.item(rule_category="solicitation")
    with world.db.session() as s:
        from suraksha.content.models import Item
        from suraksha.review.cases import open_case_for_decision

        item = s.get(Item, seeded.item_id)
        decision = s.get(Decision, seeded.decision_id)
        assert item is not None and decision is not None
        again = open_case_for_decision(s, item, decision, ())
        assert again is not None
    assert len(_cases(world.db, seeded.item_id)) == 1


def test_queue_filters_order_and_summary(world: ReviewWorld, options: review.ReviewOptions) -> None:
    old = datetime.now(UTC) - timedelta(hours=5)
    world.item(rule_category="solicitation", received_at=old)
    world.item(bank_category="csam")
    world.item(reporter_kind="user")
    reviewer = world.user("ria", "reviewer")
    specialist = world.user("cas", "child_safety_reviewer")
    with world.db.reading() as s:
        everything = review.list_queue(s)
        assert everything[0].category == "csam"  # highest priority first
        assert [c.source for c in review.list_queue(s, source=CaseSource.USER_REPORT)] == ["user_report"]
        # a reviewer without media:reveal_csam is never served csam cases
        assert "csam" not in {c.category for c in review.list_queue(s, reviewer=reviewer, options=options)}
        assert "csam" in {c.category for c in review.list_queue(s, reviewer=specialist, options=options)}
        summary = {(q.category, q.source): q for q in review.queue_summary(s)}
    rule_queue = summary[("solicitation", "rule")]
    assert rule_queue.count == 1 and rule_queue.oldest_detected_at is not None
    assert abs((rule_queue.oldest_detected_at - old).total_seconds()) < 1


def test_claim_is_exclusive_and_expires(world: ReviewWorld, options: review.ReviewOptions) -> None:
    seeded = world.item(rule_category="solicitation")
    [case] = _cases(world.db, seeded.item_id)
    ria, sam = world.user("ria", "reviewer"), world.user("sam", "reviewer")
    now = datetime.now(UTC)
    with world.db.session() as s:
        claimed = review.claim(s, case.id, ria, options, now=now)
        assert claimed.state == CaseState.CLAIMED and claimed.claimed_by_id == ria.id
        assert [c.id for c in review.held_by(s, ria, now=now)] == [case.id]
        assert review.held_by(s, ria, now=now + timedelta(minutes=16)) == []
    with world.db.session() as s, pytest.raises(Conflict):
        review.claim(s, case.id, sam, options, now=now + timedelta(minutes=5))
    with world.db.session() as s:  # the claim lapsed: another reviewer may take it
        assert review.claim(s, case.id, sam, options, now=now + timedelta(minutes=16)).claimed_by_id == sam.id
    with world.db.reading() as s:
        claims = s.scalar(select(func.count()).where(AuditEvent.action == review.ReviewAudit.CLAIM))
    assert claims == 2


def test_csam_case_refused_to_a_reviewer(world: ReviewWorld, options: review.ReviewOptions) -> None:
    seeded = world.item(bank_category="csam")
    [case] = _cases(world.db, seeded.item_id)
    reviewer = world.user("ria", "reviewer")
    with world.db.session() as s, pytest.raises(Forbidden):
        review.claim(s, case.id, reviewer, options)


def test_release_reassign_escalate(world: ReviewWorld, options: review.ReviewOptions) -> None:
    seeded = world.item(rule_category="solicitation")
    [case] = _cases(world.db, seeded.item_id)
    ria, sam = world.user("ria", "reviewer"), world.user("sam", "reviewer")
    lead = world.user("lee", "lead")
    with world.db.session() as s:
        review.claim(s, case.id, ria, options)
    with world.db.session() as s, pytest.raises(Forbidden):
        review.release(s, case.id, sam)  # not the holder, not a lead
    with world.db.session() as s:
        assert review.release(s, case.id, ria).state == CaseState.OPEN
    with world.db.session() as s, pytest.raises(Forbidden):
        review.reassign(s, case.id, ria, sam, options)
    with world.db.session() as s:
        assert review.reassign(s, case.id, lead, sam, options).claimed_by_id == sam.id
    with world.db.session() as s, pytest.raises(Conflict):
        review.escalate(s, case.id, ria, "not mine")
    with world.db.session() as s:
        assert review.escalate(s, case.id, sam, "needs a lead's eye").state == CaseState.ESCALATED
    with world.db.reading() as s:
        assert case.id not in {c.id for c in review.list_queue(s, reviewer=ria, options=options)}
        assert case.id in {c.id for c in review.list_queue(s, reviewer=lead, options=options)}
    with world.db.session() as s, pytest.raises(Forbidden):
        review.claim(s, case.id, ria, options)
    with world.db.session() as s:
        assert review.claim(s, case.id, lead, options).claimed_by_id == lead.id


@pytest.mark.postgres
def test_two_concurrent_claims_exactly_one_wins(
    postgres_database_url: str, options: review.ReviewOptions
) -> None:
    from suraksha.db import open_database
    from suraksha.testing.database import truncate_all

    db = open_database(postgres_database_url)
    try:
        world = ReviewWorld(db)
        seeded = world.item(rule_category="solicitation")
        [case] = _cases(db, seeded.item_id)
        users = [world.user(f"c{n}", "reviewer") for n in range(2)]
        barrier = threading.Barrier(2)
        outcomes: list[str] = []

        def attempt(user_index: int) -> None:
            try:
                with db.session() as s:
                    barrier.wait(timeout=10)
                    review.claim(s, case.id, users[user_index], options)
                outcomes.append("won")
            except Conflict:
                outcomes.append("lost")

        for _round in range(5):
            outcomes.clear()
            with db.session() as s:
                c = s.get(ReviewCase, case.id)
                assert c is not None
                c.state, c.claimed_by_id, c.claim_expires_at = CaseState.OPEN, None, None
            threads = [threading.Thread(target=attempt, args=(i,)) for i in range(2)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(timeout=30)
            assert sorted(outcomes) == ["lost", "won"]
    finally:
        truncate_all(db)
        db.dispose()


def test_not_checked_items_are_queued(world: ReviewWorld) -> None:
    from suraksha.app import DECISION_FOLLOW_UPS
    from suraksha.content.models import Account, Item, ItemKind
    from suraksha.enforcement import services as enforcement
    from suraksha.enforcement.policy import BUILTIN, Findings, decide

    with world.db.session() as s:
        account = Account(platform_account_id="acct-nc", handle="nc")
        s.add(account)
        s.flush()
        item = Item(
            platform_item_id="item-nc", payload_digest="0" * 64, kind=ItemKind.POST, account_id=account.id
        )
        s.add(item)
        s.flush()
        assert enforcement.claim_for_decision(s, item.id)
        enforcement.record_decision(
            s, item, decide(BUILTIN, Findings(not_checked=["decode failed"])), follow_ups=DECISION_FOLLOW_UPS
        )
        item_id = item.id
    assert [c.source for c in _cases(world.db, item_id)] == [CaseSource.NOT_CHECKED]


def test_dashboard_figures(world: ReviewWorld, options: review.ReviewOptions) -> None:
    from suraksha.review.dashboard import dashboard

    world.item(bank_category="csam")
    world.item(rule_category="solicitation")
    with world.db.reading() as s:
        figures = dashboard(s, options, hours=2)
    assert sum(q.count for q in figures.queues) == 2 and figures.oldest_detected_at is not None
    assert len(figures.decisions_per_hour) == 3
    assert sum(h.automated for h in figures.decisions_per_hour) == 2  # both decided by the policy
    assert sum(h.human for h in figures.decisions_per_hour) == 0
    assert figures.awaiting_approval == 0 and figures.exposure == []


def test_case_context_explains_and_links(world: ReviewWorld) -> None:
    from suraksha.content.entities import AccountEntity, Entity
    from suraksha.content.models import Item, ItemMedia
    from suraksha.review.context import case_context

    first = world.item(bank_category="csam")
    second = world.item(rule_category="solicitation")
    ria = world.user("ria", "reviewer")
    cas = world.user("cas", "child_safety_reviewer")
    aud = world.user("aud", "auditor")
    with world.db.session() as s:
        item1, item2 = s.get(Item, first.item_id), s.get(Item, second.item_id)
        assert item1 is not None and item2 is not None
        media2 = s.get(ItemMedia, second.media_ids[0])
        assert media2 is not None
        media2.sha256 = item1.media[0].sha256  # the same file posted by another account
        entity = Entity(kind="upi", value="someone@bank")
        s.add(entity)
        s.flush()
        s.add_all(
            [AccountEntity(account_id=a, entity_id=entity.id) for a in (item1.account_id, item2.account_id)]
        )
        account2, handle2 = item2.account_id, item2.account.handle
    case = _cases(world.db, first.item_id)[0]
    with world.db.reading() as s:
        context = case_context(s, case.id, cas)
        assert [m.bank_category for m in context.matches] == ["csam"]
        assert [d.id for d in context.account_decisions] == [first.decision_id]
        assert [(a.account_id, a.handle, a.via) for a in context.linked_accounts] == [
            (account2, handle2, "media")
        ]
        with pytest.raises(Forbidden):
            case_context(s, case.id, aud)
        with pytest.raises(Forbidden, match="media:reveal_csam"):  # a csam-bank match: not for ria
            case_context(s, case.id, ria)
