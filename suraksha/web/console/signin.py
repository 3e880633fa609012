"""Signing in and out of the console, the second factor, and the account page (TOTP set-up).

Sign-in order: the throttle (``suraksha.access.throttle``: per client address, per address + account,
and per account against distributed runs, before any password work), then the password
(``users.sign_in``: argon2id, the audit row), then, for an account with a second factor, a code on a
second page (or, while the account is under a distributed run and the address is new to it, the code on
the sign-in form itself). Every refusal says the same thing (``users.SIGN_IN_FAILED``, or the step-up
message) whatever the reason; the audit row holds the real one. Wrong codes are limited per account.
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
    open_to_flaggers,
    safe_next,
    session_of,
    viewer,
)
from suraksha.web.state import WebState, get_state

log = logging.getLogger(__name__)

router = APIRouter(prefix="/console", dependencies=ROUTER_CHECKS, include_in_schema=False)

MAX_FIELD = 1024
THROTTLED = "too many failed sign-ins from this address: wait {minutes} minutes, then try again"
STEP_UP = (
    "This account has seen many failed sign-ins from elsewhere, so for now a sign-in from a network "
    "address it was not used from needs the password and a code from your authenticator app together. "
    "Without a second factor, sign in from where you usually do, or wait {minutes} minutes."
)
CODES_THROTTLED = "too many wrong codes for this account: wait {minutes} minutes, then try again"


def _address(request: Request) -> str:
    return request.client.host if request.client is not None else "unknown"


def _minutes_until(when: datetime) -> int:
    return max(1, int((when - utcnow()).total_seconds() // 60) + 1)


def _sign_in_page(
    request: Request,
    state: WebState,
    *,
    next_path: str,
    error: str = "",
    email: str = "",
    status: int = 200,
    ask_code: bool = False,
) -> Response:
    """The sign-in form (with a code field when ``ask_code``); gives a browser without one the
    pre-sign-in cookie its CSRF token is tied to."""
    names = cookie_names(state)
    pre = request.cookies.get(names.pre)
    fresh = pre is None
    pre = pre or new_pre_value()
    context = {"next": next_path, "error": error, "email": email, "ask_code": ask_code}
    response = render(
        request, "console/sign_in.html", None, context, status_code=status, csrf_token=csrf_token_for(pre)
    )
    if fresh:
        set_cookie(response, names, names.pre, pre, max_age=None)
    return response


def _start(
    state: WebState, request: Request, user: ConsoleUser, *, pending: bool, next_path: str
) -> Response:
    """A new session; once the sign-in is complete (no code pending) the address is known to the account."""
    names = cookie_names(state)
    policy = SessionPolicy.from_settings(state.settings)
    previous = request.cookies.get(names.session)
    with state.platform.db.session() as session:
        if previous:  # one session per browser: signing in again ends the earlier one
            sessions.revoke_token(session, previous, RevokedReason.REPLACED)
        row, token = sessions.start_session(session, user, policy, second_factor_pending=pending)
        del row
        if not pending:
            throttle.remember_address(session, _address(request), user.id)
    location = f"{SECOND_FACTOR_PATH}?next={quote(next_path, safe='/')}" if pending else next_path
    response = see_other(location)
    set_cookie(response, names, names.session, token, max_age=int(policy.absolute.total_seconds()))
    clear_cookie(response, names, names.pre)
    return response


def _code_checked(state: WebState, user_id: int, code: str, actor: str) -> tuple[bool, datetime | None]:
    """Check a TOTP code for the account, under its per-account limit: (good, throttled until)."""
    policy = ThrottlePolicy.from_settings(state.settings)
    key = totp.TotpKey.from_settings(state.settings)
    with state.platform.db.session() as session:
        user = session.get(ConsoleUser, user_id, with_for_update=True)
        if user is None:
            return False, None
        try:
            good = totp.check_code(session, user, code, key, policy)
        except totp.CodesThrottled as exc:
            return False, exc.until
        if not good:
            details = {"reason": "wrong_code"}
            record(session, "anonymous", AuditAction.AUTH_SIGN_IN_FAILED, actor, details)
    return good, None


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
    code: str = Form("", max_length=20),
    next: str = Form("/console/", max_length=MAX_FIELD),
    state: WebState = Depends(get_state),
) -> Response:
    """The password (and, while the account is under a distributed run and this address is new to it,
    a code on the same form: ``suraksha.access.throttle``)."""
    next_path = safe_next(next)
    address = _address(request)
    policy = ThrottlePolicy.from_settings(state.settings)
    db = state.platform.db

    def refused(error: str, status: int, *, ask_code: bool = False) -> Response:
        return _sign_in_page(
            request, state, next_path=next_path, error=error, email=email, status=status, ask_code=ask_code
        )

    with db.reading() as session:
        gate = throttle.gate(session, address, email, policy)
    if gate.blocked_until is not None:
        log.warning("event=console.sign_in_throttled")
        return refused(THROTTLED.format(minutes=_minutes_until(gate.blocked_until)), 429)
    step_up = STEP_UP.format(minutes=_minutes_until(gate.step_up_until)) if gate.step_up_until else ""
    if step_up and not code.strip():  # say what is needed before any password work
        return refused(step_up, 401, ask_code=True)
    try:
        user = users.sign_in(db, email, password)
    except Unauthenticated as exc:
        with db.session() as session:
            throttle.record_failure(session, address, email, policy, known=gate.known)
        return refused(step_up or str(exc), 401, ask_code=bool(step_up))
    with db.session() as session:
        throttle.record_success(session, address, email, policy)
    if not step_up:
        return _start(state, request, user, pending=user.totp_secret is not None, next_path=next_path)
    # under a distributed run, from a new address: the password counts only with a good code
    actor = f"user:{user.pseudonym}"
    if user.totp_secret is None:
        with db.session() as session:
            details = {"reason": "step_up_without_second_factor"}
            record(session, "anonymous", AuditAction.AUTH_SIGN_IN_FAILED, actor, details)
        return refused(step_up, 401, ask_code=True)
    good, throttled = _code_checked(state, user.id, code, actor)
    if throttled is not None:
        return refused(CODES_THROTTLED.format(minutes=_minutes_until(throttled)), 429, ask_code=True)
    if not good:
        return refused(step_up, 401, ask_code=True)
    return _start(state, request, user, pending=False, next_path=next_path)


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
    """The code after the password: wrong codes are limited per account, whatever the address."""
    next_path = safe_next(next)
    if found is None or not found.session.second_factor_pending:
        return see_other("/console/sign-in")
    db = state.platform.db
    good, throttled = _code_checked(state, found.user_id, code, found.actor)
    if not good:
        if throttled is not None:
            error, status = CODES_THROTTLED.format(minutes=_minutes_until(throttled)), 429
        else:
            error, status = "that code is not right", 401
        context = {"next": next_path, "error": error}
        return render(
            request,
            "console/second_factor.html",
            None,
            context,
            status_code=status,
            csrf_token=found.csrf_token,
        )
    with db.session() as session:
        sessions.revoke(session, found.session.session_id, RevokedReason.SECOND_FACTOR_DONE)
        record(session, found.actor, AuditAction.AUTH_SIGN_IN, found.actor, {"second_factor": "totp"})
    with db.reading() as session:
        user = session.get(ConsoleUser, found.user_id)
        assert user is not None
        session.expunge(user)
    return _start(state, request, user, pending=False, next_path=next_path)


@router.post("/sign-out")
@allowed_when_read_only
@open_to_flaggers
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


def _password_confirmed(request: Request, state: WebState, who: Viewer, password: str) -> datetime | None:
    """Check the signed-in user's password again, throttled like a sign-in: None when it is right;
    raises Unauthenticated when wrong; returns when the address may try again when throttled."""
    address, email = _address(request), who.session.email
    policy = ThrottlePolicy.from_settings(state.settings)
    db = state.platform.db
    with db.reading() as session:
        blocked = throttle.gate(session, address, email, policy).blocked_until
    if blocked is not None:
        return blocked
    refused: Unauthenticated | None = None
    with db.session() as session:
        try:
            users.confirm_password(session, who.user_id, password)
        except Unauthenticated as exc:
            refused = exc
            throttle.record_failure(session, address, email, policy)
    if refused is not None:
        raise refused
    return None


def password_again(request: Request, state: WebState, who: Viewer, password: str) -> str:
    """The console's re-authentication before a grave step (the legal desk's approving a disclosure or
    acting on an order), the same check as before a change to how one signs in: throttled like a
    sign-in, a wrong password audited. ``""`` when the password is right; else what was wrong."""
    if not password:
        return "give your password again to confirm this step: nothing was changed"
    try:
        blocked = _password_confirmed(request, state, who, password)
    except Unauthenticated as exc:
        return f"{exc}: nothing was changed"
    if blocked is not None:
        return THROTTLED.format(minutes=_minutes_until(blocked))
    return ""


def _reauthenticate(request: Request, state: WebState, who: Viewer, password: str) -> Response | None:
    """None when the password is right; else the account page saying what was wrong."""
    try:
        blocked = _password_confirmed(request, state, who, password)
    except Unauthenticated as exc:
        return _account_page(request, state, who, error=f"{exc}: nothing was changed", status=401)
    if blocked is not None:
        error = THROTTLED.format(minutes=_minutes_until(blocked))
        return _account_page(request, state, who, error=error, status=429)
    return None


@router.get("/account")
@open_to_flaggers
def account(
    request: Request, state: WebState = Depends(get_state), who: Viewer = Depends(viewer)
) -> Response:
    return _account_page(request, state, who)


@router.post("/account/totp/start")
@open_to_flaggers
def totp_start(
    request: Request,
    password: str = Form(..., max_length=MAX_FIELD),
    state: WebState = Depends(get_state),
    who: Viewer = Depends(viewer),
) -> Response:
    """After the password again: a fresh secret made here, kept (encrypted) as pending until a code from
    the app comes back. Without ``console_totp_key`` nothing is made (503, saying so)."""
    key = totp.TotpKey.from_settings(state.settings)
    totp.require_key(key)  # without one, a 503 page saying which setting is missing
    refused = _reauthenticate(request, state, who, password)
    if refused is not None:
        return refused
    with state.platform.db.session() as session:
        secret = totp.begin_enrolment(session, who.user_id, key)
    return _account_page(request, state, who, secret=secret)


@router.post("/account/totp")
@open_to_flaggers
def totp_enable(
    request: Request,
    code: str = Form(..., max_length=20),
    state: WebState = Depends(get_state),
    who: Viewer = Depends(viewer),
) -> Response:
    """The first code from the app, for the secret the server made (a secret sent by the client is
    never taken)."""
    key = totp.TotpKey.from_settings(state.settings)
    try:
        with state.platform.db.session() as session:
            totp.enable(session, who.user_id, code, key, by=who.actor)
    except InvalidInput as exc:
        with state.platform.db.reading() as session:
            user = session.get(ConsoleUser, who.user_id)
            secret = totp.pending_secret(user, key) if user is not None else None
        return _account_page(request, state, who, secret=secret, error=str(exc), status=400)
    return see_other("/console/account")


@router.post("/account/totp/off")
@open_to_flaggers
def totp_disable(
    request: Request,
    password: str = Form(..., max_length=MAX_FIELD),
    code: str = Form(..., max_length=20),
    state: WebState = Depends(get_state),
    who: Viewer = Depends(viewer),
) -> Response:
    """Turning the second factor off needs the password and a current code (a borrowed, signed-in
    browser is not enough); wrong codes count against the account's limit."""
    refused = _reauthenticate(request, state, who, password)
    if refused is not None:
        return refused
    good, throttled = _code_checked(state, who.user_id, code, who.actor)
    if not good:
        error = (
            CODES_THROTTLED.format(minutes=_minutes_until(throttled))
            if throttled
            else "that code is not right"
        )
        return _account_page(request, state, who, error=error, status=429 if throttled else 400)
    with state.platform.db.session() as session:
        totp.disable(session, who.user_id, by=who.actor)
    return see_other("/console/account")
