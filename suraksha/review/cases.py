"""Opening review cases: the arrow from enforcement to review. ``open_case_for_decision`` implements
enforcement's ``OpensCase`` port (``suraksha.enforcement.follow_ups``): ``record_decision`` calls it in the
transaction that records the decision, so a decision that needs a person and its case commit together.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from suraksha.content.models import Item, ReporterKind
from suraksha.enforcement.models import Action, Decision, Verdict
from suraksha.enforcement.policy import needs_review
from suraksha.review.models import CaseSource, CaseState, ReviewCase

log = logging.getLogger(__name__)

_BASIS_SOURCES = (
    ("bank", CaseSource.AUTOMATED_MATCH),
    ("pack", CaseSource.RULE),
    ("classifier", CaseSource.CLASSIFIER),
    ("not_checked", CaseSource.NOT_CHECKED),
)


def case_source(decision: Decision, item: Item) -> CaseSource:
    """Why the item is queued: the first finding in the decision's basis (the policy ranks them),
    else who reported it."""
    try:
        basis = json.loads(decision.basis or "[]")
    except ValueError:
        basis = []
    for finding in basis if isinstance(basis, list) else []:
        for key, source in _BASIS_SOURCES:
            if isinstance(finding, dict) and key in finding:
                return source
    if decision.verdict == Verdict.NOT_CHECKED:
        return CaseSource.NOT_CHECKED
    if item.reporter_kind == ReporterKind.TRUSTED_FLAGGER:
        return CaseSource.TRUSTED_FLAGGER
    return CaseSource.USER_REPORT


def open_case(
    session: Session,
    item: Item,
    *,
    source: CaseSource,
    category: str = "",
    priority: int = 0,
    decision: Decision | None = None,
) -> ReviewCase:
    """The item's open case, or a new one. Idempotent: one open case per item (a second call, or a
    job run twice, returns the case already open; its priority only rises)."""
    existing = session.scalar(select(ReviewCase).where(ReviewCase.open_item_id == item.id))
    if existing is not None:
        existing.priority = max(existing.priority, priority)
        return existing
    case = ReviewCase(
        item_id=item.id,
        open_item_id=item.id,
        decision_id=decision.id if decision is not None else None,
        category=category,
        source=source,
        priority=priority,
        detected_at=item.received_at,
        state=CaseState.OPEN,
        escalation_note="",
    )
    session.add(case)
    session.flush()
    log.info(
        "event=review.case_opened case=%d item=%d source=%s category=%s priority=%d",
        case.id,
        item.id,
        source,
        category,
        priority,
    )
    return case


def open_case_for_decision(
    session: Session, item: Item, decision: Decision, actions: Sequence[str]
) -> ReviewCase | None:
    """The ``OpensCase`` port of ``record_decision``: open (or find) the item's case when the decision needs a
    person (``needs_review``); None otherwise."""
    if not needs_review(decision.verdict, actions):
        return None
    return open_case(
        session,
        item,
        source=case_source(decision, item),
        category=decision.category,
        priority=decision.priority,
        decision=decision,
    )


def open_case_for_failed_action(session: Session, action: Action) -> ReviewCase | None:
    """The ``OnFailure`` port of ``acknowledge``: the platform could not carry out ``action`` (its
    reason is on the action), so the item goes back before a person, at the decision's priority.
    The item's open case, if it has one, is that case; its escalation note says what failed."""
    item = session.get(Item, action.item_id)
    decision = session.get(Decision, action.decision_id)
    if item is None or decision is None:
        return None
    case = open_case(
        session,
        item,
        source=CaseSource.ACTION_FAILED,
        category=decision.category,
        priority=decision.priority,
        decision=decision,
    )
    note = f"the platform could not {action.kind} (action {action.id}): {action.state_reason}"
    if note not in case.escalation_note:
        case.escalation_note = (case.escalation_note + "\n" + note).strip()[:4000]
    return case
