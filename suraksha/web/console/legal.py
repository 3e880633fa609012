"""The legal desk in the console: the requests with their clocks (overdue first), and a request's page
with its authority, scope, clocks, holds, actions, disclosures and replies, timeline and audit trail.

Open to ``legal:view`` (legal and leads). Confidential orders are listed like the others: the gag is
on notices to users, not on the desk."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Depends, Request
from sqlalchemy import select
from starlette.responses import Response

from suraksha.audit import AuditEvent
from suraksha.content.models import Account
from suraksha.permissions import Permission
from suraksha.web.console.pages import render
from suraksha.web.console.params import PathId
from suraksha.web.console.viewer import ROUTER_CHECKS, Viewer, require
from suraksha.web.state import WebState, get_state

router = APIRouter(prefix="/console", dependencies=ROUTER_CHECKS, include_in_schema=False)

TRAIL = 200


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
    app: WebState = Depends(get_state),
    who: Viewer = require(Permission.LEGAL_VIEW),
) -> Response:
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
    context = {"r": shown, "accounts": accounts, "trail": audit_rows}
    return render(request, "console/legal_request.html", who, context)
