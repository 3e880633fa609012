"""Exchange pages: every exchange (its bank, trust, state, last fetch and what it changed, errors), one
exchange (settings, checkpoint, where its credentials come from, recent runs), and three actions for
those who manage banks (``bank:manage``): fetch now, enable or disable, and change the trust.

Every action goes through the Platform (``suraksha.exchanges.operations``) and is audited
(``exchange:change``) under the person's pseudonym. Disabling an exchange (the list stops following its
source: NCMEC's withdrawals and additions no longer reach the bank) and raising its trust to
``auto_action`` (its matches act without a person) are grave steps: the password again, as the legal
desk asks (``signin.password_again``). A second person is not asked: neither un-blocks anything (a
disabled exchange's entries stay in the bank and keep matching), which is where the console asks for
one (un-blocking a CSAM hash). Settings (URL, file path) are changed with ``suraksha exchange set``.
"""

from __future__ import annotations

import logging

from fastapi import APIRouter, Depends, Form, Request
from starlette.responses import Response

from suraksha.exchanges.models import Trust
from suraksha.permissions import Permission
from suraksha.web.console.pages import render, see_other
from suraksha.web.console.signin import password_again
from suraksha.web.console.viewer import ROUTER_CHECKS, Viewer, require
from suraksha.web.state import WebState, get_state

log = logging.getLogger(__name__)

router = APIRouter(prefix="/console", dependencies=ROUTER_CHECKS, include_in_schema=False)

MANAGE = Permission.BANK_MANAGE
NAME_MAX = 100


@router.get("/exchanges")
def exchange_list(
    request: Request, state: WebState = Depends(get_state), who: Viewer = require(MANAGE)
) -> Response:
    context = {"exchanges": state.platform.exchanges_list()}
    return render(request, "console/exchanges.html", who, context)


def _page(
    request: Request,
    state: WebState,
    who: Viewer,
    name: str,
    *,
    error: str = "",
    queued: bool = False,
    status: int = 200,
) -> Response:
    context = {
        "exchange": state.platform.exchange_show(name, runs=20),
        "trusts": list(Trust),
        "error": error,
        "queued": queued,
    }
    return render(request, "console/exchange.html", who, context, status_code=status)


@router.get("/exchanges/{name}")
def exchange_show(
    request: Request, name: str, state: WebState = Depends(get_state), who: Viewer = require(MANAGE)
) -> Response:
    return _page(request, state, who, name)


@router.post("/exchanges/{name}/fetch")
def exchange_fetch_now(
    request: Request, name: str, state: WebState = Depends(get_state), who: Viewer = require(MANAGE)
) -> Response:
    """Queue a fetch for the worker (audited in the same transaction); the page says so, and the run
    shows in "Recent fetches" once the worker has it. A disabled exchange: 409, enable it first."""
    state.platform.exchange_request_fetch(name, actor=who.actor)
    log.info("event=console.exchange_fetch pseudonym=%s exchange=%s", who.pseudonym, name)
    return _page(request, state, who, name, queued=True)


@router.post("/exchanges/{name}/enabled")
def exchange_enabled(
    request: Request,
    name: str,
    enabled: bool = Form(...),
    password: str = Form("", max_length=1024),
    state: WebState = Depends(get_state),
    who: Viewer = require(MANAGE),
) -> Response:
    """Enable (due at once), or disable: a grave step, the password again."""
    if not enabled:
        refused = password_again(request, state, who, password)
        if refused:
            return _page(request, state, who, name, error=refused, status=403)
    state.platform.exchange_set_enabled(name, enabled, actor=who.actor)
    return see_other(f"/console/exchanges/{name}")


@router.post("/exchanges/{name}/trust")
def exchange_trust(
    request: Request,
    name: str,
    trust: Trust = Form(...),
    password: str = Form("", max_length=1024),
    state: WebState = Depends(get_state),
    who: Viewer = require(MANAGE),
) -> Response:
    """Change what a match on the exchange's entries may lead to; to ``auto_action``, the password
    again (its matches then act without a person)."""
    if trust == Trust.AUTO_ACTION:
        refused = password_again(request, state, who, password)
        if refused:
            return _page(request, state, who, name, error=refused, status=403)
    state.platform.exchange_update(name, trust=trust, actor=who.actor)
    return see_other(f"/console/exchanges/{name}")
