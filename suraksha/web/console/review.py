"""Review pages: queues with SLA clocks, claim / release / escalate, the item page (media shielded until
revealed, why it is here, the account's context), the decision form, the four-eyes approvals page, and
the media route.

All review rules live in ``suraksha.review`` (claims, reveals as human views with exposure budgets,
decisions, approvals); these routes only call it. Media bytes are served by one route only, and only
for a reveal just recorded for this user (``HumanView``): the reveal is the audited act, the bytes are
never cached (``no-store``), and a csam item is refused to anyone without ``media:reveal_csam``, on the
page and on the media route alike.
"""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Depends, Form, Query, Request
from markupsafe import Markup, escape
from PIL import Image
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from suraksha.access.models import ConsoleUser
from suraksha.appeals.models import AppealState
from suraksha.appeals.services import appeal_of_case, list_appeals
from suraksha.content.lookup import find_account, find_item
from suraksha.content.models import ItemMedia, ItemRuleHit
from suraksha.db.base import utcnow
from suraksha.enforcement.models import ActionKind
from suraksha.enforcement.services import actions_in_force
from suraksha.errors import Forbidden, InvalidInput, NotFound
from suraksha.flaggers import services as flagger_notices
from suraksha.media.video import iter_frames, probe_video
from suraksha.permissions import Permission, permissions_of
from suraksha.review import context, reveals
from suraksha.review import decisions as review_decisions
from suraksha.review import services as review
from suraksha.review.models import CaseSource, CaseState, HumanView, IndustryClassification, ViolationCategory
from suraksha.web.console.pages import render, see_other
from suraksha.web.console.params import FormId, OptionalFormId, PathId, QueryId
from suraksha.web.console.viewer import ROUTER_CHECKS, Viewer, require
from suraksha.web.state import WebState, get_state

log = logging.getLogger(__name__)

router = APIRouter(prefix="/console", dependencies=ROUTER_CHECKS, include_in_schema=False)

MEDIA_WINDOW = timedelta(minutes=10)
"""How long after a reveal its media may be fetched (the page loads it at once; a later fetch needs a
new reveal, so every sight of the file is a recorded human view)."""
MEDIA_TYPES = {
    "jpeg": "image/jpeg",
    "png": "image/png",
    "gif": "image/gif",
    "webp": "image/webp",
    "bmp": "image/bmp",
    "tiff": "image/tiff",
    "heif": "image/heif",
    "mp4": "video/mp4",
    "mov": "video/quicktime",
    "webm": "video/webm",
    "mkv": "video/x-matroska",
    "avi": "video/x-msvideo",
}


def options_of(state: WebState) -> review.ReviewOptions:
    return review.ReviewOptions.from_settings(state.settings)


def user_of(session: Session, viewer: Viewer) -> ConsoleUser:
    user = session.get(ConsoleUser, viewer.user_id)
    if user is None:
        raise NotFound("your account no longer exists")
    return user


# -- queues ---------------------------------------------------------------------------------------------


def _priority(raw: str | None) -> int | None:
    if not (raw or "").strip():
        return None
    try:
        value = int(str(raw).strip())
    except ValueError:
        raise InvalidInput(f"priority {raw!r} is not a whole number: leave it empty or give e.g. 5") from None
    if not -1000 <= value <= 1000:
        raise InvalidInput("priority must be between -1000 and 1000")
    return value


UNCATEGORISED = "-"
"""The queue filter's value for cases without a category (stored as ""; the empty value means all)."""


@router.get("/queues")
def queues(
    request: Request,
    category: str | None = Query(None, max_length=60),
    source: str | None = Query(None, max_length=30),
    priority: str | None = Query(None, alias="min_priority", max_length=6),
    state: WebState = Depends(get_state),
    who: Viewer = require(Permission.QUEUE_VIEW),
) -> Response:
    """The cases this reviewer may take, in queue order, each with what picking the next one needs:
    the account, a snippet of the text, the due time (``review_sla_hours``) and the time left. The
    filter form sends every field; an empty one filters nothing."""
    min_priority = _priority(priority)
    options = options_of(state)
    now = utcnow()
    wanted = "" if category == UNCATEGORISED else (category or None)
    with state.platform.db.reading() as session:
        user = user_of(session, who)
        cases = review.list_queue(
            session,
            reviewer=user,
            options=options,
            category=wanted,
            source=source or None,
            min_priority=min_priority,
            now=now,
        )
        entries = context.queue_entries(session, cases, options)
        summary = review.queue_summary(session)
        exposure = reveals.exposure_summary(session, options, user_id=user.id, now=now)
        spent, _all = review.spent_categories(session, user, options, now)
    page = {
        "entries": entries,
        "summary": summary,
        "exposure": exposure,
        "spent": sorted(spent),
        "filters": {"category": category or "", "source": source or "", "min_priority": min_priority},
        "sources": [s.value for s in CaseSource],
        "categories": [(c or UNCATEGORISED, c) for c in sorted({q.category for q in summary})],
        "now": now,
        "can_claim": who.can(Permission.ITEM_CLAIM),
    }
    return render(request, "console/queues.html", who, page)


@router.post("/cases/{case_id}/claim")
def claim(
    case_id: PathId, state: WebState = Depends(get_state), who: Viewer = require(Permission.ITEM_CLAIM)
) -> Response:
    with state.platform.db.session() as session:
        review.claim(session, case_id, user_of(session, who), options_of(state))
    return see_other(f"/console/cases/{case_id}")


@router.post("/cases/{case_id}/release")
def release(
    case_id: PathId, state: WebState = Depends(get_state), who: Viewer = require(Permission.ITEM_CLAIM)
) -> Response:
    with state.platform.db.session() as session:
        review.release(session, case_id, user_of(session, who))
    return see_other("/console/queues")


@router.post("/cases/{case_id}/escalate")
def escalate(
    case_id: PathId,
    note: str = Form(..., max_length=4000),
    state: WebState = Depends(get_state),
    who: Viewer = require(Permission.ITEM_CLAIM),
) -> Response:
    with state.platform.db.session() as session:
        review.escalate(session, case_id, user_of(session, who), note)
    return see_other("/console/queues")


@router.post("/cases/{case_id}/reassign")
def reassign(
    case_id: PathId,
    to: str = Form(..., max_length=16),
    state: WebState = Depends(get_state),
    who: Viewer = require(Permission.DECISION_APPROVE),
) -> Response:
    """A lead gives the case to another reviewer (named by pseudonym), who must be allowed to take it."""
    with state.platform.db.session() as session:
        target = session.scalar(select(ConsoleUser).where(ConsoleUser.pseudonym == to.strip()))
        if target is None:
            raise NotFound(f"no reviewer {to!r}")
        review.reassign(session, case_id, user_of(session, who), target, options_of(state))
    return see_other(f"/console/cases/{case_id}")


# -- the item page ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TextPart:
    text: str
    matched: bool


def highlight(text: str, hits: list[ItemRuleHit]) -> Markup:
    """The item's text with the rule hits' spans in ``<mark>`` (escaped, overlaps merged)."""
    spans = sorted((h.start, h.end) for h in hits if h.field == "text" and 0 <= h.start < h.end <= len(text))
    merged: list[tuple[int, int]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    out, at = [], 0
    for start, end in merged:
        out.append(escape(text[at:start]))
        out.append(Markup("<mark>") + escape(text[start:end]) + Markup("</mark>"))
        at = end
    out.append(escape(text[at:]))
    return Markup("").join(out)


def _case_context(
    session: Session, case_id: int, who: Viewer, options: review.ReviewOptions
) -> dict[str, Any]:
    """The item page: ``suraksha.review.context.case_context`` (which applies the queue rules) and what
    the console adds around it (the viewer's claim, display and exposure, the decision form)."""
    user = user_of(session, who)
    now = utcnow()
    found = context.case_context(session, case_id, user, now=now)
    case = found.case
    holds = (
        case.state == CaseState.CLAIMED
        and case.claimed_by_id == user.id
        and case.claim_expires_at is not None
        and case.claim_expires_at > now
    )
    return {
        "case": case,
        "item": found.item,
        "account": found.account,
        "media": found.media,
        "matches": found.matches,
        "rule_hits": found.rule_hits,
        "rule_hit_groups": found.rule_hit_groups,
        "text": highlight(found.item.text or "", found.rule_hits),
        "entities": found.entities,
        "other_items": found.other_items,
        "account_decisions": found.account_decisions,
        "linked_accounts": found.linked_accounts,
        "history": found.review_decisions,
        "holds": holds,
        "due_at": options.due_at(case.category, case.detected_at),
        "display": reveals.display_for(session, user, options),
        "exposure": reveals.exposure_of(session, user, found.category, options) if found.media else None,
        "violations": list(ViolationCategory),
        "classifications": list(IndustryClassification),
        "actions": [
            ActionKind.REMOVE,
            ActionKind.RESTRICT,
            ActionKind.SUSPEND,
            ActionKind.WITHHOLD,
            ActionKind.RESTORE,
        ],
        "appeal_id": appeal_of_case(session, case.id),
        "taken": actions_in_force(session, found.item),  # the decision form: never asked for twice
        "four_eyes": options.needs_second_approval(case.category),
        "reviewers": [
            u.pseudonym
            for u in session.scalars(
                select(ConsoleUser).where(ConsoleUser.disabled_at.is_(None)).order_by(ConsoleUser.pseudonym)
            )
            if Permission.ITEM_CLAIM in permissions_of(u.roles.split())
        ]
        if who.can(Permission.DECISION_APPROVE)
        else [],
        "now": now,
    }


@router.get("/cases/{case_id}")
def case_page(
    request: Request,
    case_id: PathId,
    state: WebState = Depends(get_state),
    who: Viewer = require(Permission.QUEUE_VIEW),
) -> Response:
    with state.platform.db.reading() as session:
        context = _case_context(session, case_id, who, options_of(state))
        context["flagger_notices"] = flagger_notices.notices_on_case(
            session, case_id, state.platform.legal_rules
        )
    return render(request, "console/case.html", who, context)


@router.get("/find")
def find(
    ref: str = Query(..., min_length=1, max_length=2000),
    state: WebState = Depends(get_state),
    who: Viewer = require(Permission.QUEUE_VIEW),
) -> Response:
    """An account or a post as people name it (@handle, the platform's id, a profile or post URL, #id):
    to the account's page (a post's account, for a post). A name that fits neither is a 404 page saying
    which forms it takes."""
    patterns = state.platform.url_patterns
    with state.platform.db.reading() as session:
        try:
            account_id = find_item(session, ref, patterns).account_id
        except NotFound:
            account_id = find_account(session, ref, patterns).id
    return see_other(f"/console/accounts/{account_id}")


@router.get("/accounts/{account_id}")
def account_page(
    request: Request,
    account_id: PathId,
    state: WebState = Depends(get_state),
    who: Viewer = require(Permission.QUEUE_VIEW),
) -> Response:
    """A platform account, as a reviewer follows it from a case or a queue: its facts, items, cases,
    decisions and linked accounts (``suraksha.review.context.account_context``)."""
    with state.platform.db.reading() as session:
        found = context.account_context(session, account_id)
    return render(request, "console/platform_account.html", who, {"found": found})


@router.post("/media/{media_id}/reveal")
def reveal(
    request: Request,
    media_id: PathId,
    case_id: OptionalFormId = None,
    state: WebState = Depends(get_state),
    who: Viewer = require(Permission.QUEUE_VIEW),
) -> Response:
    """Record a human view of the file (refused, and audited, without the permission its category needs
    or past the exposure budget), then answer the unshielded media element that loads its bytes."""
    options = options_of(state)
    db = state.platform.db
    state.platform.refuse_destroyed_media(media_id)
    with db.reading() as session:
        user = user_of(session, who)
        session.expunge(user)
    view = reveals.reveal_media(db, media_id, user, options, case_id=case_id)
    with db.reading() as session:
        media = session.get(ItemMedia, media_id)
        assert media is not None
        display = reveals.display_for(session, user, options)
        exposure = reveals.exposure_of(session, user, view.category, options)
        session.expunge(media)
    context = {"m": media, "view": view, "display": display, "exposure": exposure}
    return render(request, "console/fragments/revealed.html", who, context)


@router.post("/views/{view_id}/end")
def end_view(
    request: Request,
    view_id: PathId,
    case_id: FormId,
    state: WebState = Depends(get_state),
    who: Viewer = require(Permission.QUEUE_VIEW),
) -> Response:
    """Hide revealed media again: the reveal's length is recorded (the minutes budget counts it)."""
    with state.platform.db.session() as session:
        view = reveals.end_reveal(session, view_id, user_of(session, who))
        media = session.get(ItemMedia, view.media_id)
        assert media is not None
        session.expunge(media)
    context = {"m": media, "case_id": case_id, "first": False}
    return render(request, "console/fragments/shielded.html", who, context)


def _revealed_bytes(state: WebState, who: Viewer, media_id: int, view: int) -> tuple[bytes, str]:
    """The bytes of a file this user revealed in the last ``MEDIA_WINDOW``, and its format, while the
    user may still open the case it was revealed in (the queue rules, ``check_may_open``)."""
    with state.platform.db.reading() as session:
        seen = session.get(HumanView, view)
        media = session.get(ItemMedia, media_id)
        if seen is None or media is None or seen.media_id != media_id or seen.user_id != who.user_id:
            raise NotFound("no reveal of this file by you: reveal it first")
        if seen.viewed_at + MEDIA_WINDOW < utcnow():
            raise Forbidden("this reveal has expired: reveal the file again (each sight is recorded)")
        if seen.case_id is None:
            raise Forbidden("this reveal names no review case: reveal the file again from its case")
        review.check_may_open(session, review.get_case(session, seen.case_id), user_of(session, who))
        sha256, fmt = media.sha256, (media.media_format or "").lower()
    state.platform.refuse_destroyed_media(media_id)
    data = state.platform.media_store.get(sha256) if sha256 else None
    if data is None:
        raise NotFound("the file is no longer held (it was purged or never fetched)")
    return data, fmt


NO_STORE = {"Cache-Control": "no-store, private", "Content-Disposition": "inline", "Pragma": "no-cache"}
STRIP_FRAMES = 8
STRIP_HEIGHT = 90


@router.get("/media/{media_id}/content")
def media_content(
    media_id: PathId,
    view: QueryId,
    state: WebState = Depends(get_state),
    who: Viewer = require(Permission.QUEUE_VIEW),
) -> Response:
    """The file's bytes, for a reveal this user made in the last ``MEDIA_WINDOW`` (the reveal is the
    audited human view). Never cached; never sniffed; never a download."""
    data, fmt = _revealed_bytes(state, who, media_id, view)
    return Response(data, media_type=MEDIA_TYPES.get(fmt, "application/octet-stream"), headers=NO_STORE)


@router.get("/media/{media_id}/strip")
def media_strip(
    media_id: PathId,
    view: QueryId,
    state: WebState = Depends(get_state),
    who: Viewer = require(Permission.QUEUE_VIEW),
) -> Response:
    """A strip of up to ``STRIP_FRAMES`` frames spread over a revealed video, as one JPEG: a reviewer
    sees what the video holds without playing it (decoded within the media limits)."""
    data, _fmt = _revealed_bytes(state, who, media_id, view)
    limits = state.settings.media_limits
    info = probe_video(data, limits)
    duration = info.duration_s or float(STRIP_FRAMES)
    fps = min(1.0 * STRIP_FRAMES, STRIP_FRAMES / max(duration, 0.1))
    frames = []
    for frame in iter_frames(data, limits, fps=fps):
        picture = Image.fromarray(frame.rgb)
        width = max(1, round(picture.width * STRIP_HEIGHT / max(picture.height, 1)))
        frames.append(picture.resize((width, STRIP_HEIGHT)))
        if len(frames) >= STRIP_FRAMES:
            break
    strip = Image.new("RGB", (max(1, sum(f.width for f in frames)), STRIP_HEIGHT))
    x = 0
    for picture in frames:
        strip.paste(picture, (x, 0))
        x += picture.width
    out = io.BytesIO()
    strip.save(out, "JPEG", quality=80)
    return Response(out.getvalue(), media_type="image/jpeg", headers=NO_STORE)


def _choice(form: dict[str, Any]) -> review_decisions.ReviewChoice:
    try:
        violation = ViolationCategory(str(form.get("violation", "")))
    except ValueError:
        raise InvalidInput("choose what the item is (the violation category)") from None
    classification = str(form.get("industry_classification") or "")
    try:
        actions = tuple(ActionKind(str(a)) for a in form.get("actions", []))
        industry = IndustryClassification(classification) if classification else None
    except ValueError as exc:
        raise InvalidInput(str(exc)) from None
    countries = tuple(c.strip().upper() for c in str(form.get("countries", "")).replace(",", " ").split())
    return review_decisions.ReviewChoice(
        violation=violation,
        actions=actions,
        countries=countries,
        industry_classification=industry,
        report_to_clearinghouse=form.get("report") == "true",
        child_at_immediate_risk=form.get("child_at_risk") == "true",
        allow_list=form.get("allow_list") == "true",
        note=str(form.get("note", ""))[:4001],
    )


@router.post("/cases/{case_id}/decide")
async def decide(
    request: Request,
    case_id: PathId,
    state: WebState = Depends(get_state),
    who: Viewer = require(Permission.ITEM_DECIDE),
) -> Response:
    form = await request.form()
    fields: dict[str, Any] = {k: v for k, v in form.items() if isinstance(v, str)}
    fields["actions"] = [v for v in form.getlist("actions") if isinstance(v, str)]
    choice = _choice(fields)

    def work() -> int:
        with state.platform.db.session() as session:
            decided = review_decisions.decide(
                session, case_id, user_of(session, who), choice, options_of(state)
            )
            return decided.id

    await run_in_threadpool(work)
    return see_other(f"/console/cases/{case_id}")


# -- four eyes -----------------------------------------------------------------------------------------


@router.get("/approvals")
def approvals(
    request: Request, state: WebState = Depends(get_state), who: Viewer = require(Permission.DECISION_APPROVE)
) -> Response:
    with state.platform.db.reading() as session:
        user = user_of(session, who)
        pending = review_decisions.approval_queue(session, approver=user)
        cases = {rd.id: review.get_case(session, rd.case_id) for rd in pending}
        reversals = [
            a
            for a in list_appeals(session, state=AppealState.AWAITING_APPROVAL)
            if a.decided_by_id != user.id
        ]
    network = (
        state.platform.investigation_actions_waiting(user_id=who.user_id)
        if who.can(Permission.NETWORK_VIEW)
        else []
    )
    context = {"pending": pending, "cases": cases, "reversals": reversals, "network": network}
    return render(request, "console/approvals.html", who, context)


@router.post("/approvals/{review_decision_id}")
def approval(
    review_decision_id: PathId,
    verdict: str = Form(..., pattern="^(approve|reject)$"),
    note: str = Form("", max_length=4000),
    state: WebState = Depends(get_state),
    who: Viewer = require(Permission.DECISION_APPROVE),
) -> Response:
    with state.platform.db.session() as session:
        user = user_of(session, who)
        if verdict == "approve":
            review_decisions.approve(session, review_decision_id, user, note=note, options=options_of(state))
        else:
            review_decisions.reject(session, review_decision_id, user, note=note)
    return see_other("/console/approvals")


# -- display preference -----------------------------------------------------------------------------------


@router.post("/account/display")
def display(
    blur: str = Form("default", pattern="^(default|on|off)$"),
    greyscale: str = Form("default", pattern="^(default|on|off)$"),
    state: WebState = Depends(get_state),
    who: Viewer = require(Permission.QUEUE_VIEW),
) -> Response:
    """The reviewer's own choice of blur and greyscale ("default": the organisation's)."""
    value = {"default": None, "on": True, "off": False}
    with state.platform.db.session() as session:
        reveals.set_display(session, user_of(session, who), blur=value[blur], greyscale=value[greyscale])
    return see_other("/console/account")
