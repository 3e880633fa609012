"""Clearinghouse reports in the console: the list with each report's state and NCMEC reportId, and a
report's page with its files (viewed flags and what they rest on) and the XML documents as sent.

Open to ``report:submit`` (leads and legal). The XML names the reported account and the files'
hashes but carries no media, so viewing it is not an evidence access."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.responses import Response

from suraksha.content.models import Account
from suraksha.permissions import Permission
from suraksha.reporting.models import CyberTiplineReport, ReportState
from suraksha.reporting.ports import environment_label
from suraksha.reporting.services import report_detail, report_dict
from suraksha.web.console import activity
from suraksha.web.console.pages import render
from suraksha.web.console.params import OptionalQueryId, PathId
from suraksha.web.console.viewer import ROUTER_CHECKS, Viewer, require
from suraksha.web.state import WebState, get_state

router = APIRouter(prefix="/console", dependencies=ROUTER_CHECKS, include_in_schema=False)

PAGE = 50


@router.get("/reports")
def report_list(
    request: Request,
    state: str | None = Query(None, max_length=40),
    before: OptionalQueryId = None,
    period: str | None = Query(None, max_length=10),
    first: str | None = Query(None, alias="from", max_length=10),
    last: str | None = Query(None, alias="to", max_length=10),
    app: WebState = Depends(get_state),
    who: Viewer = require(Permission.REPORT_SUBMIT),
) -> Response:
    """Reports, newest first; with a period (as the dashboard's), those finished in it."""
    finished_in = activity.parse_period(period, first, last) if period else None
    with app.platform.db.reading() as session:
        query = select(CyberTiplineReport).order_by(CyberTiplineReport.id.desc()).limit(PAGE)
        if finished_in is not None:
            query = query.where(
                CyberTiplineReport.finished_at >= finished_in.since,
                CyberTiplineReport.finished_at < finished_in.until,
            )
        if state:
            query = query.where(CyberTiplineReport.state == state)
        if before:
            query = query.where(CyberTiplineReport.id < before)
        reports = [
            {**report_dict(r), "created_at": r.created_at, "updated_at": r.updated_at}
            for r in session.scalars(query)
        ]
        accounts = _accounts(session, [int(str(r["account_id"])) for r in reports])
    older = reports[-1]["id"] if len(reports) == PAGE else None
    context = {
        "reports": reports,
        "accounts": accounts,
        "state": state or "",
        "older": older,
        "finished_in": finished_in,
        "states": [s.value for s in ReportState],
        "configured_environment": environment_label(app.settings),
    }
    return render(request, "console/reports.html", who, context)


@router.get("/reports/{report_id}")
def report_page(
    request: Request,
    report_id: PathId,
    app: WebState = Depends(get_state),
    who: Viewer = require(Permission.REPORT_SUBMIT),
) -> Response:
    with app.platform.db.reading() as session:
        detail = report_detail(session, report_id)  # NotFound: 404 page
        accounts = _accounts(session, [int(str(detail["account_id"]))])
    context = {
        "report": detail,
        "account": accounts.get(int(str(detail["account_id"]))),
        "configured_environment": environment_label(app.settings),
    }
    return render(request, "console/report.html", who, context)


def _accounts(session: Session, ids: list[int]) -> dict[int, Account]:
    """The reported accounts by id, to show their handles and platform ids rather than our ids."""
    if not ids:
        return {}
    return {a.id: a for a in session.scalars(select(Account).where(Account.id.in_(set(ids))))}
