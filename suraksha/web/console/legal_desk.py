"""Acting at the legal desk from the console: receive a request, verify or reject it, preserve, act on
an order, draft and approve disclosures and replies, stop clocks, close; and download a package's files.

Every form needs ``legal:manage`` (the legal role; leads read the desk but do not act) and the console's
CSRF token (``ROUTER_CHECKS``). Each one calls the ``Platform``'s ``legal_*`` operation, which owns the
rules, the transaction and the audit row: a refusal (bad input, a step the request's state does not
allow, the drafter approving their own package) rolls back and comes back as a message on the page,
nothing changed.

Grave steps ask for the password again (the console's re-authentication, ``signin.password_again``):
acting on a blocking order or removal notice (it withholds or removes content), and approving a
disclosure or reply (it lets data leave). Downloads are audited as evidence access."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Depends, Form, Request
from starlette.responses import FileResponse, Response

from suraksha.enforcement.models import ActionKind
from suraksha.errors import InvalidInput, SurakshaError
from suraksha.legal.clocks import RequestKind, Step
from suraksha.legal.models import Channel, RejectReason, ScopeKind
from suraksha.legal.services import NewRequest, ScopeEntry
from suraksha.permissions import Permission
from suraksha.vault.services import EvidenceActor
from suraksha.web import problems
from suraksha.web.console.legal import request_page
from suraksha.web.console.pages import render, see_other
from suraksha.web.console.params import PathId
from suraksha.web.console.signin import password_again
from suraksha.web.console.viewer import ROUTER_CHECKS, Viewer, require
from suraksha.web.state import WebState, get_state

log = logging.getLogger(__name__)

router = APIRouter(prefix="/console", dependencies=ROUTER_CHECKS, include_in_schema=False)

MANAGE = Permission.LEGAL_MANAGE
TEXT = 2000
SCOPE_TEXT = 200_000


def counsel(who: Viewer) -> EvidenceActor:
    """The signed-in person as the vault and the disclosure code check them (by their roles)."""
    return EvidenceActor(who.actor, frozenset(who.session.roles.split()))


def _acted(
    request: Request,
    state: WebState,
    who: Viewer,
    request_id: int,
    change: Callable[[], object],
    done: str,
) -> Response:
    """Run one of the Platform's legal operations; a refusal re-renders the request's page with it
    (its transaction rolled back: nothing changed)."""
    try:
        change()
    except SurakshaError as exc:
        status = problems.status_of(exc)  # a request that is not there: request_page's 404 page
        log.info("event=console.legal_refused request=%d step=%s status=%d", request_id, done, status)
        return request_page(request, state, who, request_id, error=str(exc), status=status)
    return see_other(f"/console/legal/{request_id}?done={done}")


def _grave(
    request: Request,
    state: WebState,
    who: Viewer,
    request_id: int,
    password: str,
    change: Callable[[], object],
    done: str,
) -> Response:
    """A grave step: the password again first (wrong: the page says so, nothing changed)."""
    refused = password_again(request, state, who, password)
    if refused:
        return request_page(request, state, who, request_id, error=refused, status=401)
    return _acted(request, state, who, request_id, change, done)


# -- a new request -----------------------------------------------------------------------------------

BLANK: dict[str, Any] = {
    "kind": "data_disclosure",
    "jurisdiction": "",
    "authority": "",
    "reference": "",
    "legal_basis": "",
    "channel": "email",
    "received_at": "",
    "stated_due_at": "",
    "confidential": False,
    "summary": "",
    "accounts": "",
    "posts": "",
    "range_from": "",
    "range_to": "",
}
"""The new request's form, empty (a refused form comes back with what was typed)."""


def _new_form(
    request: Request, state: WebState, who: Viewer, *, error: str = "", values: dict[str, Any] | None = None
) -> Response:
    context = {
        "authorities": state.platform.legal_authorities(),
        "kinds": [k for k in RequestKind if k is not RequestKind.APPEAL],
        "channels": list(Channel),
        "error": error,
        "v": {**BLANK, "received_at": f"{datetime.now(UTC):%Y-%m-%dT%H:%M}Z", **(values or {})},
    }
    return render(request, "console/legal_new.html", who, context, status_code=400 if error else 200)


@router.get("/legal/new")
def new_request_form(
    request: Request, state: WebState = Depends(get_state), who: Viewer = require(MANAGE)
) -> Response:
    return _new_form(request, state, who)


def _time(raw: str, name: str) -> datetime | None:
    raw = raw.strip()
    if not raw:
        return None
    try:
        parsed = datetime.fromisoformat(raw)
    except ValueError:
        raise InvalidInput(f"{name} {raw[:40]!r} is not a time such as 2022-09-20T10:00+05:30") from None
    if parsed.tzinfo is None:
        raise InvalidInput(f"{name} {raw[:40]!r} has no offset: add it, e.g. 2022-09-20T10:00+05:30 (or Z)")
    return parsed


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def scope_of(accounts: str, posts: str, range_from: str, range_to: str) -> list[ScopeEntry]:
    """The scope as the form gives it: accounts (``@handle``, platform id, profile URL) and posts (post
    URL or platform id), one a line, and an optional date range that bounds them."""
    start, end = _time(range_from, "the range's start"), _time(range_to, "the range's end")
    if (start is None) != (end is None):
        raise InvalidInput("a date range needs both its start and its end (or neither)")
    entries = [ScopeEntry(ScopeKind.ACCOUNT, a, start, end) for a in _lines(accounts)]
    entries += [
        ScopeEntry(ScopeKind.URL if p.startswith(("http://", "https://")) else ScopeKind.ITEM, p, start, end)
        for p in _lines(posts)
    ]
    if start is not None and end is not None:
        entries.append(ScopeEntry(ScopeKind.DATE_RANGE, "", start, end))
    return entries


@router.post("/legal/new")
def receive(
    request: Request,
    kind: str = Form(..., max_length=40),
    jurisdiction: str = Form(..., max_length=10),
    authority: str = Form("", max_length=20),
    reference: str = Form("", max_length=200),
    legal_basis: str = Form("", max_length=300),
    channel: str = Form("email", max_length=20),
    received_at: str = Form(..., max_length=40),
    stated_due_at: str = Form("", max_length=40),
    confidential: bool = Form(False),
    summary: str = Form("", max_length=TEXT),
    accounts: str = Form("", max_length=SCOPE_TEXT),
    posts: str = Form("", max_length=SCOPE_TEXT),
    range_from: str = Form("", max_length=40),
    range_to: str = Form("", max_length=40),
    state: WebState = Depends(get_state),
    who: Viewer = require(MANAGE),
) -> Response:
    """Record a request as received: its clocks start at the time it arrived."""
    values = {
        "kind": kind,
        "jurisdiction": jurisdiction,
        "authority": authority,
        "reference": reference,
        "legal_basis": legal_basis,
        "channel": channel,
        "received_at": received_at,
        "stated_due_at": stated_due_at,
        "confidential": confidential,
        "summary": summary,
        "accounts": accounts,
        "posts": posts,
        "range_from": range_from,
        "range_to": range_to,
    }
    try:
        if kind not in {k.value for k in RequestKind}:
            raise InvalidInput(f"kind {kind[:40]!r} is not one of the desk's kinds")
        if channel not in {c.value for c in Channel}:
            raise InvalidInput(f"channel {channel[:20]!r} is not one of the desk's channels")
        if authority and not authority.isdigit():
            raise InvalidInput("choose the authority from the registry (or none)")
        arrived = _time(received_at, "received at")
        if arrived is None:
            raise InvalidInput("say when the request arrived: its clocks start there")
        new = NewRequest(
            kind=RequestKind(kind),
            jurisdiction=jurisdiction,
            received_at=arrived,
            channel=Channel(channel),
            authority_id=int(authority) if authority else None,
            reference=reference,
            legal_basis=legal_basis,
            summary=summary,
            stated_due_at=_time(stated_due_at, "the deadline it states"),
            confidential=confidential,
            scope=scope_of(accounts, posts, range_from, range_to),
        )
        shown = state.platform.legal_receive(new, actor=who.actor)
    except SurakshaError as exc:
        return _new_form(request, state, who, error=str(exc), values=values)
    return see_other(f"/console/legal/{shown['id']}?done=received")


@router.post("/legal/authorities")
def add_authority(
    request: Request,
    agency: str = Form(..., max_length=200),
    jurisdiction: str = Form(..., max_length=10),
    officer: str = Form("", max_length=200),
    rank: str = Form("", max_length=100),
    unit: str = Form("", max_length=200),
    contact: str = Form("", max_length=300),
    verified_how: str = Form("", max_length=TEXT),
    state: WebState = Depends(get_state),
    who: Viewer = require(MANAGE),
) -> Response:
    """Register an authority (then choose it on the new request's form)."""
    try:
        state.platform.legal_add_authority(
            actor=who.actor,
            agency=agency,
            jurisdiction=jurisdiction,
            officer=officer,
            rank=rank,
            unit=unit,
            contact=contact,
            verified_how=verified_how,
        )
    except SurakshaError as exc:
        return _new_form(request, state, who, error=str(exc))
    return see_other("/console/legal/new")


# -- moving a request on -------------------------------------------------------------------------------


@router.post("/legal/{request_id}/verify")
def verify(
    request: Request,
    request_id: PathId,
    how: str = Form(..., max_length=TEXT),
    rank_accepted_because: str = Form("", max_length=TEXT),
    state: WebState = Depends(get_state),
    who: Viewer = require(MANAGE),
) -> Response:
    def change() -> object:
        return state.platform.legal_verify(
            request_id, actor=who.actor, how=how, rank_accepted_because=rank_accepted_because
        )

    return _acted(request, state, who, request_id, change, "verified")


@router.post("/legal/{request_id}/reject")
def reject(
    request: Request,
    request_id: PathId,
    reason: RejectReason = Form(...),
    detail: str = Form("", max_length=TEXT),
    state: WebState = Depends(get_state),
    who: Viewer = require(MANAGE),
) -> Response:
    def change() -> object:
        return state.platform.legal_reject(request_id, reason=reason, detail=detail, actor=who.actor)

    return _acted(request, state, who, request_id, change, "rejected")


@router.post("/legal/{request_id}/start")
def start(
    request: Request,
    request_id: PathId,
    note: str = Form("", max_length=TEXT),
    state: WebState = Depends(get_state),
    who: Viewer = require(MANAGE),
) -> Response:
    def change() -> object:
        return state.platform.legal_start(request_id, actor=who.actor, note=note)

    return _acted(request, state, who, request_id, change, "started")


@router.post("/legal/{request_id}/preserve")
def preserve(
    request: Request,
    request_id: PathId,
    state: WebState = Depends(get_state),
    who: Viewer = require(MANAGE),
) -> Response:
    def change() -> object:
        return state.platform.legal_preserve(request_id, actor=who.actor)

    return _acted(request, state, who, request_id, change, "preserved")


@router.post("/legal/{request_id}/renew")
def renew(
    request: Request,
    request_id: PathId,
    reason: str = Form(..., max_length=TEXT),
    state: WebState = Depends(get_state),
    who: Viewer = require(MANAGE),
) -> Response:
    def change() -> object:
        return state.platform.legal_renew(request_id, actor=who.actor, reason=reason)

    return _acted(request, state, who, request_id, change, "renewed")


@router.post("/legal/{request_id}/act")
def act(
    request: Request,
    request_id: PathId,
    action: str = Form(..., pattern="^(withhold|remove)$"),
    countries: str = Form("", max_length=200),
    password: str = Form("", max_length=1024),
    state: WebState = Depends(get_state),
    who: Viewer = require(MANAGE),
) -> Response:
    """Carry out a verified blocking order or removal notice: withhold in the named countries (two-letter
    codes, separated by spaces or commas; none: the request's country) or remove. The password again."""
    named = [c for c in countries.replace(",", " ").split() if c]

    def change() -> object:
        return state.platform.legal_act(request_id, ActionKind(action), actor=who.actor, countries=named)

    return _grave(request, state, who, request_id, password, change, "acted")


@router.post("/legal/{request_id}/done")
def mark_done(
    request: Request,
    request_id: PathId,
    step: Step = Form(...),
    note: str = Form("", max_length=TEXT),
    state: WebState = Depends(get_state),
    who: Viewer = require(MANAGE),
) -> Response:
    def change() -> object:
        return state.platform.legal_mark_done(request_id, step, actor=who.actor, note=note)

    return _acted(request, state, who, request_id, change, "clock")


@router.post("/legal/{request_id}/answer")
def answer(
    request: Request,
    request_id: PathId,
    partly_because: str = Form("", max_length=TEXT),
    state: WebState = Depends(get_state),
    who: Viewer = require(MANAGE),
) -> Response:
    def change() -> object:
        return state.platform.legal_answer(request_id, actor=who.actor, partly_because=partly_because)

    return _acted(request, state, who, request_id, change, "answered")


@router.post("/legal/{request_id}/close")
def close(
    request: Request,
    request_id: PathId,
    note: str = Form("", max_length=TEXT),
    state: WebState = Depends(get_state),
    who: Viewer = require(MANAGE),
) -> Response:
    def change() -> object:
        return state.platform.legal_close(request_id, actor=who.actor, note=note)

    return _acted(request, state, who, request_id, change, "closed")


@router.post("/legal/{request_id}/withdraw")
def withdraw(
    request: Request,
    request_id: PathId,
    note: str = Form(..., max_length=TEXT),
    state: WebState = Depends(get_state),
    who: Viewer = require(MANAGE),
) -> Response:
    def change() -> object:
        if not note.strip():
            raise InvalidInput("say what the authority said when it withdrew the request")
        return state.platform.legal_withdraw(request_id, actor=who.actor, note=note)

    return _acted(request, state, who, request_id, change, "withdrawn")


# -- disclosures and replies ---------------------------------------------------------------------------


@router.post("/legal/{request_id}/disclose")
def disclose(
    request: Request,
    request_id: PathId,
    state: WebState = Depends(get_state),
    who: Viewer = require(MANAGE),
) -> Response:
    def change() -> object:
        return state.platform.legal_disclose(request_id, actor=counsel(who))

    return _acted(request, state, who, request_id, change, "drafted")


@router.post("/legal/{request_id}/reply")
def reply(
    request: Request,
    request_id: PathId,
    state: WebState = Depends(get_state),
    who: Viewer = require(MANAGE),
) -> Response:
    def change() -> object:
        return state.platform.legal_reply(request_id, actor=counsel(who))

    return _acted(request, state, who, request_id, change, "drafted")


def _of_request(state: WebState, request_id: int, disclosure_id: int) -> None:
    """The disclosure is one of this request's (a form names both; they must agree)."""
    disclosures = state.platform.legal_request(request_id)["disclosures"]
    assert isinstance(disclosures, list)
    if disclosure_id not in {d["id"] for d in disclosures}:
        raise InvalidInput(f"request #{request_id} has no disclosure or reply #{disclosure_id}")


@router.post("/legal/{request_id}/disclosures/{disclosure_id}/approve")
def approve(
    request: Request,
    request_id: PathId,
    disclosure_id: PathId,
    password: str = Form("", max_length=1024),
    state: WebState = Depends(get_state),
    who: Viewer = require(MANAGE),
) -> Response:
    """The second person approves a disclosure or reply (the drafter cannot: the Platform refuses)."""

    def change() -> object:
        _of_request(state, request_id, disclosure_id)
        return state.platform.legal_approve_disclosure(disclosure_id, actor=counsel(who))

    return _grave(request, state, who, request_id, password, change, "approved")


@router.post("/legal/{request_id}/disclosures/{disclosure_id}/sent")
def sent(
    request: Request,
    request_id: PathId,
    disclosure_id: PathId,
    via: str = Form(..., max_length=300),
    state: WebState = Depends(get_state),
    who: Viewer = require(MANAGE),
) -> Response:
    def change() -> object:
        _of_request(state, request_id, disclosure_id)
        return state.platform.legal_disclosure_sent(disclosure_id, via=via, actor=counsel(who))

    return _acted(request, state, who, request_id, change, "sent")


@router.get("/legal/{request_id}/disclosures/{disclosure_id}/files/{name}")
def download(
    request_id: PathId,
    disclosure_id: PathId,
    name: str,
    state: WebState = Depends(get_state),
    who: Viewer = require(Permission.LEGAL_VIEW),
) -> Response:
    """One file of a package (``pdf``, ``summary``, ``evidence``: the legal role) or a reply (``pdf``,
    ``docx``, ``answer``: legal and leads), by that short name only; every download is audited
    (``evidence:access``) before a byte is sent."""
    found = state.platform.legal_disclosure_file(
        request_id, disclosure_id, name[:20], actor=counsel(who), reason="downloaded from the console"
    )
    return FileResponse(found.path, media_type=found.media_type, filename=found.filename)
