"""A trusted flagger's own pages in the console, for its staff (role ``flagger``, permission
``notices:own``, linked to the flagger by ``suraksha flaggers add-user``): the organisation's notices
with their state, clocks and outcome; one notice with what each thing it named resolved to and what was
decided; and a form to send a notice. The form goes through ``Platform.notice_submit``, the path of
``POST /api/v1/notices``: the same checks, clocks, review and webhooks.

These are the only console pages such a user opens (``open_to_flaggers``; ``viewer`` refuses them every
other route). They never show another flagger's notices (another's id is "not found"), media, items,
cases, reviewers or anything else the console holds: what a notice's page shows is the API's
``NoticeOut``. Uploads are not offered here (the API takes them); the form names posts by URL or id.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Form, Request
from pydantic import ValidationError
from starlette.responses import Response

from suraksha.errors import Conflict, InvalidInput
from suraksha.flaggers.operations import StaffMember
from suraksha.flaggers.schemas import MAX_EXPLANATION, MAX_TARGETS, NoticeCategory, NoticeIn
from suraksha.permissions import Permission
from suraksha.web.console.pages import render, see_other
from suraksha.web.console.params import PathId
from suraksha.web.console.viewer import FLAGGER_HOME, ROUTER_CHECKS, Viewer, open_to_flaggers, require
from suraksha.web.state import WebState, get_state

router = APIRouter(prefix="/console", dependencies=ROUTER_CHECKS, include_in_schema=False)

OWN = Permission.NOTICES_OWN
TARGETS_TEXT = MAX_TARGETS * 2100
"""The form's targets box: up to ``MAX_TARGETS`` lines of a URL (2,000 characters at most) each."""

BLANK = {
    "reference": "",
    "category": "",
    "explanation": "",
    "targets": "",
    "depicted_person_complaint": False,
}


def member(who: Viewer) -> StaffMember:
    return StaffMember(user_id=who.user_id, actor=who.actor)


def targets_of(text: str) -> list[dict[str, str]]:
    """One thing a line: a line starting with ``http://`` or ``https://`` is a post URL, any other a
    platform id; blank lines are skipped."""
    named: list[dict[str, str]] = []
    for line in text.splitlines():
        value = line.strip()
        if not value:
            continue
        key = "url" if value.lower().startswith(("http://", "https://")) else "platform_id"
        named.append({key: value})
    return named


def _problem(exc: ValidationError) -> str:
    """The form's mistakes in words (the field and pydantic's message, never the input echoed back)."""
    parts = []
    for error in exc.errors(include_input=False, include_url=False):
        where = ".".join(str(p) for p in error["loc"]) or "the notice"
        parts.append(f"{where}: {error['msg']}")
    return "; ".join(parts[:5])


def _form(
    request: Request,
    state: WebState,
    who: Viewer,
    *,
    error: str = "",
    status: int = 200,
    values: dict[str, Any] | None = None,
) -> Response:
    context = {
        "flagger": state.platform.staff_flagger(member(who)),
        "categories": list(NoticeCategory),
        "max_targets": MAX_TARGETS,
        "max_explanation": MAX_EXPLANATION,
        "error": error,
        "v": {**BLANK, **(values or {})},
    }
    return render(request, "console/flagger_notice_new.html", who, context, status_code=status)


@router.get("/flagger/notices")
@open_to_flaggers
def notices_page(
    request: Request, state: WebState = Depends(get_state), who: Viewer = require(OWN)
) -> Response:
    """The organisation's latest notices, newest first: state, decision clock, outcome."""
    context = {
        "flagger": state.platform.staff_flagger(member(who)),
        "notices": state.platform.staff_notices(member(who)),
    }
    return render(request, "console/flagger_notices.html", who, context)


@router.get("/flagger/notices/new")
@open_to_flaggers
def new_notice_form(
    request: Request, state: WebState = Depends(get_state), who: Viewer = require(OWN)
) -> Response:
    return _form(request, state, who)


@router.post("/flagger/notices")
@open_to_flaggers
def send_notice(
    request: Request,
    reference: str = Form("", max_length=200),
    category: str = Form("", max_length=60),
    explanation: str = Form("", max_length=MAX_EXPLANATION),
    targets: str = Form("", max_length=TARGETS_TEXT),
    depicted_person_complaint: bool = Form(False),
    state: WebState = Depends(get_state),
    who: Viewer = require(OWN),
) -> Response:
    """Send a notice for the organisation, as ``POST /api/v1/notices`` does; a refused one comes back
    with what was typed and why, nothing recorded."""
    values = {
        "reference": reference,
        "category": category,
        "explanation": explanation,
        "targets": targets,
        "depicted_person_complaint": depicted_person_complaint,
    }
    named = targets_of(targets)
    if not named:
        return _form(
            request,
            state,
            who,
            error="name at least one post (a URL or a platform id a line)",
            status=422,
            values=values,
        )
    try:
        body = NoticeIn.model_validate(
            {
                "reference": reference,
                "category": category,
                "explanation": explanation,
                "targets": named,
                "depicted_person_complaint": depicted_person_complaint,
            }
        )
    except ValidationError as exc:
        return _form(request, state, who, error=_problem(exc), status=422, values=values)
    try:
        shown, created = state.platform.notice_submit(member(who), body)
    except InvalidInput as exc:
        return _form(request, state, who, error=str(exc), status=422, values=values)
    except Conflict as exc:
        return _form(request, state, who, error=str(exc), status=409, values=values)
    done = "sent" if created else "already_received"
    return see_other(f"{FLAGGER_HOME}/{shown['id']}?done={done}")


@router.get("/flagger/notices/{notice_id}")
@open_to_flaggers
def notice_page(
    request: Request,
    notice_id: PathId,
    done: str | None = None,
    state: WebState = Depends(get_state),
    who: Viewer = require(OWN),
) -> Response:
    """One of the organisation's notices: its clocks, and what each thing it named resolved to and what
    was decided (another flagger's notice is "not found")."""
    context = {
        "flagger": state.platform.staff_flagger(member(who)),
        "notice": state.platform.notice_read(member(who), notice_id),
        "done": done if done in {"sent", "already_received"} else None,
    }
    return render(request, "console/flagger_notice.html", who, context)
