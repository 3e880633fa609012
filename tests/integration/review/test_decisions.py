"""Review decisions: carried out through enforcement as a reviewer's decision, four-eyes approval of
reports and suspensions (the report.prepare job and the report request it leads to), rejection,
false positives onto the allow list, and choices that do not hang together."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from sqlalchemy import select, update

from suraksha.audit import AuditAction, AuditEvent
from suraksha.banks.models import Bank, BankEntry, BankKind
from suraksha.content.models import Account, Item
from suraksha.enforcement.models import Action, ActionKind, ActionState, DecidedBy, Decision
from suraksha.errors import Conflict, Forbidden, InvalidInput
from suraksha.reporting.models import (
    CyberTiplineReport,
    CyberTiplineReportFile,
    ReportState,
)
from suraksha.reporting.review_link import IMMEDIATE_RISK, request_from_review
from suraksha.reporting.services import prepare_report
from suraksha.review import decisions, reveals
from suraksha.review import services as review
from suraksha.review.decisions import PREPARE
from suraksha.review.models import (
    ApprovalState,
    CaseState,
    IndustryClassification,
    ReviewCase,
    ViolationCategory,
)
from suraksha.worker.models import Job

from .conftest import ReviewWorld, Seeded

CSAM_REPORT = decisions.ReviewChoice(
    violation=ViolationCategory.CSAM,
    actions=(ActionKind.REMOVE, ActionKind.SUSPEND),
    industry_classification=IndustryClassification.A2,
    report_to_clearinghouse=True,
    child_at_immediate_risk=True,
    note="confirmed",
)


def _case(world: ReviewWorld, seeded: Seeded) -> ReviewCase:
    with world.db.reading() as s:
        case = s.scalar(select(ReviewCase).where(ReviewCase.item_id == seeded.item_id))
        assert case is not None
        return case


def _claim_reveal_decide(
    world: ReviewWorld,
    seeded: Seeded,
    reviewer: str,
    choice: decisions.ReviewChoice,
    options: review.ReviewOptions,
) -> int:
    user = world.users[reviewer]
    case = _case(world, seeded)
    with world.db.session() as s:
        review.claim(s, case.id, user, options)
    reveals.reveal_media(world.db, seeded.media_ids[0], user, options, case_id=case.id)
    with world.db.session() as s:
        return decisions.decide(s, case.id, user, choice, options).id


def _actions(world: ReviewWorld, decision_id: int | None) -> dict[str, str]:
    with world.db.reading() as s:
        return {a.kind: a.state for a in s.scalars(select(Action).where(Action.decision_id == decision_id))}


def test_four_eyes_report_and_suspension(world: ReviewWorld, options: review.ReviewOptions) -> None:
    seeded = world.item(bank_category="csam")
    cas = world.user("cas", "child_safety_reviewer")
    other = world.user("oth", "child_safety_reviewer")
    lead = world.user("lee", "lead")
    rd_id = _claim_reveal_decide(world, seeded, "cas", CSAM_REPORT, options)
    with world.db.reading() as s:
        rd = s.get(decisions.ReviewDecision, rd_id)
        assert rd is not None and rd.approval_state == ApprovalState.PENDING
        decision = s.get(Decision, rd.decision_id)
        assert decision is not None
        assert (decision.decided_by, decision.decided_by_ref, decision.automated) == (
            DecidedBy.REVIEWER,
            "r-cas",
            False,
        )
        assert _case(world, seeded).state == CaseState.AWAITING_APPROVAL
        assert [d.id for d in decisions.approval_queue(s, approver=lead)] == [rd_id]
        assert decisions.approval_queue(s, approver=cas) == []
        assert request_from_review(s, rd_id) is None  # nothing to report before the approval
        assert s.scalar(select(Job).where(Job.kind == PREPARE)) is None
    # removal at once: recorded, not sent again (automated enforcement removed the matched item)
    assert _actions(world, rd.decision_id) == {"remove": ActionState.ALREADY_TAKEN}
    for refused in (cas, other):  # the decider; someone without decision:approve
        with world.db.session() as s, pytest.raises(Forbidden):
            decisions.approve(s, rd_id, refused)
    with world.db.session() as s:
        decisions.approve(s, rd_id, lead, note="agreed")
    assert _actions(world, rd.decision_id) == {
        "remove": ActionState.ALREADY_TAKEN,
        "suspend": ActionState.ALREADY_TAKEN,
        "report": ActionState.INTERNAL,
    }
    with world.db.session() as s, pytest.raises(Conflict):
        decisions.approve(s, rd_id, lead)
    with world.db.session() as s:
        [job] = s.scalars(select(Job).where(Job.kind == PREPARE))
        assert job.payload == {"review_decision_id": rd_id}
        assert _case(world, seeded).state == CaseState.DECIDED
        request = request_from_review(s, rd_id)
        assert request is not None
        assert request.decision_ids == (rd.decision_id,)
        assert request.approved_by == ("r-lee",) and request.escalate_reason == IMMEDIATE_RISK
        assert [v.viewer for v in request.views] == ["r-cas"]
        assert request.classifications == {seeded.media_ids[0]: IndustryClassification.A2}
        [report] = prepare_report(s, request, actor="system:reporting")
        assert report.state == ReportState.APPROVED
    with world.db.reading() as s:
        [row] = s.scalars(select(CyberTiplineReportFile))
        assert row.viewed_by_esp and row.industry_classification == "A2"
        assert s.get(CyberTiplineReport, report.id) is not None
        actions = [e.action for e in s.scalars(select(AuditEvent).order_by(AuditEvent.id))]
        assert AuditAction.DECISION_RECORD in actions and review.ReviewAudit.APPROVE in actions


def test_rejection_sends_the_case_back(world: ReviewWorld, options: review.ReviewOptions) -> None:
    seeded = world.item(bank_category="csam")
    world.user("cas", "child_safety_reviewer")
    lead = world.user("lee", "lead")
    rd_id = _claim_reveal_decide(world, seeded, "cas", CSAM_REPORT, options)
    with world.db.session() as s, pytest.raises(InvalidInput):
        decisions.reject(s, rd_id, lead, note=" ")
    with world.db.session() as s:
        assert (
            decisions.reject(s, rd_id, lead, note="classification unclear").approval_state
            == ApprovalState.REJECTED
        )
    assert _case(world, seeded).state == CaseState.OPEN
    with world.db.reading() as s:
        rd = s.get(decisions.ReviewDecision, rd_id)
        assert rd is not None and request_from_review(s, rd_id) is None
        assert s.scalar(select(Job).where(Job.kind == PREPARE)) is None
    assert "suspend" not in _actions(world, rd.decision_id)


def test_without_four_eyes_the_report_is_queued_at_once(
    world: ReviewWorld, options: review.ReviewOptions
) -> None:
    seeded = world.item(bank_category="csam")
    world.user("cas", "child_safety_reviewer")
    solo = replace(options, four_eyes=frozenset({"ncii"}))
    rd_id = _claim_reveal_decide(world, seeded, "cas", CSAM_REPORT, solo)
    with world.db.reading() as s:
        request = request_from_review(s, rd_id)
        assert request is not None and request.approved_by == ("r-cas",)
        assert s.scalar(select(Job).where(Job.kind == PREPARE)) is not None
    assert _case(world, seeded).state == CaseState.DECIDED


def test_false_positive_restores_and_allow_lists(world: ReviewWorld, options: review.ReviewOptions) -> None:
    seeded = world.item(rule_category="solicitation")  # not CSAM: one person may clear it
    world.user("ria", "reviewer")
    choice = decisions.ReviewChoice(violation=ViolationCategory.BENIGN, allow_list=True, note="a sunset")
    rd_id = _claim_reveal_decide(world, seeded, "ria", choice, options)
    with world.db.reading() as s:
        rd = s.get(decisions.ReviewDecision, rd_id)
        assert rd is not None and rd.approval_state == ApprovalState.NOT_NEEDED
        allow = s.scalar(select(Bank).where(Bank.name == options.allow_list_bank))
        assert allow is not None and allow.kind == BankKind.ALLOW
        assert len(list(s.scalars(select(BankEntry).where(BankEntry.bank_id == allow.id)))) == 1
        assert s.scalar(select(AuditEvent).where(AuditEvent.action == AuditAction.BANK_CHANGE)) is not None
    assert _case(world, seeded).state == CaseState.DECIDED


def test_unblocking_a_csam_hash_needs_a_reveal_and_a_second_person(
    world: ReviewWorld, options: review.ReviewOptions
) -> None:
    """A child-safety reviewer's "benign + allow list" on a CSAM match used to disable the entry,
    allow-list the file and restore the item and account at once, without a reveal or an approval."""
    seeded = world.item(bank_category="csam")
    assert _account(world, seeded).suspended_at is not None
    cas = world.user("cas", "child_safety_reviewer")
    lead = world.user("lee", "lead")
    no_four_eyes = replace(options, four_eyes=frozenset())  # not even switching four eyes off opens it
    choice = decisions.ReviewChoice(violation=ViolationCategory.BENIGN, allow_list=True, note="a sunset")
    case = _case(world, seeded)
    with world.db.session() as s:
        review.claim(s, case.id, cas, no_four_eyes)
    with world.db.session() as s, pytest.raises(InvalidInput, match="reveal the file first"):
        decisions.decide(s, case.id, cas, choice, no_four_eyes)
    reveals.reveal_media(world.db, seeded.media_ids[0], cas, no_four_eyes, case_id=case.id)
    with world.db.session() as s:
        rd_id = decisions.decide(s, case.id, cas, choice, no_four_eyes).id
    with world.db.reading() as s:
        rd = s.get(decisions.ReviewDecision, rd_id)
        assert rd is not None and rd.approval_state == ApprovalState.PENDING
        matched = s.get(BankEntry, seeded.entry_id)
        assert matched is not None and matched.enabled and matched.deconfirm_count == 0
        assert s.scalar(select(Bank).where(Bank.name == options.allow_list_bank)) is None
        assert [d.id for d in decisions.approval_queue(s, approver=lead)] == [rd_id]
    assert _actions(world, rd.decision_id) == {}  # nothing restored yet
    assert _account(world, seeded).suspended_at is not None
    assert _case(world, seeded).state == CaseState.AWAITING_APPROVAL
    with world.db.session() as s, pytest.raises(Forbidden):
        decisions.approve(s, rd_id, cas)
    with world.db.session() as s:
        decisions.approve(s, rd_id, lead, note="checked: a sunset", options=no_four_eyes)
    with world.db.reading() as s:
        matched = s.get(BankEntry, seeded.entry_id)
        assert matched is not None and not matched.enabled and matched.deconfirm_count == 1
        allow = s.scalar(select(Bank).where(Bank.name == options.allow_list_bank))
        assert allow is not None and allow.kind == BankKind.ALLOW
        change = s.scalar(select(AuditEvent).where(AuditEvent.action == AuditAction.BANK_CHANGE))
        assert change is not None and change.actor == "user:r-lee"
        assert json.loads(change.details)["decided_by"] == "r-cas"
    assert _targets(world, rd.decision_id) == {("restore", "item"), ("restore", "account")}
    assert _account(world, seeded).suspended_at is None
    assert _case(world, seeded).state == CaseState.DECIDED


def test_restoring_what_csam_enforcement_removed_waits_for_approval(
    world: ReviewWorld, options: review.ReviewOptions
) -> None:
    seeded = world.item(bank_category="csam")
    world.user("cas", "child_safety_reviewer")
    lead = world.user("lee", "lead")
    choice = decisions.ReviewChoice(violation=ViolationCategory.BENIGN, note="a sunset")  # no allow list
    rd_id = _claim_reveal_decide(world, seeded, "cas", choice, options)
    with world.db.reading() as s:
        rd = s.get(decisions.ReviewDecision, rd_id)
        assert rd is not None and rd.approval_state == ApprovalState.PENDING and rd.actions == "restore"
    assert _actions(world, rd.decision_id) == {}
    with world.db.session() as s:
        decisions.reject(s, rd_id, lead, note="that is not a sunset")
    assert _actions(world, rd.decision_id) == {}  # rejected: nothing is restored
    assert _account(world, seeded).suspended_at is not None


def _account(world: ReviewWorld, seeded: Seeded) -> Account:
    with world.db.reading() as s:
        item = s.get(Item, seeded.item_id)
        assert item is not None
        account = s.get(Account, item.account_id)
        assert account is not None
        return account


def _targets(world: ReviewWorld, decision_id: int | None) -> set[tuple[str, str]]:
    with world.db.reading() as s:
        rows = s.scalars(select(Action).where(Action.decision_id == decision_id))
        return {(a.kind, a.target) for a in rows}


def test_false_positive_lifts_the_automated_suspension(
    world: ReviewWorld, options: review.ReviewOptions
) -> None:
    seeded = world.item(bank_category="csam")
    assert _account(world, seeded).suspended_at is not None  # the policy suspended it automatically
    world.user("cas", "child_safety_reviewer")
    lead = world.user("lee", "lead")
    choice = decisions.ReviewChoice(violation=ViolationCategory.BENIGN, note="a sunset")
    rd_id = _claim_reveal_decide(world, seeded, "cas", choice, options)
    with world.db.session() as s:
        decision_id = decisions.approve(s, rd_id, lead).decision_id  # a CSAM restore needs four eyes
    assert _targets(world, decision_id) == {("restore", "item"), ("restore", "account")}
    assert _account(world, seeded).suspended_at is None


def test_a_suspension_another_violation_justifies_stays(
    world: ReviewWorld, options: review.ReviewOptions
) -> None:
    first = world.item(bank_category="csam")
    second = world.item(bank_category="csam")
    shared = _account(world, first).id
    with world.db.session() as s:  # both items are the same account's
        s.execute(update(Item).where(Item.id == second.item_id).values(account_id=shared))
        s.execute(update(Action).where(Action.item_id == second.item_id).values(account_id=shared))
    world.user("cas", "child_safety_reviewer")
    lead = world.user("lee", "lead")
    choice = decisions.ReviewChoice(violation=ViolationCategory.BENIGN, note="this one is a sunset")
    rd_id = _claim_reveal_decide(world, first, "cas", choice, options)
    with world.db.session() as s:
        decision_id = decisions.approve(s, rd_id, lead).decision_id
    assert _targets(world, decision_id) == {("restore", "item")}
    assert _account(world, first).suspended_at is not None


def test_choices_that_do_not_hang_together(world: ReviewWorld, options: review.ReviewOptions) -> None:
    seeded = world.item(rule_category="solicitation")
    ria = world.user("ria", "reviewer")
    case = _case(world, seeded)
    with world.db.session() as s, pytest.raises(Conflict):  # not claimed
        decisions.decide(s, case.id, ria, decisions.ReviewChoice(ViolationCategory.BENIGN), options)
    with world.db.session() as s:
        review.claim(s, case.id, ria, options)
    bad = [
        decisions.ReviewChoice(ViolationCategory.BENIGN, actions=(ActionKind.REMOVE,)),
        decisions.ReviewChoice(
            ViolationCategory.SEXUAL_VIOLENCE, industry_classification=IndustryClassification.A1
        ),
        decisions.ReviewChoice(ViolationCategory.SALE_OR_SOLICITATION, actions=(ActionKind.WITHHOLD,)),
        decisions.ReviewChoice(ViolationCategory.SALE_OR_SOLICITATION, child_at_immediate_risk=True),
        decisions.ReviewChoice(
            ViolationCategory.CSAM, industry_classification=IndustryClassification.B1
        ),  # unseen
        decisions.ReviewChoice(ViolationCategory.INTIMATE_IMAGERY, allow_list=True),
    ]
    for choice in bad:
        with world.db.session() as s, pytest.raises(InvalidInput):
            decisions.decide(s, case.id, ria, choice, options)
    withhold = decisions.ReviewChoice(
        ViolationCategory.SALE_OR_SOLICITATION, actions=(ActionKind.WITHHOLD,), countries=("IN", "DE")
    )
    with world.db.session() as s:
        rd = decisions.decide(s, case.id, ria, withhold, options)
    with world.db.reading() as s:
        [action] = s.scalars(select(Action).where(Action.decision_id == rd.decision_id))
        assert (action.kind, action.countries, action.automated) == ("withhold", "IN DE", False)
        assert [d.id for d in decisions.decisions_for_item(s, seeded.item_id)] == [rd.id]


def test_approved_report_is_prepared_by_the_worker(world: ReviewWorld, options: review.ReviewOptions) -> None:
    from suraksha.reporting import tasks as reporting_tasks
    from suraksha.reporting.services import ReportOptions
    from suraksha.worker.handlers import HandlerRegistry
    from suraksha.worker.models import JobState
    from suraksha.worker.policy import WorkerConfig
    from suraksha.worker.runner import Worker

    seeded = world.item(bank_category="csam")
    world.user("cas", "child_safety_reviewer")
    lead = world.user("lee", "lead")
    rd_id = _claim_reveal_decide(world, seeded, "cas", CSAM_REPORT, options)
    with world.db.session() as s:
        decisions.approve(s, rd_id, lead)

    def no_submitter() -> reporting_tasks.ReportSubmitter:
        raise AssertionError("this test runs report.prepare only")

    registry = HandlerRegistry()
    reporting_tasks.register(
        registry, world.db, no_submitter, ReportOptions(reporter=None, bundle_window_s=0), None
    )
    config = WorkerConfig(lease_s=30, poll_interval_s=0.05, idle_sleep_min_s=0.01, keep_done_s=None)
    Worker(world.db.sessions, registry, kinds=[PREPARE], config=config).run_once()
    with world.db.reading() as s:
        [job] = s.scalars(select(Job).where(Job.kind == PREPARE))
        assert job.state == JobState.DONE
        [report] = s.scalars(select(CyberTiplineReport))
        assert report.state == ReportState.APPROVED and report.approved_by == "r-lee"
        assert report.escalate_reason == IMMEDIATE_RISK
        [row] = s.scalars(select(CyberTiplineReportFile))
        assert row.viewed_by_esp and row.review_decision_id == rd_id
