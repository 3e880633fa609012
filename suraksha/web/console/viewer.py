"""Who is asking: the signed-in console user behind a request, and the checks every route makes.

Every console route depends on ``viewer`` (signed in, second factor done) or on ``require(permission)``
(and that permission too); every router of the console depends on ``ROUTER_CHECKS``: ``csrf_protect``,
which refuses a state-changing request without a good CSRF token, and ``refuse_writes_when_read_only``,
which refuses every state-changing request while the ``read_only`` kill switch is on (except the few
marked ``allowed_when_read_only``). The checks run on the server for every request: a page that hides a
button is a convenience, never the control.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import quote

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from suraksha.access import sessions
from suraksha.access.sessions import ActiveSession, SessionPolicy
from suraksha.errors import Forbidden
from suraksha.permissions import Permission, permissions_of
from suraksha.web.console.security import (
    CSRF_FIELD,
    CSRF_HEADER,
    SAFE_METHODS,
    CookieNames,
    cross_site,
    csrf_token_for,
    csrf_valid,
)
from suraksha.web.state import WebState, get_state
from suraksha.web.switches import ReadOnly, read_only

log = logging.getLogger(__name__)

Endpoint = TypeVar("Endpoint", bound=Callable[..., Any])

SIGN_IN_PATH = "/console/sign-in"
SECOND_FACTOR_PATH = "/console/sign-in/code"


class SignInRequired(Exception):
    """No live session: the answer is the sign-in page (a redirect), never the page asked for."""

    def __init__(self, next_path: str, *, clear_cookie: bool = False, second_factor: bool = False) -> None:
        super().__init__("sign in first")
        self.next_path = next_path
        self.clear_cookie = clear_cookie
        self.second_factor = second_factor

    @property
    def location(self) -> str:
        target = SECOND_FACTOR_PATH if self.second_factor else SIGN_IN_PATH
        return f"{target}?next={quote(self.next_path, safe='/')}"


class CsrfRefused(Exception):
    """A state-changing request without a good CSRF token, or from another site: 403, nothing done."""


@dataclass(frozen=True)
class Viewer:
    session: ActiveSession
    permissions: frozenset[Permission]
    csrf_token: str

    @property
    def actor(self) -> str:
        """The audit actor: ``user:<pseudonym>`` (never the email)."""
        return self.session.actor

    @property
    def pseudonym(self) -> str:
        return self.session.pseudonym

    @property
    def user_id(self) -> int:
        return self.session.user_id

    def can(self, permission: Permission | str) -> bool:
        return Permission(permission) in self.permissions


def cookie_names(state: WebState) -> CookieNames:
    return CookieNames.from_settings(state.settings)


def safe_next(raw: str | None) -> str:
    """Where to go after signing in: a console path on this site, never elsewhere (open redirect)."""
    if not raw or not raw.startswith("/console/") or raw.startswith("//") or "\\" in raw:
        return "/console/"
    return raw if len(raw) <= 500 else "/console/"


def _current_path(request: Request) -> str:
    path = request.url.path
    if request.method in SAFE_METHODS and request.url.query:
        path = f"{path}?{request.url.query}"
    return path if request.method in SAFE_METHODS else "/console/"


def _resolve(request: Request, state: WebState) -> tuple[ActiveSession | None, str | None]:
    names = cookie_names(state)
    token = request.cookies.get(names.session)
    if not token:
        return None, None
    policy = SessionPolicy.from_settings(state.settings)
    db = state.platform.db
    with db.reading() as session:
        active = sessions.resolve(session, token, policy)
    if active is None:
        with db.session() as session:  # say why it ended, on the row
            sessions.end_dead(session, token, policy)
        return None, token
    if active.needs_touch:
        with db.session() as session:
            sessions.touch(session, active.session_id)
    return active, token


def session_of(request: Request, state: WebState = Depends(get_state)) -> Viewer | None:
    """The request's session, pending second factor or not; None when there is none."""
    cached = getattr(request.state, "console_viewer", None)
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    active, token = _resolve(request, state)
    if active is None or token is None:
        request.state.console_stale_cookie = token is not None
        return None
    viewer = Viewer(
        session=active,
        permissions=frozenset() if active.second_factor_pending else permissions_of(active.roles.split()),
        csrf_token=csrf_token_for(token),
    )
    request.state.console_viewer = viewer
    request.state.api_key_name = active.actor  # the access log's "who" column
    return viewer


FLAGGER_HOME = "/console/flagger/notices"
"""Where a trusted flagger's staff land: their organisation's notices."""
_OPEN_TO_FLAGGERS = "_console_open_to_flaggers"


def open_to_flaggers(endpoint: Endpoint) -> Endpoint:
    """Mark a route a trusted flagger's staff (``notices:own``) may open: their organisation's notice
    pages, their account (password check, second factor), signing out, and the dashboard (which sends
    them home). Every other console route refuses them (``viewer``)."""
    setattr(endpoint, _OPEN_TO_FLAGGERS, True)
    return endpoint


def viewer(request: Request, found: Viewer | None = Depends(session_of)) -> Viewer:
    """The signed-in user (second factor done), or ``SignInRequired``.

    A trusted flagger's staff (who hold ``notices:own``) are people outside the platform: they get only
    the routes marked ``open_to_flaggers``, whatever else their roles would allow, and ``Forbidden``
    (403) on every other, so a route added later is closed to them unless someone opens it."""
    if found is None:
        stale = bool(getattr(request.state, "console_stale_cookie", False))
        raise SignInRequired(_current_path(request), clear_cookie=stale)
    if found.session.second_factor_pending:
        raise SignInRequired(_current_path(request), second_factor=True)
    if found.can(Permission.NOTICES_OWN) and not getattr(
        request.scope.get("endpoint"), _OPEN_TO_FLAGGERS, False
    ):
        log.info(
            "event=console.forbidden pseudonym=%s reason=flagger path=%s", found.pseudonym, request.url.path
        )
        raise Forbidden(f"a trusted flagger's account opens its own notices only ({FLAGGER_HOME})")
    return found


def require(permission: Permission) -> Any:
    """A dependency: the signed-in user, if they hold ``permission``; else ``Forbidden`` (403)."""

    def check(who: Viewer = Depends(viewer)) -> Viewer:
        if not who.can(permission):
            log.info("event=console.forbidden pseudonym=%s needs=%s", who.pseudonym, permission.value)
            raise Forbidden(f"your roles do not allow this (it needs the permission {permission.value})")
        return who

    check.__name__ = f"require_{permission.name.lower()}"
    return Depends(check)


async def csrf_protect(request: Request, state: WebState = Depends(get_state)) -> None:
    """Refuse a state-changing request from another site or without a good CSRF token (see
    ``suraksha.web.console.security``). Read-only methods pass."""
    if request.method in SAFE_METHODS:
        return
    if cross_site(request):
        log.warning("event=console.csrf_refused reason=cross_site path=%s", request.url.path)
        raise CsrfRefused("cross-site request")
    presented = request.headers.get(CSRF_HEADER)
    if presented is None:
        content_type = request.headers.get("content-type", "")
        if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            form = await request.form(max_files=4, max_fields=100)  # cached: the route reads it again
            value = form.get(CSRF_FIELD)
            presented = value if isinstance(value, str) else None
    if not csrf_valid(request, cookie_names(state), presented):
        log.warning("event=console.csrf_refused reason=token path=%s", request.url.path)
        raise CsrfRefused("missing or wrong CSRF token")


READ_ONLY_MESSAGE = (
    "The service is read-only for now (the read_only kill switch is on): nothing was changed. Pages "
    "still open; changes are refused until a lead turns the switch off on the Kill switches page (or an "
    "operator runs `suraksha switch off read_only`)."
)
_ALLOWED_WHEN_READ_ONLY = "_console_allowed_when_read_only"


def allowed_when_read_only(endpoint: Endpoint) -> Endpoint:
    """Mark a state-changing route that still works while the service is read-only: signing in and out
    (session bookkeeping, without which nobody could reach the switch), flipping the kill switches
    (turning read_only off), and the reads that are POSTs (the audit chain check, the match debugger)."""
    setattr(endpoint, _ALLOWED_WHEN_READ_ONLY, True)
    return endpoint


async def refuse_writes_when_read_only(request: Request, state: WebState = Depends(get_state)) -> None:
    """Refuse every state-changing console request while the ``read_only`` kill switch is on (503, a page
    saying so), unless its route is ``allowed_when_read_only``. Read-only methods pass."""
    if request.method in SAFE_METHODS:
        return
    if getattr(request.scope.get("endpoint"), _ALLOWED_WHEN_READ_ONLY, False):
        return
    if await run_in_threadpool(read_only, state):
        log.info("event=console.read_only_refused path=%s", request.url.path)
        raise ReadOnly(READ_ONLY_MESSAGE)


ROUTER_CHECKS: list[Any] = [Depends(csrf_protect), Depends(refuse_writes_when_read_only)]
"""The dependencies of every console router (``APIRouter(dependencies=ROUTER_CHECKS)``)."""
