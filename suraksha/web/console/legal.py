"""The legal desk in the console: the requests with their clocks (overdue first), and a request's page
with its authority, scope, clocks, holds, actions, disclosures and replies, timeline and audit trail,
and the desk's forms (``legal_desk``) for those who may act.

Open to ``legal:view`` (legal and leads). Confidential orders are listed like the others: the gag is
on notices to users, not on the desk."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy import select
from starlette.responses import Response

from suraksha.audit import AuditEvent
from suraksha.content.models import Account
from suraksha.legal.clocks import Step
from suraksha.legal.disclosure import PACKAGE_FILES
from suraksha.legal.models import RejectReason
from suraksha.permissions import Permission
from suraksha.web.console.pages import render
from suraksha.web.console.params import PathId
from suraksha.web.console.viewer import ROUTER_CHECKS, Viewer, require
from suraksha.web.state import WebState, get_state

router = APIRouter(prefix="/console", dependencies=ROUTER_CHECKS, include_in_schema=False)

TRAIL = 200
DONE = {
    "received": "Received: its clocks are running.",
    "verified": "Verified.",
    "rejected": "Rejected, with the reason recorded.",
    "started": "In progress.",
    "preserved": "Everything in scope is preserved and held.",
    "renewed": "The holds run one more period.",
    "acted": "Done: the actions go to the platform, each naming the order.",
    "drafted": "Drafted: a second person approves it before it leaves.",
    "approved": "Approved: it may be handed over.",
    "sent": "Recorded as handed over: the answer clock stopped.",
    "clock": "That clock stopped.",
    "answered": "Answered.",
    "closed": "Closed: its holds are released.",
    "withdrawn": "Withdrawn: its holds are released and what was withheld or removed is restored.",
}
"""What a request's page says after each step of the desk's forms (``?done=``): a fixed word, never
text taken from the address."""


@router.get("/legal")
def legal_desk(
    request: Request, app: WebState = Depends(get_state), who: Viewer = require(Permission.LEGAL_VIEW)
) -> Response:
    """Every running clock (overdue first), and the open requests, newest first."""
    context = {"due": app.platform.legal_due(), "requests": app.platform.legal_requests()}
    return render(request, "console/legal.html", who, context)


@router.get("/legal/{request_id}")
def legal_request_page(
    request: Request,
    request_id: PathId,
    done: str = Query("", max_length=20),
    app: WebState = Depends(get_state),
    who: Viewer = require(Permission.LEGAL_VIEW),
) -> Response:
    return request_page(request, app, who, request_id, done=done)


def request_page(
    request: Request,
    app: WebState,
    who: Viewer,
    request_id: int,
    *,
    error: str = "",
    status: int = 200,
    done: str = "",
) -> Response:
    """The request's page; with ``error`` (a refused step, nothing changed) or ``done`` (the word of the
    step just done, ``legal_desk.DONE``) said at its top."""
    shown = app.platform.legal_request(request_id)  # NotFound: the 404 page
    disclosures = shown["disclosures"]
    assert isinstance(disclosures, list)
    subjects = [f"legal_request:{request_id}", *(f"legal_disclosure:{d['id']}" for d in disclosures)]
    scope = shown["scope"]
    assert isinstance(scope, list)
    with app.platform.db.reading() as session:
        trail = session.scalars(
            select(AuditEvent).where(AuditEvent.subject.in_(subjects)).order_by(AuditEvent.id).limit(TRAIL)
        ).all()
        ids = {int(s["account_id"]) for s in scope if s["account_id"]}
        accounts = (
            {a.id: a for a in session.scalars(select(Account).where(Account.id.in_(ids)))} if ids else {}
        )
        audit_rows: list[dict[str, Any]] = [
            {
                "at": e.at,
                "actor": e.actor,
                "action": e.action,
                "subject": e.subject,
                "details": json.loads(e.details),
            }
            for e in trail
        ]
    context = {
        "r": shown,
        "accounts": accounts,
        "trail": audit_rows,
        "error": error,
        "done": DONE.get(done, ""),
        "reject_reasons": [r.value for r in RejectReason],
        "steps": [s.value for s in Step if s is not Step.HOLD],
        "files": PACKAGE_FILES,
    }
    return render(request, "console/legal_request.html", who, context, status_code=status)
