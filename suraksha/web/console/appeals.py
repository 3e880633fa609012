"""Appeal pages: the list of appeals with their clocks, and the appeal case page (the decision appealed,
who or what made it and on what basis, the user's statement, the notices sent), where a person who
did not decide claims it and upholds or reverses it (a form with CSRF, like every console form), and a
second person approves a CSAM decision's reversal. Withheld notices to users, released by a lead.

The rules live in ``suraksha.appeals`` and ``suraksha.review`` (who may open a case, claims); these
routes only call them."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Form, Request
from sqlalchemy.orm import Session
from starlette.responses import Response

from suraksha.appeals import services as appeals
from suraksha.appeals.rates import reversal_rates
from suraksha.appeals.services import AppealOutcome
from suraksha.content.models import Account, Item
from suraksha.db.base import utcnow
from suraksha.enforcement import user_notices
from suraksha.enforcement.models import Decision, NoticeState
from suraksha.errors import NotFound
from suraksha.permissions import Permission
from suraksha.review import services as review
from suraksha.review.models import CaseState, ReviewCase
from suraksha.web.console.pages import render, see_other
from suraksha.web.console.params import PathId
from suraksha.web.console.review import options_of, user_of
from suraksha.web.console.viewer import ROUTER_CHECKS, Viewer, require
from suraksha.web.state import WebState, get_state

router = APIRouter(prefix="/console", dependencies=ROUTER_CHECKS, include_in_schema=False)


@router.get("/appeals")
def appeals_page(
    request: Request, state: WebState = Depends(get_state), who: Viewer = require(Permission.QUEUE_VIEW)
) -> Response:
    platform = state.platform
    now = utcnow()
    with platform.db.reading() as session:
        rows = appeals.list_appeals(session, limit=200)
        shown = [(a, appeals.appeal_dict(session, a, platform.legal_rules, now)) for a in rows]
        rates = reversal_rates(session)
    settings = platform.settings
    return render(
        request,
        "console/appeals.html",
        who,
        {
            "appeals": shown,
            "now": now,
            "rates": rates,
            "threshold": settings.appeal_flag_threshold,
            "min_count": settings.appeal_flag_min_count,
        },
    )


def _appeal_context(session: Session, state: WebState, appeal_id: int, who: Viewer) -> dict[str, Any]:
    appeal = appeals.get_appeal(session, appeal_id)
    user = user_of(session, who)
    now = utcnow()
    case = session.get(ReviewCase, appeal.case_id) if appeal.case_id is not None else None
    if case is None:
        raise NotFound(f"appeal {appeal_id} has no review case")
    # The appeal's page shows what its case shows: opened under the same rules (csam, claims).
    if case.state not in (CaseState.AWAITING_APPROVAL, CaseState.DECIDED) or appeal.decided_by_id != user.id:
        review.check_may_open(session, case, user, now=now)
    decision = session.get(Decision, appeal.decision_id)
    assert decision is not None
    holds = (
        case.state == CaseState.CLAIMED
        and case.claimed_by_id == user.id
        and case.claim_expires_at is not None
        and case.claim_expires_at > now
    )
    notices = user_notices.notices_for(session, item_id=appeal.item_id)
    return {
        "appeal": appeal,
        "shown": appeals.appeal_dict(session, appeal, state.platform.legal_rules, now),
        "case": case,
        "item": session.get(Item, appeal.item_id),
        "account": session.get(Account, appeal.account_id),
        "decision": appeals.decision_view(session, decision),
        "csam": appeals.is_csam(session, appeal),
        "holds": holds,
        "notices": [user_notices.notice_dict(n) for n in notices],
        "outcomes": list(AppealOutcome),
        "now": now,
    }


@router.get("/appeals/{appeal_id}")
def appeal_page(
    request: Request,
    appeal_id: PathId,
    state: WebState = Depends(get_state),
    who: Viewer = require(Permission.QUEUE_VIEW),
) -> Response:
    with state.platform.db.reading() as session:
        context = _appeal_context(session, state, appeal_id, who)
    return render(request, "console/appeal.html", who, context)


@router.post("/appeals/{appeal_id}/claim")
def claim(
    appeal_id: PathId, state: WebState = Depends(get_state), who: Viewer = require(Permission.ITEM_CLAIM)
) -> Response:
    with state.platform.db.session() as session:
        priority = state.platform.appeal_options.priority
        appeals.claim(session, appeal_id, user_of(session, who), options_of(state), priority=priority)
    return see_other(f"/console/appeals/{appeal_id}")


@router.post("/appeals/{appeal_id}/decide")
def decide(
    appeal_id: PathId,
    outcome: AppealOutcome = Form(...),
    note: str = Form("", max_length=4000),
    state: WebState = Depends(get_state),
    who: Viewer = require(Permission.ITEM_DECIDE),
) -> Response:
    with state.platform.db.session() as session:
        appeals.decide(session, appeal_id, user_of(session, who), outcome, note)
    return see_other(f"/console/appeals/{appeal_id}")


@router.post("/appeals/{appeal_id}/approval")
def approval(
    appeal_id: PathId,
    verdict: str = Form(..., pattern="^(approve|reject)$"),
    note: str = Form("", max_length=4000),
    state: WebState = Depends(get_state),
    who: Viewer = require(Permission.DECISION_APPROVE),
) -> Response:
    with state.platform.db.session() as session:
        user = user_of(session, who)
        if verdict == "approve":
            appeals.approve(session, appeal_id, user, note=note)
        else:
            appeals.reject(session, appeal_id, user, note=note)
    return see_other(f"/console/appeals/{appeal_id}")


@router.get("/notices")
def notices_page(
    request: Request, state: WebState = Depends(get_state), who: Viewer = require(Permission.DECISION_APPROVE)
) -> Response:
    """Notices to users withheld by law, with why; a lead releases one when its reason has ended."""
    with state.platform.db.reading() as session:
        withheld = user_notices.list_notices(session, state=NoticeState.WITHHELD, limit=500)
        rows = [user_notices.notice_dict(n) for n in withheld]
    return render(request, "console/notices.html", who, {"notices": rows})


@router.post("/notices/{notice_id}/release")
def release_notice(
    notice_id: PathId,
    note: str = Form("", max_length=2000),
    state: WebState = Depends(get_state),
    who: Viewer = require(Permission.DECISION_APPROVE),
) -> Response:
    state.platform.notice_release(notice_id, actor=who.actor, note=note)
    return see_other("/console/notices")
