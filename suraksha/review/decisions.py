"""Reviewers' decisions and their four-eyes approvals, carried out through enforcement.

Business rules applied by ``decide``:
- Only the holder of an unexpired claim on the case decides, and only with ``item:decide``.
- The choice must hang together (``check_choice``): an industry classification only for CSAM and only
  from a reviewer who revealed at least one of the item's files; a clearinghouse report never for a
  benign item; "child at immediate risk" only with a report; withhold needs countries; a benign (false
  positive) decision takes no action but restore, and may add the hashes to the allow list.
- The actions are an enforcement Decision (``decided_by=reviewer``, ``decided_by_ref`` = the reviewer's
  pseudonym, ``automated=False``) with one Action each. A benign decision about an item that automated
  enforcement acted on adds ``restore``: the reversal goes to the platform. When automated enforcement
  suspended the account for that item alone, the account is restored too (``_lifts_suspension``).
- Four eyes: a clearinghouse report and a permanent suspension (``suspend``) need a second person's
  approval when the case's category is listed in ``review_four_eyes`` (``*``: all). Until then they
  are not carried out; everything else is carried out at once. The approver holds
  ``decision:approve`` and is not the reviewer who decided.
- An approved (or approval-free) report adds the internal ``report`` action and queues
  ``report.prepare {"review_decision_id": id}`` in the same transaction.
- A false positive with ``allow_list`` adds the item's MD5 and PDQ hashes to the allow-list bank
  (``review_allow_list_bank``, created when missing) and disables (deconfirms) the bank entries that
  matched, audited as ``bank:change``.
- Un-blocking a CSAM hash is never one person's call: a benign decision that would allow-list or
  disable anything matched from a ``csam`` bank, or restore what automated enforcement removed on a
  ``csam`` finding (``touches_csam``), is taken only by a reviewer who revealed the item's file (a
  recorded human view), and waits for a second person's approval whatever ``review_four_eyes`` says.
  Until then the hashes stay blocked and the item and account stay removed and suspended.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from suraksha import audit
from suraksha.access.models import ConsoleUser
from suraksha.banks import services as banks
from suraksha.banks.models import Bank, BankCategory, BankEntry, BankKind
from suraksha.content.models import Item, ItemMatch, ItemState
from suraksha.db.base import utcnow
from suraksha.enforcement import services as enforcement
from suraksha.enforcement.models import Action, ActionKind, ActionTarget, DecidedBy, Decision, Verdict
from suraksha.errors import Conflict, Forbidden, InvalidInput, NotFound
from suraksha.exchanges.feedback import queue_for_decision as queue_exchange_feedback
from suraksha.permissions import Permission
from suraksha.review.models import (
    ApprovalState,
    CaseState,
    HumanView,
    IndustryClassification,
    ReviewCase,
    ReviewDecision,
    ViolationCategory,
)
from suraksha.review.services import ReviewAudit, ReviewOptions, actor, held_claim, require, reveal_permission
from suraksha.signals.types import SignalKind
from suraksha.worker.queue import enqueue

log = logging.getLogger(__name__)

PREPARE = "report.prepare"
"""The job that asks reporting to prepare the clearinghouse report of a review decision
(``{"review_decision_id": id}``; handled in ``suraksha.reporting.tasks``): review sits below reporting
and reaches it through this job only."""

CASE_DECIDED = "review.case_decided"
"""The job a case closed by a reviewer's decision queues (``{"case_id", "review_decision_id"}``, once
per review decision): the areas above review that wait on a case (a trusted flagger's notice,
``suraksha.flaggers.tasks``) take the decision from there, as review may not import them."""

REVIEWER_ACTIONS = frozenset(
    {ActionKind.REMOVE, ActionKind.RESTRICT, ActionKind.SUSPEND, ActionKind.WITHHOLD, ActionKind.RESTORE}
)
"""What a reviewer may choose (preserve and report are carried out by Suraksha itself)."""
NEEDS_APPROVAL = frozenset({ActionKind.SUSPEND})
"""Platform actions that wait for the second pair of eyes (a suspension is permanent)."""
REVERSIBLE = frozenset({ActionKind.REMOVE, ActionKind.RESTRICT, ActionKind.WITHHOLD})
MAX_NOTE = 4000


@dataclass(frozen=True)
class ReviewChoice:
    """What the reviewer chose on the decision form."""

    violation: ViolationCategory
    actions: tuple[ActionKind, ...] = ()
    countries: tuple[str, ...] = ()
    industry_classification: IndustryClassification | None = None
    report_to_clearinghouse: bool = False
    child_at_immediate_risk: bool = False
    allow_list: bool = False
    note: str = ""


def check_choice(choice: ReviewChoice) -> None:
    """InvalidInput naming what does not hang together (rules in the module docstring)."""
    problems = []
    try:
        violation = ViolationCategory(choice.violation)
    except ValueError:
        raise InvalidInput(
            f"violation {choice.violation!r} is not one of {', '.join(v.value for v in ViolationCategory)}"
        ) from None
    unknown = [str(a) for a in choice.actions if a not in REVIEWER_ACTIONS]
    if unknown:
        problems.append(
            f"actions {unknown} cannot be chosen (choose from remove, restrict, suspend, withhold, restore)"
        )
    if choice.industry_classification is not None and violation != ViolationCategory.CSAM:
        problems.append("an industry classification (A1/A2/B1/B2) is given for CSAM only")
    if violation == ViolationCategory.BENIGN:
        if set(choice.actions) - {ActionKind.RESTORE}:
            problems.append("a benign (false positive) decision takes no action but restore")
        if choice.report_to_clearinghouse:
            problems.append("a benign item is never reported to the clearinghouse")
    elif choice.allow_list:
        problems.append("only a benign (false positive) decision may add hashes to the allow list")
    if choice.child_at_immediate_risk and not choice.report_to_clearinghouse:
        problems.append("'child at immediate risk' goes with a clearinghouse report: tick both")
    withhold = ActionKind.WITHHOLD in choice.actions
    if withhold and not choice.countries:
        problems.append("withhold needs the countries to withhold in")
    if choice.countries and not withhold:
        problems.append("countries are given for withhold only")
    bad = [c for c in choice.countries if len(c) != 2 or not c.isalpha() or not c.isupper()]
    if bad:
        problems.append(f"countries are ISO 3166-1 alpha-2 codes (e.g. IN, US), not {bad}")
    if len(choice.note) > MAX_NOTE:
        problems.append(f"the note is {len(choice.note)} characters, over {MAX_NOTE}")
    if problems:
        raise InvalidInput("; ".join(problems))


def _automated_actions(session: Session, item_id: int) -> list[Action]:
    return list(
        session.scalars(
            select(Action).where(
                Action.item_id == item_id, Action.automated.is_(True), Action.kind.in_(sorted(REVERSIBLE))
            )
        )
    )


def _lifts_suspension(session: Session, item: Item) -> bool:
    """Whether a false positive on ``item`` lifts its account's suspension: only when automated
    enforcement suspended the account for this item, and no other item of the account still stands
    as a violation that suspended it (its latest decision is not clean). A suspension a person chose,
    or one another item also justifies, stays until a person lifts it."""
    suspended_here = session.scalar(
        select(Action.id)
        .where(Action.item_id == item.id, Action.kind == ActionKind.SUSPEND, Action.automated.is_(True))
        .limit(1)
    )
    if suspended_here is None:
        return False
    others = set(
        session.scalars(
            select(Action.item_id).where(
                Action.account_id == item.account_id,
                Action.kind == ActionKind.SUSPEND,
                Action.item_id != item.id,
            )
        )
    )
    for other in others:
        latest = session.scalar(
            select(Decision.verdict).where(Decision.item_id == other).order_by(Decision.id.desc()).limit(1)
        )
        if latest != Verdict.CLEAN:
            return False
    return True


def decide(
    session: Session,
    case_id: int,
    reviewer: ConsoleUser,
    choice: ReviewChoice,
    options: ReviewOptions,
    *,
    now: datetime | None = None,
) -> ReviewDecision:
    """Record the reviewer's decision on a case they hold and carry out what needs no second approval
    (rules in the module docstring). Returns the ReviewDecision (``approval_state`` says whether the
    rest waits for a second person)."""
    now = now or utcnow()
    require(reviewer, Permission.ITEM_DECIDE)
    check_choice(choice)
    case = held_claim(session, case_id, reviewer, now)
    item = session.get(Item, case.item_id)
    assert item is not None
    if choice.industry_classification is not None and not _has_viewed(session, reviewer.id, item.id):
        raise InvalidInput(
            "an industry classification is given only by someone who saw the file: reveal it first"
        )
    actions = list(dict.fromkeys(choice.actions))
    benign = choice.violation == ViolationCategory.BENIGN
    if benign and ActionKind.RESTORE not in actions and _automated_actions(session, item.id):
        actions.append(ActionKind.RESTORE)
    unblocks_csam = (choice.allow_list or ActionKind.RESTORE in actions) and touches_csam(
        session, item.id, case.category
    )
    if unblocks_csam and not _has_viewed(session, reviewer.id, item.id):
        raise InvalidInput(
            "this would un-block a CSAM match (allow-list or disable its hashes, or restore what was "
            "removed): reveal the file first; a second person then approves the decision"
        )
    consequential = choice.report_to_clearinghouse or any(a in NEEDS_APPROVAL for a in actions)
    needs_approval = unblocks_csam or (consequential and options.needs_second_approval(case.category))
    waits = NEEDS_APPROVAL | ({ActionKind.RESTORE} if unblocks_csam else set())
    now_actions = [a for a in actions if not (needs_approval and a in waits)]

    decision = Decision(
        item_id=item.id,
        verdict=Verdict.CLEAN if benign else Verdict.VIOLATION,
        category=str(choice.violation),
        automated=False,
        decided_by=DecidedBy.REVIEWER,
        decided_by_ref=reviewer.pseudonym,
        basis=json.dumps([{"review_case": case.id, "opened_by_decision": case.decision_id}], sort_keys=True),
        reason=choice.note.strip(),
        priority=case.priority,
    )
    session.add(decision)
    session.flush()
    review_decision = ReviewDecision(
        case_id=case.id,
        item_id=item.id,
        reviewer_id=reviewer.id,
        reviewer_ref=reviewer.pseudonym,
        violation=str(choice.violation),
        industry_classification=(
            str(choice.industry_classification) if choice.industry_classification is not None else None
        ),
        actions=" ".join(str(a) for a in actions),
        countries=" ".join(choice.countries),
        report_to_clearinghouse=choice.report_to_clearinghouse,
        child_at_immediate_risk=choice.child_at_immediate_risk,
        allow_list=choice.allow_list,
        note=choice.note.strip(),
        approval_state=ApprovalState.PENDING if needs_approval else ApprovalState.NOT_NEEDED,
        approver_ref="",
        approval_note="",
        decision_id=decision.id,
        created_at=now,
    )
    session.add(review_decision)
    session.flush()
    _apply(session, decision, item, now_actions, choice.countries)
    if not needs_approval:
        _restore_and_allow_list(session, decision, item, review_decision, reviewer, options)
    if choice.report_to_clearinghouse and not needs_approval:
        _report(session, decision, item, review_decision)
    case.claimed_by_id, case.claim_expires_at, case.updated_at = None, None, now
    if needs_approval:
        case.state = CaseState.AWAITING_APPROVAL
    else:
        _close(case, now)
        _announce(session, case, review_decision)
    session.flush()
    audit.record(
        session,
        actor(reviewer),
        audit.AuditAction.DECISION_RECORD,
        f"review_decision:{review_decision.id}",
        {
            "case": case.id,
            "item": item.id,
            "violation": review_decision.violation,
            "actions": review_decision.actions,
            "report": choice.report_to_clearinghouse,
            "approval": review_decision.approval_state,
            "decision": decision.id,
        },
    )
    log.info(
        "event=review.decide review_decision=%d case=%d violation=%s approval=%s",
        review_decision.id,
        case.id,
        review_decision.violation,
        review_decision.approval_state,
    )
    return review_decision


def touches_csam(session: Session, item_id: int, case_category: str) -> bool:
    """Whether un-blocking this item touches CSAM: its case is a ``csam`` case, a ``csam`` bank's entry
    matched it, or automated enforcement decided it as ``csam``."""
    if case_category == BankCategory.CSAM:
        return True
    matched_csam = session.scalar(
        select(ItemMatch.id)
        .join(BankEntry, BankEntry.id == ItemMatch.entry_id)
        .join(Bank, Bank.id == BankEntry.bank_id)
        .where(ItemMatch.item_id == item_id, Bank.category == BankCategory.CSAM)
        .limit(1)
    )
    decided_csam = session.scalar(
        select(Decision.id)
        .where(
            Decision.item_id == item_id,
            Decision.automated.is_(True),
            Decision.category == BankCategory.CSAM,
        )
        .limit(1)
    )
    return matched_csam is not None or decided_csam is not None


def _restore_and_allow_list(
    session: Session,
    decision: Decision,
    item: Item,
    review_decision: ReviewDecision,
    by: ConsoleUser,
    options: ReviewOptions,
) -> None:
    """What a false positive undoes: the account's automated suspension (``_lifts_suspension``) and,
    with ``allow_list``, the matched entries (disabled) and the file's hashes (allow-listed)."""
    if review_decision.violation != ViolationCategory.BENIGN:
        return
    if _lifts_suspension(session, item):
        enforcement.add_action(
            session, decision, item, ActionKind.RESTORE, automated=False, target=ActionTarget.ACCOUNT
        )
    if review_decision.allow_list:
        _allow_list(session, item, review_decision, by, options)


def _has_viewed(session: Session, user_id: int, item_id: int) -> bool:
    return (
        session.scalar(
            select(HumanView.id).where(HumanView.user_id == user_id, HumanView.item_id == item_id).limit(1)
        )
        is not None
    )


def _close(case: ReviewCase, now: datetime) -> None:
    case.state, case.open_item_id, case.closed_at = CaseState.DECIDED, None, now


def _announce(session: Session, case: ReviewCase, review_decision: ReviewDecision) -> None:
    """The ``review.case_decided`` job of a case just closed (``CASE_DECIDED``), and the feedback of
    its verdict to the exchanges whose entries the item matched (``suraksha.exchanges.feedback``)."""
    enqueue(
        session,
        CASE_DECIDED,
        {"case_id": case.id, "review_decision_id": review_decision.id},
        key=f"{CASE_DECIDED}:{review_decision.id}",
    )
    queue_exchange_feedback(
        session,
        review_decision.item_id,
        benign=review_decision.violation == ViolationCategory.BENIGN,
        review_decision_id=review_decision.id,
    )


def _apply(
    session: Session,
    decision: Decision,
    item: Item,
    actions: Sequence[ActionKind],
    countries: Sequence[str],
) -> None:
    for kind in actions:
        enforcement.add_action(session, decision, item, kind, automated=False, countries=countries)
    if actions:
        item.state = ItemState.ACTIONED


def _report(session: Session, decision: Decision, item: Item, review_decision: ReviewDecision) -> None:
    """The arrow to reporting: the internal report action and the ``report.prepare`` job, keyed by the
    review decision (enqueued once however often this runs)."""
    enforcement.add_action(session, decision, item, ActionKind.REPORT, automated=False)
    enqueue(
        session,
        PREPARE,
        {"review_decision_id": review_decision.id},
        key=f"{PREPARE}:review:{review_decision.id}",
    )


def _allow_list(
    session: Session,
    item: Item,
    review_decision: ReviewDecision,
    reviewer: ConsoleUser,
    options: ReviewOptions,
) -> None:
    try:
        bank = banks.get_bank(session, options.allow_list_bank)
    except NotFound:
        bank = banks.create_bank(
            session,
            options.allow_list_bank,
            kind=BankKind.ALLOW,
            description="Benign files that banks mis-match (added by false-positive review decisions)",
        )
    if bank.kind != BankKind.ALLOW:
        raise Conflict(f"bank {bank.name!r} (review_allow_list_bank) is not an allow-list bank")
    reason = f"deconfirmed by review decision {review_decision.id}"
    # Only an approved decision vouches for un-blocking a CSAM hash (suraksha.banks.services).
    approved = review_decision.approval_state == ApprovalState.APPROVED
    four_eyes = f"review_decision:{review_decision.id}" if approved else ""
    added: list[int] = []
    for media in item.media:
        for signal, value in ((SignalKind.MD5, media.md5), (SignalKind.PDQ, media.pdq)):
            if value:
                entry, _ = banks.add_entry(
                    session,
                    bank,
                    signal,
                    value,
                    note=reason,
                    source_ref=f"review:{review_decision.id}",
                    four_eyes=four_eyes,
                )
                added.append(entry.id)
    matched = sorted(
        set(
            session.scalars(
                select(ItemMatch.entry_id).where(
                    ItemMatch.item_id == item.id, ItemMatch.suppressed.is_(False)
                )
            )
        )
    )
    disabled = []
    for entry_id in matched:
        matched_entry = session.get(BankEntry, entry_id)
        if matched_entry is None or matched_entry.bank_id == bank.id:
            continue
        banks.set_entry_enabled(session, entry_id, False, reason=reason, four_eyes=four_eyes)
        matched_entry.deconfirm_count += 1
        disabled.append(entry_id)
    session.flush()
    audit.record(
        session,
        actor(reviewer),
        audit.AuditAction.BANK_CHANGE,
        f"bank:{bank.name}",
        {
            "allow_listed": added,
            "disabled_entries": disabled,
            "review_decision": review_decision.id,
            "decided_by": review_decision.reviewer_ref,
            "approved_by": review_decision.approver_ref,
        },
    )


def _pending(session: Session, review_decision_id: int) -> tuple[ReviewDecision, ReviewCase]:
    review_decision = session.get(ReviewDecision, review_decision_id, with_for_update=True)
    if review_decision is None:
        raise NotFound(f"review decision {review_decision_id} does not exist")
    if review_decision.approval_state != ApprovalState.PENDING:
        raise Conflict(
            f"review decision {review_decision_id} is {review_decision.approval_state}: nothing to approve"
        )
    case = session.get(ReviewCase, review_decision.case_id, with_for_update=True)
    assert case is not None
    return review_decision, case


def _check_approver(approver: ConsoleUser, review_decision: ReviewDecision, case: ReviewCase) -> None:
    require(approver, Permission.DECISION_APPROVE)
    require(approver, reveal_permission(case.category))
    if approver.id == review_decision.reviewer_id:
        raise Forbidden(
            "four eyes: a decision is approved by a second person, not by the reviewer who made it"
        )


def approve(
    session: Session,
    review_decision_id: int,
    approver: ConsoleUser,
    *,
    note: str = "",
    options: ReviewOptions | None = None,
    now: datetime | None = None,
) -> ReviewDecision:
    """The second pair of eyes agrees: carry out what waited (suspension; the clearinghouse report,
    queued as ``report.prepare``; a false positive's restore and allow list) and close the case.
    ``options`` names the allow-list bank (``review_allow_list_bank``; the default one when None)."""
    now = now or utcnow()
    review_decision, case = _pending(session, review_decision_id)
    _check_approver(approver, review_decision, case)
    decision = session.get(Decision, review_decision.decision_id)
    item = session.get(Item, review_decision.item_id)
    assert decision is not None
    assert item is not None
    done = {a.kind for a in session.scalars(select(Action).where(Action.decision_id == decision.id))}
    waiting = [ActionKind(a) for a in review_decision.actions.split() if a not in done]
    _apply(session, decision, item, waiting, review_decision.countries.split())
    review_decision.approval_state = ApprovalState.APPROVED
    review_decision.approver_id, review_decision.approver_ref = approver.id, approver.pseudonym
    review_decision.approval_note, review_decision.approved_at = note.strip()[:MAX_NOTE], now
    _restore_and_allow_list(session, decision, item, review_decision, approver, options or ReviewOptions())
    if review_decision.report_to_clearinghouse:
        _report(session, decision, item, review_decision)
    _close(case, now)
    _announce(session, case, review_decision)
    case.updated_at = now
    session.flush()
    audit.record(
        session,
        actor(approver),
        ReviewAudit.APPROVE,
        f"review_decision:{review_decision.id}",
        {
            "actions": [str(a) for a in waiting],
            "report": review_decision.report_to_clearinghouse,
            "allow_list": review_decision.allow_list,
            "decided_by": review_decision.reviewer_ref,
        },
    )
    return review_decision


def reject(
    session: Session,
    review_decision_id: int,
    approver: ConsoleUser,
    *,
    note: str,
    now: datetime | None = None,
) -> ReviewDecision:
    """The second pair of eyes disagrees: what waited is not carried out, and the case goes back to the
    queue for a fresh decision (actions already carried out stay until that decision reverses them)."""
    now = now or utcnow()
    note = note.strip()
    if not note or len(note) > MAX_NOTE:
        raise InvalidInput(f"a rejection needs a note (1-{MAX_NOTE} characters) telling the reviewer why")
    review_decision, case = _pending(session, review_decision_id)
    _check_approver(approver, review_decision, case)
    review_decision.approval_state = ApprovalState.REJECTED
    review_decision.approver_id, review_decision.approver_ref = approver.id, approver.pseudonym
    review_decision.approval_note, review_decision.approved_at = note, now
    case.state, case.updated_at = CaseState.OPEN, now
    session.flush()
    audit.record(session, actor(approver), ReviewAudit.REJECT, f"review_decision:{review_decision.id}", {})
    return review_decision


def approval_queue(
    session: Session, *, approver: ConsoleUser | None = None, limit: int = 100
) -> list[ReviewDecision]:
    """Decisions waiting for a second approval, oldest first; with ``approver``, without their own."""
    query = select(ReviewDecision).where(ReviewDecision.approval_state == ApprovalState.PENDING)
    if approver is not None:
        query = query.where(ReviewDecision.reviewer_id != approver.id)
    query = query.order_by(ReviewDecision.created_at, ReviewDecision.id).limit(max(1, min(limit, 500)))
    return list(session.scalars(query))


def decisions_for_item(session: Session, item_id: int) -> list[ReviewDecision]:
    """Every review decision about an item, oldest first (the item page's history)."""
    return list(
        session.scalars(
            select(ReviewDecision).where(ReviewDecision.item_id == item_id).order_by(ReviewDecision.id)
        )
    )
