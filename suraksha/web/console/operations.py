"""Operations pages: the dashboard, kill switches (who flipped them, when, why), and the audit log with
its chain check (auditors)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from fastapi import APIRouter, Depends, Form, Query, Request
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from starlette.responses import Response

from suraksha import audit
from suraksha.admin import services as switches
from suraksha.admin.models import KillSwitch
from suraksha.audit import AuditEvent
from suraksha.content.models import Item
from suraksha.db.base import utcnow
from suraksha.enforcement.models import Decision, Verdict
from suraksha.errors import InvalidInput
from suraksha.permissions import Permission
from suraksha.review import dashboard as review_dashboard
from suraksha.review.services import ReviewOptions
from suraksha.web.console import activity, review_link
from suraksha.web.console.pages import render, see_other
from suraksha.web.console.params import OptionalQueryId
from suraksha.web.console.viewer import (
    FLAGGER_HOME,
    ROUTER_CHECKS,
    Viewer,
    allowed_when_read_only,
    open_to_flaggers,
    require,
    viewer,
)
from suraksha.web.state import WebState, get_state

router = APIRouter(prefix="/console", dependencies=ROUTER_CHECKS, include_in_schema=False)

AUDIT_PAGE = 50


@dataclass
class Dashboard:
    items_by_state: dict[str, int] = field(default_factory=dict)
    decisions_by_hour: list[tuple[datetime, int, int]] = field(default_factory=list)
    """(hour, automated, human) over the period, when it is at most a week long."""
    automated: int = 0
    human: int = 0
    removed: int = 0
    reports_finished: int = 0
    awaiting_review: int = 0
    oldest_awaiting: datetime | None = None
    switches_on: list[str] = field(default_factory=list)
    review: dict[str, Any] | None = None
    """From the review area, when it is installed: queue sizes, oldest item, exposure."""

    @property
    def busiest_hour(self) -> int:
        return max((a + h for _, a, h in self.decisions_by_hour), default=0)


def dashboard_figures(
    session: Session,
    viewer: Viewer,
    options: ReviewOptions,
    period: activity.Period | None = None,
    now: datetime | None = None,
) -> Dashboard:
    """Counts for the dashboard, all from indexed columns: the period's (``activity.period_counts``),
    and decisions per hour over it (up to a week) with the review figures from the review area's one
    read (``suraksha.review.dashboard``)."""
    now = now or utcnow()
    period = period or activity.parse_period(None, None, None, now)
    figures = Dashboard()
    figures.items_by_state = {
        str(state): int(count)
        for state, count in session.execute(select(Item.state, func.count()).group_by(Item.state))
    }
    review = review_dashboard.dashboard(session, options, hours=1, now=now)
    if period.hours <= review_dashboard.MAX_HOURS:  # hour by hour, up to a week
        end = min(now, period.until - timedelta(microseconds=1))
        figures.decisions_by_hour = [
            (h.hour, h.automated, h.human)
            for h in review_dashboard.decisions_per_hour(session, hours=period.hours - 1, now=end)
        ]
    counts = activity.period_counts(session, period)
    figures.automated, figures.human = counts.automated, counts.human
    figures.removed, figures.reports_finished = counts.removed, counts.reports_finished
    awaiting = select(func.count(), func.min(Decision.created_at)).where(Decision.verdict == Verdict.REVIEW)
    count, oldest = session.execute(awaiting).one()
    figures.awaiting_review, figures.oldest_awaiting = int(count or 0), oldest
    figures.switches_on = [
        s.value for s, row in switches.all_switches(session).items() if row and row.enabled
    ]
    figures.review = review_link.dashboard(review, viewer)
    return figures


@router.get("/")
@open_to_flaggers  # only to send a flagger's staff to their notices
def dashboard(
    request: Request,
    period: str | None = Query(None, max_length=10),
    first: str | None = Query(None, alias="from", max_length=10),
    last: str | None = Query(None, alias="to", max_length=10),
    state: WebState = Depends(get_state),
    who: Viewer = Depends(viewer),
) -> Response:
    """The dashboard over a period (the picker: last 24 h, 7 days, 30 days, or from-to): what waits
    now, and what was decided, removed and reported in the period; each tile links to its list. A
    trusted flagger's staff are sent to their notices instead."""
    if who.can(Permission.NOTICES_OWN):
        return see_other(FLAGGER_HOME)
    chosen = activity.parse_period(period, first, last)
    with state.platform.db.reading() as session:
        figures = dashboard_figures(session, who, state.platform.review_options, chosen)
    index = state.index
    context = {
        "figures": figures,
        "period": chosen,
        "periods": activity.PERIODS,
        "index_ready": index.ready,
        "index_loaded": index.loaded,
    }
    return render(request, "console/dashboard.html", who, context)


# -- kill switches -------------------------------------------------------------------------------------


SWITCH_HELP = {
    KillSwitch.PAUSE_AUTOMATED_ENFORCEMENT: "Automated decisions are still made and recorded; their "
    "actions wait for a person.",
    KillSwitch.PAUSE_DELIVERY: "Nothing is sent to the platform; actions queue and go out when resumed.",
    KillSwitch.READ_ONLY: "The API refuses every write (items, checks that persist, bank changes).",
}


@router.get("/switches")
def switch_page(
    request: Request, state: WebState = Depends(get_state), who: Viewer = require(Permission.SWITCH_SET)
) -> Response:
    with state.platform.db.reading() as session:
        rows = switches.all_switches(session)
        history = list(
            session.scalars(
                select(AuditEvent)
                .where(AuditEvent.action == audit.AuditAction.SWITCH_SET.value)
                .order_by(AuditEvent.id.desc())
                .limit(20)
            )
        )
    context = {"switches": rows, "help": SWITCH_HELP, "history": history}
    return render(request, "console/switches.html", who, context)


@router.post("/switches/{name}")
@allowed_when_read_only
def switch_set(
    name: str,
    enabled: bool = Form(...),
    reason: str = Form(..., min_length=3, max_length=1000),
    state: WebState = Depends(get_state),
    who: Viewer = require(Permission.SWITCH_SET),
) -> Response:
    """Flip a switch; a reason is required (it is shown beside who and when, and audited)."""
    try:
        switch = KillSwitch(name)
    except ValueError:
        raise InvalidInput(f"no kill switch {name[:60]!r}") from None
    with state.platform.db.session() as session:
        switches.set_switch(session, switch, enabled, by=who.actor, reason=reason.strip())
    state.switches.put(switch, enabled)  # this process at once; the others within web_auth_cache_s
    return see_other("/console/switches")


# -- the audit log ------------------------------------------------------------------------------------


@router.get("/audit")
def audit_page(
    request: Request,
    before: OptionalQueryId = None,
    action: str | None = Query(None, max_length=60),
    state: WebState = Depends(get_state),
    who: Viewer = require(Permission.AUDIT_VIEW),
) -> Response:
    query = select(AuditEvent).order_by(AuditEvent.id.desc()).limit(AUDIT_PAGE)
    if before is not None:
        query = query.where(AuditEvent.id < before)
    if action:
        query = query.where(AuditEvent.action == action)
    with state.platform.db.reading() as session:
        rows = list(session.scalars(query))
        actions = sorted(str(a) for a in session.scalars(select(AuditEvent.action).distinct()))
    context = {
        "rows": rows,
        "actions": actions,
        "action": action or "",
        "older": rows[-1].id if len(rows) == AUDIT_PAGE else None,
    }
    return render(request, "console/audit.html", who, context)


@router.post("/audit/verify")
@allowed_when_read_only
def audit_verify(
    request: Request,
    expect: str = Form("", max_length=64),
    state: WebState = Depends(get_state),
    who: Viewer = require(Permission.AUDIT_VIEW),
) -> Response:
    """Walk the whole chain and check it against its checkpoints (``suraksha audit verify``); with a
    head hash kept elsewhere, check it is still in the chain."""
    result = state.platform.audit_verify(expect=expect.strip() or None)
    return render(request, "console/fragments/audit_verify.html", who, {"result": result})
