"""The trusted flaggers in the console: the registry with each flagger's designation, state, accuracy
(share of decided notices confirmed), median time to decision and status-review mark, and the notices
whose decision clock is overdue or due within a day (leads and admins, ``flaggers:view``); suspending or
reinstating a flagger with a reason (admins, ``flaggers:manage``). Registering stays on the command line
(``suraksha flaggers add``), where the flagger's key and webhook secret are shown once."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Depends, Form, Path, Request
from starlette.responses import Response

from suraksha.flaggers.models import FlaggerState
from suraksha.permissions import Permission
from suraksha.web.console.pages import render, see_other
from suraksha.web.console.viewer import ROUTER_CHECKS, Viewer, require
from suraksha.web.state import WebState, get_state

router = APIRouter(prefix="/console", dependencies=ROUTER_CHECKS, include_in_schema=False)

DUE_WITHIN = timedelta(hours=24)
"""The page lists notices whose decision clock is overdue or due within this (`suraksha flaggers due`
lists them all)."""


@router.get("/flaggers")
def flaggers_page(
    request: Request, state: WebState = Depends(get_state), who: Viewer = require(Permission.FLAGGERS_VIEW)
) -> Response:
    settings = state.platform.settings
    context = {
        "flaggers": state.platform.flaggers_list(),
        "due": state.platform.notices_due(within=DUE_WITHIN),
        "may_manage": who.can(Permission.FLAGGERS_MANAGE),
        "min_accuracy": settings.flagger_min_accuracy,
        "min_notices": settings.flagger_accuracy_min_notices,
    }
    return render(request, "console/flaggers.html", who, context)


@router.post("/flaggers/{name}/state")
def flagger_state(
    name: str = Path(min_length=1, max_length=100),
    suspend: bool = Form(...),
    reason: str = Form(..., min_length=3, max_length=2000),
    state: WebState = Depends(get_state),
    who: Viewer = require(Permission.FLAGGERS_MANAGE),
) -> Response:
    """Suspend (its notices are refused) or reinstate a flagger; the reason is audited."""
    wanted = FlaggerState.SUSPENDED if suspend else FlaggerState.ACTIVE
    state.platform.flagger_set_state(name, wanted, reason=reason, actor=who.actor)
    return see_other("/console/flaggers")
