"""Appeals: lodged by the host platform on its user's behalf, decided again by a person who did not
decide, upheld or reversed, and the user told the outcome.

Business rules:
- An appeal names a decision (or one of its actions) that restricted the user's content or account,
  in the user's words; one appeal per decision. The platform's appeal id makes lodging idempotent:
  the same id with the same content answers the appeal already lodged; with other content it is a
  conflict. An appeal after the jurisdiction's window (``appeal`` / ``lodge``) is refused.
- It opens a review case in the appeals queue (source ``appeal``; category ``csam`` when the decision
  touched CSAM, so only those who may see such files are served it), due within the jurisdiction's
  ``appeal`` / ``answer`` period. The automation that decided never closes it: only a person does.
- The person deciding holds the case's claim and is not the one who decided, nor the one who approved
  that decision (``check_not_decider``).
- Upheld: the decision stands. Reversed: a new reviewer decision restores what the decision did
  (``restore`` of the item, and of the account when it was suspended), through enforcement like any
  other action. Either way the user gets a notice of the outcome with the reviewer's reasons.
- A CSAM decision is reversed only by a reviewer who revealed the file (a recorded human view) and
  only once a second person holding ``decision:approve`` and ``media:reveal_csam`` approves
  (four eyes); until then nothing is restored. Upholding it needs no second person (nothing is
  un-blocked).
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from suraksha import audit
from suraksha.access.models import ConsoleUser
from suraksha.appeals.models import Appeal, AppealState
from suraksha.banks.models import BankCategory
from suraksha.content.models import Account, Item
from suraksha.db.base import utcnow
from suraksha.enforcement import services as enforcement
from suraksha.enforcement.grounds import basis_of
from suraksha.enforcement.models import (
    Action,
    ActionKind,
    ActionTarget,
    DecidedBy,
    Decision,
    UserNotice,
    Verdict,
)
from suraksha.enforcement.user_notices import NOTICE_KINDS, record_outcome_notice
from suraksha.errors import Conflict, Forbidden, InvalidInput, NotFound
from suraksha.exchanges.feedback import queue_for_reversal as queue_exchange_reversal
from suraksha.legal.clocks import JurisdictionRules, RequestKind, Step
from suraksha.permissions import Permission
from suraksha.review import services as review
from suraksha.review.cases import open_case
from suraksha.review.decisions import touches_csam
from suraksha.review.models import CaseSource, CaseState, HumanView, ReviewCase, ReviewDecision
from suraksha.review.services import ReviewOptions, actor, held_claim, require
from suraksha.settings import Settings

log = logging.getLogger(__name__)

MAX_STATEMENT = 5000
MAX_NOTE = 4000
MAX_EXTERNAL_ID = 200


class AppealOutcome(StrEnum):
    UPHELD = "upheld"
    REVERSED = "reversed"


class AppealAudit:
    LODGE = "appeal:lodge"
    DECIDE = "appeal:decide"
    APPROVE = "appeal:approve"
    REJECT = "appeal:reject"


FURTHER_REDRESS = {
    "IN": "If you disagree, you may appeal to the Grievance Appellate Committee within 30 days "
    "(IT Rules 2021, r.3A).",
    "EU": "If you disagree, you may turn to a certified out-of-court dispute settlement body "
    "(DSA Art. 21) or to a court.",
}


@dataclass(frozen=True)
class AppealOptions:
    jurisdiction: str = "IN"
    priority: int = 65

    @classmethod
    def from_settings(cls, settings: Settings) -> AppealOptions:
        return cls(jurisdiction=settings.appeal_jurisdiction.upper(), priority=int(settings.appeal_priority))


@dataclass(frozen=True)
class NewAppeal:
    external_id: str
    statement: str
    decision_id: int | None = None
    action_id: int | None = None
    jurisdiction: str | None = None

    def digest(self) -> str:
        what = {
            "decision_id": self.decision_id,
            "action_id": self.action_id,
            "statement": self.statement.strip(),
            "jurisdiction": (self.jurisdiction or "").upper(),
        }
        return hashlib.sha256(json.dumps(what, sort_keys=True).encode()).hexdigest()


def lodge(
    session: Session,
    rules: JurisdictionRules,
    new: NewAppeal,
    options: AppealOptions,
    *,
    by: str,
    now: datetime | None = None,
) -> tuple[Appeal, bool]:
    """Lodge an appeal (rules in the module docstring): the appeal, and whether it is new."""
    now = now or utcnow()
    external_id = new.external_id.strip()
    statement = new.statement.strip()
    if not external_id or len(external_id) > MAX_EXTERNAL_ID:
        raise InvalidInput(f"appeal_id must be 1-{MAX_EXTERNAL_ID} characters")
    if not statement or len(statement) > MAX_STATEMENT:
        raise InvalidInput(f"the user's statement must be 1-{MAX_STATEMENT} characters")
    if (new.decision_id is None) == (new.action_id is None):
        raise InvalidInput("name the decision appealed: decision_id or action_id (one of them)")
    existing = session.scalar(select(Appeal).where(Appeal.external_id == external_id))
    if existing is not None:
        if existing.request_digest != new.digest():
            raise Conflict(
                f"appeal id {external_id!r} was already lodged (appeal {existing.id}) with other content"
            )
        return existing, False
    decision = _decision_appealed(session, new)
    taken = session.scalar(select(Appeal).where(Appeal.decision_id == decision.id))
    if taken is not None:
        raise Conflict(f"decision {decision.id} is already appealed (appeal {taken.id}, {taken.state})")
    jurisdiction = (new.jurisdiction or options.jurisdiction).upper()
    if not rules.knows(jurisdiction, RequestKind.APPEAL):
        raise InvalidInput(
            f"no appeal deadlines for jurisdiction {jurisdiction[:10]!r}: name one whose file has them "
            f"(e.g. {options.jurisdiction})"
        )
    try:
        window = rules.rule(jurisdiction, RequestKind.APPEAL, Step.LODGE)
    except NotFound:
        window = None
    if window is not None and now > decision.created_at + window.within:
        closed = (decision.created_at + window.within).isoformat(timespec="seconds")
        raise InvalidInput(f"the time to appeal decision {decision.id} ended at {closed} ({window.source})")
    clock = rules.clock(jurisdiction, RequestKind.APPEAL, Step.ANSWER, started_at=now, now=now)
    item = session.get(Item, decision.item_id)
    assert item is not None
    action_id = new.action_id
    appeal = Appeal(
        external_id=external_id,
        request_digest=new.digest(),
        decision_id=decision.id,
        action_id=action_id,
        item_id=item.id,
        account_id=item.account_id,
        statement=statement,
        jurisdiction=jurisdiction,
        received_at=now,
        due_at=clock.due_at,
        state=AppealState.OPEN,
        lodged_by=by[:200],
        decided_by_ref="",
        proposed_outcome="",
        note="",
        approver_ref="",
        approval_note="",
        created_at=now,
    )
    session.add(appeal)
    try:
        session.flush()
    except IntegrityError:  # the same appeal, or another of the decision, lodged at the same moment
        raise Conflict(
            f"appeal id {external_id!r} or decision {decision.id} was appealed at the same moment: retry to "
            "read the appeal lodged"
        ) from None
    case = _appeal_case(session, item, decision, options.priority, now)
    appeal.case_id = case.id
    session.flush()
    audit.record(
        session,
        by,
        AppealAudit.LODGE,
        f"appeal:{appeal.id}",
        {
            "external_id": external_id,
            "decision": decision.id,
            "case": case.id,
            "due_at": appeal.due_at.isoformat(),
        },
    )
    log.info("event=appeal.lodge appeal=%d decision=%d case=%d", appeal.id, decision.id, case.id)
    return appeal, True


def _appeal_case(
    session: Session, item: Item, decision: Decision, priority: int, now: datetime
) -> ReviewCase:
    """The item's open case, or a new appeals case whose queue clock runs from the appeal (not from when
    the item first reached us): category ``csam`` when the decision touched CSAM."""
    joined = session.scalar(select(ReviewCase).where(ReviewCase.open_item_id == item.id))
    category = (
        BankCategory.CSAM.value if touches_csam(session, item.id, decision.category) else decision.category
    )
    case = open_case(
        session, item, source=CaseSource.APPEAL, category=category, priority=priority, decision=decision
    )
    if joined is None:
        case.detected_at = now
    return case


def _decision_appealed(session: Session, new: NewAppeal) -> Decision:
    decision_id = new.decision_id
    if new.action_id is not None:
        action = session.get(Action, new.action_id)
        if action is None:
            raise NotFound(f"action {new.action_id} does not exist")
        decision_id = action.decision_id
    decision = session.get(Decision, decision_id) if decision_id is not None else None
    if decision is None:
        raise NotFound(f"decision {decision_id} does not exist")
    restricted = session.scalar(
        select(Action.id)
        .where(Action.decision_id == decision.id, Action.kind.in_(sorted(NOTICE_KINDS)))
        .limit(1)
    )
    if restricted is None:
        raise InvalidInput(
            f"decision {decision.id} took no action on the user's content or account: "
            "there is nothing to appeal"
        )
    return decision


def get_appeal(session: Session, appeal_id: int, *, lock: bool = False) -> Appeal:
    appeal = session.get(Appeal, appeal_id, with_for_update=lock)
    if appeal is None:
        raise NotFound(f"appeal {appeal_id} does not exist")
    return appeal


def check_not_decider(session: Session, decision: Decision, person: ConsoleUser) -> None:
    """Forbidden when ``person`` made the decision appealed, or approved it."""
    if decision.decided_by == DecidedBy.REVIEWER and decision.decided_by_ref == person.pseudonym:
        raise Forbidden(
            f"{person.pseudonym} made decision {decision.id}: an appeal is decided by a different person"
        )
    involved = session.scalar(
        select(ReviewDecision.id)
        .where(
            ReviewDecision.decision_id == decision.id,
            or_(ReviewDecision.reviewer_id == person.id, ReviewDecision.approver_id == person.id),
        )
        .limit(1)
    )
    if involved is not None:
        raise Forbidden(
            f"{person.pseudonym} decided or approved decision {decision.id}: an appeal is decided by a "
            "different person"
        )


def _note(note: str, what: str) -> str:
    note = note.strip()
    if not note or len(note) > MAX_NOTE:
        raise InvalidInput(f"{what} needs a note (1-{MAX_NOTE} characters); the user is told it")
    return note


def _has_viewed(session: Session, user_id: int, item_id: int) -> bool:
    query = select(HumanView.id).where(HumanView.user_id == user_id, HumanView.item_id == item_id)
    return session.scalar(query.limit(1)) is not None


def is_csam(session: Session, appeal: Appeal) -> bool:
    decision = session.get(Decision, appeal.decision_id)
    return decision is not None and touches_csam(session, appeal.item_id, decision.category)


def decide(
    session: Session,
    appeal_id: int,
    reviewer: ConsoleUser,
    outcome: AppealOutcome,
    note: str,
    *,
    now: datetime | None = None,
) -> Appeal:
    """The reviewer's outcome for an appeal whose case they hold (rules in the module docstring)."""
    now = now or utcnow()
    require(reviewer, Permission.ITEM_DECIDE)
    try:
        outcome = AppealOutcome(outcome)
    except ValueError:
        raise InvalidInput(f"an appeal is upheld or reversed, not {str(outcome)[:30]!r}") from None
    note = _note(note, "deciding an appeal")
    appeal = get_appeal(session, appeal_id, lock=True)
    if appeal.state != AppealState.OPEN or appeal.case_id is None:
        raise Conflict(f"appeal {appeal_id} is {appeal.state}: nothing to decide")
    case = held_claim(session, appeal.case_id, reviewer, now)
    decision = session.get(Decision, appeal.decision_id)
    assert decision is not None
    check_not_decider(session, decision, reviewer)
    csam = touches_csam(session, appeal.item_id, decision.category)
    if csam:
        require(reviewer, Permission.MEDIA_REVEAL_CSAM)
    appeal.decided_by_id, appeal.decided_by_ref = reviewer.id, reviewer.pseudonym
    appeal.proposed_outcome, appeal.note = outcome.value, note
    case.claimed_by_id, case.claim_expires_at, case.updated_at = None, None, now
    if outcome == AppealOutcome.REVERSED and csam:
        if not _has_viewed(session, reviewer.id, appeal.item_id):
            raise InvalidInput(
                "reversing a CSAM decision un-blocks it: reveal the file first; a second person then "
                "approves the reversal"
            )
        appeal.state, case.state = AppealState.AWAITING_APPROVAL, CaseState.AWAITING_APPROVAL
    else:
        _settle(session, appeal, decision, case, outcome, now)
    session.flush()
    audit.record(
        session,
        actor(reviewer),
        AppealAudit.DECIDE,
        f"appeal:{appeal.id}",
        {"outcome": outcome.value, "decision": decision.id, "state": appeal.state, "case": case.id},
    )
    log.info("event=appeal.decide appeal=%d outcome=%s state=%s", appeal.id, outcome, appeal.state)
    return appeal


def _awaiting(session: Session, appeal_id: int, approver: ConsoleUser) -> tuple[Appeal, Decision, ReviewCase]:
    require(approver, Permission.DECISION_APPROVE)
    require(approver, Permission.MEDIA_REVEAL_CSAM)
    appeal = get_appeal(session, appeal_id, lock=True)
    if appeal.state != AppealState.AWAITING_APPROVAL:
        raise Conflict(f"appeal {appeal_id} is {appeal.state}: nothing to approve")
    if approver.id == appeal.decided_by_id:
        raise Forbidden(
            "four eyes: a reversal is approved by a second person, not by the reviewer who made it"
        )
    decision = session.get(Decision, appeal.decision_id)
    case = session.get(ReviewCase, appeal.case_id, with_for_update=True) if appeal.case_id else None
    assert decision is not None
    assert case is not None
    check_not_decider(session, decision, approver)
    return appeal, decision, case


def approve(
    session: Session, appeal_id: int, approver: ConsoleUser, *, note: str = "", now: datetime | None = None
) -> Appeal:
    """The second person agrees with a CSAM decision's reversal: it is carried out now."""
    now = now or utcnow()
    appeal, decision, case = _awaiting(session, appeal_id, approver)
    appeal.approver_id, appeal.approver_ref, appeal.approval_note = (
        approver.id,
        approver.pseudonym,
        note.strip()[:MAX_NOTE],
    )
    _settle(session, appeal, decision, case, AppealOutcome.REVERSED, now)
    audit.record(
        session,
        actor(approver),
        AppealAudit.APPROVE,
        f"appeal:{appeal.id}",
        {"decided_by": appeal.decided_by_ref, "decision": decision.id},
    )
    return appeal


def reject(
    session: Session, appeal_id: int, approver: ConsoleUser, *, note: str, now: datetime | None = None
) -> Appeal:
    """The second person disagrees: nothing is restored, and the appeal goes back to the queue."""
    now = now or utcnow()
    note = _note(note, "rejecting a reversal")
    appeal, decision, case = _awaiting(session, appeal_id, approver)
    appeal.state, appeal.proposed_outcome = AppealState.OPEN, ""
    appeal.approver_id, appeal.approver_ref, appeal.approval_note = approver.id, approver.pseudonym, note
    case.state, case.updated_at = CaseState.OPEN, now
    audit.record(
        session,
        actor(approver),
        AppealAudit.REJECT,
        f"appeal:{appeal.id}",
        {"decided_by": appeal.decided_by_ref, "decision": decision.id},
    )
    return appeal


def _settle(
    session: Session,
    appeal: Appeal,
    decision: Decision,
    case: ReviewCase,
    outcome: AppealOutcome,
    now: datetime,
) -> None:
    """Carry the outcome out: the reversal's restore actions, the case closed, the user's notice."""
    item = session.get(Item, appeal.item_id)
    assert item is not None
    if outcome == AppealOutcome.REVERSED:
        reversal = Decision(
            item_id=item.id,
            verdict=Verdict.CLEAN,
            category=decision.category,
            automated=False,
            decided_by=DecidedBy.REVIEWER,
            decided_by_ref=appeal.decided_by_ref,
            basis=json.dumps([{"appeal": appeal.id, "reverses_decision": decision.id}], sort_keys=True),
            reason=appeal.note,
            priority=decision.priority,
        )
        session.add(reversal)
        session.flush()
        kinds = {a.kind for a in session.scalars(select(Action).where(Action.decision_id == decision.id))}
        if kinds & {ActionKind.REMOVE, ActionKind.RESTRICT, ActionKind.WITHHOLD}:
            enforcement.add_action(
                session, reversal, item, ActionKind.RESTORE, automated=False, target=ActionTarget.ITEM
            )
        if ActionKind.SUSPEND in kinds:
            enforcement.add_action(
                session, reversal, item, ActionKind.RESTORE, automated=False, target=ActionTarget.ACCOUNT
            )
        appeal.reversal_decision_id = reversal.id
        queue_exchange_reversal(session, item.id, appeal_id=appeal.id)
    appeal.state = AppealState(outcome.value)
    appeal.decided_at = now
    case.state, case.open_item_id, case.closed_at, case.updated_at = CaseState.DECIDED, None, now, now
    case.claimed_by_id, case.claim_expires_at = None, None
    session.flush()
    record_outcome_notice(
        session,
        key=f"appeal:{appeal.id}",
        decision_id=decision.id,
        item_id=appeal.item_id,
        account_id=appeal.account_id,
        body=outcome_statement(session, appeal, decision),
    )


def outcome_statement(session: Session, appeal: Appeal, decision: Decision) -> dict[str, Any]:
    """What the user is told about their appeal."""
    reversed_ = appeal.state == AppealState.REVERSED
    item = session.get(Item, appeal.item_id)
    account = session.get(Account, appeal.account_id)
    return {
        "type": "appeal_outcome",
        "item_id": item.platform_item_id if item is not None else "",
        "account_id": account.platform_account_id if account is not None else "",
        "appeal_id": appeal.external_id,
        "decision_id": decision.id,
        "outcome": appeal.state,
        "what": (
            f"We looked at decision {decision.id} again: it was wrong, and what it did is undone."
            if reversed_
            else f"We looked at decision {decision.id} again: it stands."
        ),
        "why": appeal.note,
        "decided_by_a_person": True,
        "decided_at": appeal.decided_at.isoformat(timespec="seconds") if appeal.decided_at else None,
        "restored": reversed_,
        "further_redress": FURTHER_REDRESS.get(appeal.jurisdiction.split("-")[0], ""),
    }


def list_appeals(session: Session, *, state: str | None = None, limit: int = 100) -> list[Appeal]:
    query = select(Appeal).order_by(Appeal.id.desc()).limit(max(1, min(limit, 1000)))
    if state is not None:
        query = query.where(Appeal.state == state)
    return list(session.scalars(query))


def appeal_dict(session: Session, appeal: Appeal, rules: JurisdictionRules, now: datetime) -> dict[str, Any]:
    """The appeal as the platform reads it (no reviewer's identity)."""
    clock = rules.clock(
        appeal.jurisdiction,
        RequestKind.APPEAL,
        Step.ANSWER,
        started_at=appeal.received_at,
        now=now,
        done_at=appeal.decided_at,
    )
    notice = session.scalar(select(UserNotice).where(UserNotice.key == f"appeal:{appeal.id}"))
    restore_ids: list[int] = []
    if appeal.reversal_decision_id is not None:
        restore_ids = list(
            session.scalars(
                select(Action.id).where(Action.decision_id == appeal.reversal_decision_id).order_by(Action.id)
            )
        )
    return {
        "id": appeal.id,
        "appeal_id": appeal.external_id,
        "decision_id": appeal.decision_id,
        "action_id": appeal.action_id,
        "state": appeal.state,
        "outcome": appeal.state if appeal.state in (AppealState.UPHELD, AppealState.REVERSED) else None,
        "jurisdiction": appeal.jurisdiction,
        "received_at": appeal.received_at.isoformat(),
        "due_at": clock.due_at.isoformat(),
        "clock": clock.state.value,
        "decided_at": appeal.decided_at.isoformat() if appeal.decided_at else None,
        "restore_action_ids": restore_ids,
        "notice_id": notice.id if notice is not None else None,
    }


def decision_view(session: Session, decision: Decision) -> dict[str, Any]:
    """The appealed decision as the console shows it: who or what decided, why, on what basis."""
    actions = list(
        session.scalars(select(Action).where(Action.decision_id == decision.id).order_by(Action.id))
    )
    return {
        "id": decision.id,
        "verdict": decision.verdict,
        "category": decision.category,
        "automated": decision.automated,
        "decided_by": decision.decided_by,
        "decided_by_ref": decision.decided_by_ref,
        "reason": decision.reason,
        "basis": basis_of(decision),
        "created_at": decision.created_at,
        "actions": [(a.id, a.kind, a.target, a.state) for a in actions],
    }


def appeal_of_case(session: Session, case_id: int) -> int | None:
    """The appeal a review case was opened for, if any (the case page links to it)."""
    query = select(Appeal.id).where(Appeal.case_id == case_id).order_by(Appeal.id.desc()).limit(1)
    return session.scalar(query)


def claim(
    session: Session,
    appeal_id: int,
    reviewer: ConsoleUser,
    options: ReviewOptions,
    *,
    priority: int = 65,
    now: datetime | None = None,
) -> ReviewCase:
    """Claim an open appeal's case. An appeal lodged while its item had another case open joined that
    case; when that case was decided without it, the appeal gets a case of its own again here."""
    now = now or utcnow()
    appeal = get_appeal(session, appeal_id, lock=True)
    if appeal.state != AppealState.OPEN:
        raise Conflict(f"appeal {appeal_id} is {appeal.state}: nothing to claim")
    case = session.get(ReviewCase, appeal.case_id) if appeal.case_id is not None else None
    if case is None or case.state == CaseState.DECIDED:
        decision = session.get(Decision, appeal.decision_id)
        item = session.get(Item, appeal.item_id)
        assert decision is not None
        assert item is not None
        case = _appeal_case(session, item, decision, priority, now)
        appeal.case_id = case.id
        session.flush()
    return review.claim(session, case.id, reviewer, options, now=now)
