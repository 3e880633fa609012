"""Signing in and out of the console, the second factor, and the account page (TOTP set-up).

Sign-in order: the throttle (per client address and per address + account, before any password work),
then the password (``users.sign_in``: argon2id, the account lockout, the audit row), then, for an
account with a second factor, a code on a second page. Every refusal says the same thing
(``users.SIGN_IN_FAILED``) whatever the reason; the audit row holds the real one.
"""

from __future__ import annotations

import logging
from datetime import datetime
from urllib.parse import quote

import segno
from fastapi import APIRouter, Depends, Form, Request
from starlette.responses import Response

from suraksha.access import sessions, throttle, totp, users
from suraksha.access.models import ConsoleUser
from suraksha.access.sessions import RevokedReason, SessionPolicy
from suraksha.access.throttle import ThrottlePolicy
from suraksha.audit import AuditAction, record
from suraksha.db.base import utcnow
from suraksha.errors import InvalidInput, Unauthenticated
from suraksha.web.console.pages import render, see_other
from suraksha.web.console.security import clear_cookie, csrf_token_for, new_pre_value, set_cookie
from suraksha.web.console.viewer import (
    ROUTER_CHECKS,
    SECOND_FACTOR_PATH,
    Viewer,
    allowed_when_read_only,
    cookie_names,
    safe_next,
    session_of,
    viewer,
)
from suraksha.web.state import WebState, get_state

log = logging.getLogger(__name__)

router = APIRouter(prefix="/console", dependencies=ROUTER_CHECKS, include_in_schema=False)

MAX_FIELD = 1024
THROTTLED = "too many failed sign-ins from this address: wait {minutes} minutes, then try again"


def _address(request: Request) -> str:
    return request.client.host if request.client is not None else "unknown"


def _minutes_until(when: datetime) -> int:
    return max(1, int((when - utcnow()).total_seconds() // 60) + 1)


def _sign_in_page(
    request: Request, state: WebState, *, next_path: str, error: str = "", email: str = "", status: int = 200
) -> Response:
    """The sign-in form; gives a browser without one the pre-sign-in cookie its CSRF token is tied to."""
    names = cookie_names(state)
    pre = request.cookies.get(names.pre)
    fresh = pre is None
    pre = pre or new_pre_value()
    context = {"next": next_path, "error": error, "email": email}
    response = render(
        request, "console/sign_in.html", None, context, status_code=status, csrf_token=csrf_token_for(pre)
    )
    if fresh:
        set_cookie(response, names, names.pre, pre, max_age=None)
    return response


def _start(
    state: WebState, request: Request, user: ConsoleUser, *, pending: bool, next_path: str
) -> Response:
    names = cookie_names(state)
    policy = SessionPolicy.from_settings(state.settings)
    previous = request.cookies.get(names.session)
    with state.platform.db.session() as session:
        if previous:  # one session per browser: signing in again ends the earlier one
            sessions.revoke_token(session, previous, RevokedReason.REPLACED)
        row, token = sessions.start_session(session, user, policy, second_factor_pending=pending)
        del row
    location = f"{SECOND_FACTOR_PATH}?next={quote(next_path, safe='/')}" if pending else next_path
    response = see_other(location)
    set_cookie(response, names, names.session, token, max_age=int(policy.absolute.total_seconds()))
    clear_cookie(response, names, names.pre)
    return response


@router.get("/sign-in")
def sign_in_form(
    request: Request,
    next: str | None = None,
    state: WebState = Depends(get_state),
    found: Viewer | None = Depends(session_of),
) -> Response:
    if found is not None and not found.session.second_factor_pending:
        return see_other(safe_next(next))
    return _sign_in_page(request, state, next_path=safe_next(next))


@router.post("/sign-in")
@allowed_when_read_only
def sign_in(
    request: Request,
    email: str = Form(..., max_length=MAX_FIELD),
    password: str = Form(..., max_length=MAX_FIELD),
    next: str = Form("/console/", max_length=MAX_FIELD),
    state: WebState = Depends(get_state),
) -> Response:
    next_path = safe_next(next)
    address = _address(request)
    policy = ThrottlePolicy.from_settings(state.settings)
    db = state.platform.db
    with db.reading() as session:
        blocked = throttle.blocked_until(session, address, email, policy)
    if blocked is not None:
        log.warning("event=console.sign_in_throttled")
        error = THROTTLED.format(minutes=_minutes_until(blocked))
        return _sign_in_page(request, state, next_path=next_path, error=error, email=email, status=429)
    try:
        user = users.sign_in(db, email, password)
    except Unauthenticated as exc:
        with db.session() as session:
            throttle.record_failure(session, address, email, policy)
        return _sign_in_page(request, state, next_path=next_path, error=str(exc), email=email, status=401)
    with db.session() as session:
        throttle.record_success(session, address, email, policy)
    return _start(state, request, user, pending=user.totp_secret is not None, next_path=next_path)


@router.get("/sign-in/code")
def second_factor_form(
    request: Request, next: str | None = None, found: Viewer | None = Depends(session_of)
) -> Response:
    if found is None:
        return see_other("/console/sign-in")
    if not found.session.second_factor_pending:
        return see_other(safe_next(next))
    return render(
        request,
        "console/second_factor.html",
        None,
        {"next": safe_next(next), "error": ""},
        csrf_token=found.csrf_token,
    )


@router.post("/sign-in/code")
@allowed_when_read_only
def second_factor(
    request: Request,
    code: str = Form(..., max_length=20),
    next: str = Form("/console/", max_length=MAX_FIELD),
    state: WebState = Depends(get_state),
    found: Viewer | None = Depends(session_of),
) -> Response:
    next_path = safe_next(next)
    if found is None or not found.session.second_factor_pending:
        return see_other("/console/sign-in")
    address, email = _address(request), found.session.email
    policy = ThrottlePolicy.from_settings(state.settings)
    db = state.platform.db
    with db.reading() as session:
        blocked = throttle.blocked_until(session, address, email, policy)
    good = False
    if blocked is None:
        with db.session() as session:
            user = session.get(ConsoleUser, found.user_id, with_for_update=True)
            good = user is not None and totp.check_code(session, user, code)
            if good:
                sessions.revoke(session, found.session.session_id, RevokedReason.SECOND_FACTOR_DONE)
                actor = found.actor
                record(session, actor, AuditAction.AUTH_SIGN_IN, actor, {"second_factor": "totp"})
            else:
                throttle.record_failure(session, address, email, policy)
                record(
                    session,
                    "anonymous",
                    AuditAction.AUTH_SIGN_IN_FAILED,
                    found.actor,
                    {"reason": "wrong_code"},
                )
    if not good:
        error = THROTTLED.format(minutes=_minutes_until(blocked)) if blocked else "that code is not right"
        context = {"next": next_path, "error": error}
        return render(
            request, "console/second_factor.html", None, context, status_code=401, csrf_token=found.csrf_token
        )
    with db.reading() as session:
        user = session.get(ConsoleUser, found.user_id)
        assert user is not None
        session.expunge(user)
    return _start(state, request, user, pending=False, next_path=next_path)


@router.post("/sign-out")
@allowed_when_read_only
def sign_out(
    request: Request, state: WebState = Depends(get_state), who: Viewer = Depends(viewer)
) -> Response:
    with state.platform.db.session() as session:
        sessions.sign_out(session, who.session.session_id)
    names = cookie_names(state)
    response = see_other("/console/sign-in")
    clear_cookie(response, names, names.session)
    return response


# -- the account page: the second factor -------------------------------------------------------------


def _account_page(
    request: Request,
    state: WebState,
    who: Viewer,
    *,
    secret: str | None = None,
    error: str = "",
    status: int = 200,
) -> Response:
    context: dict[str, object] = {"error": error, "secret": secret, "qr": None, "uri": None}
    if secret is not None:
        uri = totp.provisioning_uri(secret, who.session.email)
        context["uri"] = uri
        context["qr"] = segno.make(uri, error="m").svg_data_uri(scale=4, border=2)
    return render(request, "console/account.html", who, context, status_code=status)


@router.get("/account")
def account(
    request: Request, state: WebState = Depends(get_state), who: Viewer = Depends(viewer)
) -> Response:
    return _account_page(request, state, who)


@router.post("/account/totp/start")
def totp_start(
    request: Request, state: WebState = Depends(get_state), who: Viewer = Depends(viewer)
) -> Response:
    """A fresh secret to scan; nothing is stored until a code from the app comes back."""
    return _account_page(request, state, who, secret=totp.new_secret())


@router.post("/account/totp")
def totp_enable(
    request: Request,
    secret: str = Form(..., max_length=64),
    code: str = Form(..., max_length=20),
    state: WebState = Depends(get_state),
    who: Viewer = Depends(viewer),
) -> Response:
    try:
        with state.platform.db.session() as session:
            totp.enable(session, who.user_id, secret, code, by=who.actor)
    except InvalidInput as exc:
        return _account_page(request, state, who, secret=secret, error=str(exc), status=400)
    return see_other("/console/account")


@router.post("/account/totp/off")
def totp_disable(
    request: Request,
    code: str = Form(..., max_length=20),
    state: WebState = Depends(get_state),
    who: Viewer = Depends(viewer),
) -> Response:
    """Turning the second factor off needs a current code (a borrowed, signed-in browser is not
    enough)."""
    with state.platform.db.session() as session:
        user = session.get(ConsoleUser, who.user_id, with_for_update=True)
        good = user is not None and totp.check_code(session, user, code)
        if good:
            totp.disable(session, who.user_id, by=who.actor)
    if not good:
        return _account_page(request, state, who, error="that code is not right", status=400)
    return see_other("/console/account")
