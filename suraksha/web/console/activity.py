"""What happened in a period, as the dashboard counts it and the pages its tiles link to list it:
decisions (automated or by a reviewer), items removed, clearinghouse reports finished, items by state.

A period is the last 24 hours, 7 days or 30 days, or a custom from-to in whole UTC days. Every count
is computed from the records themselves (``decisions``, ``actions``, ``cybertipline_reports``) with
the same filter the listing page uses, so a tile's number and its page agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session
from starlette.responses import Response

from suraksha.content.models import Account, Item
from suraksha.db.base import utcnow
from suraksha.enforcement.models import Action, ActionKind, DecidedBy, Decision
from suraksha.errors import InvalidInput
from suraksha.permissions import Permission
from suraksha.reporting.models import CyberTiplineReport, ReportState
from suraksha.web.console.pages import render
from suraksha.web.console.viewer import ROUTER_CHECKS, Viewer, require
from suraksha.web.state import WebState, get_state

router = APIRouter(prefix="/console", dependencies=ROUTER_CHECKS, include_in_schema=False)

PERIODS = {
    "24h": ("last 24 hours", timedelta(hours=24)),
    "7d": ("last 7 days", timedelta(days=7)),
    "30d": ("last 30 days", timedelta(days=30)),
}
CUSTOM = "custom"
MAX_DAYS = 366
PAGE = 100


@dataclass(frozen=True)
class Period:
    """``[since, until)`` in UTC, with how the picker names it (``key``: 24h, 7d, 30d or custom)."""

    key: str
    since: datetime
    until: datetime
    first_day: date | None = None
    last_day: date | None = None

    @property
    def label(self) -> str:
        if self.key in PERIODS:
            return PERIODS[self.key][0]
        return f"{self.first_day} to {self.last_day} (UTC)"

    @property
    def hours(self) -> int:
        return max(1, int((self.until - self.since).total_seconds() // 3600))

    def query(self) -> str:
        """The period as URL parameters, for the links from one page to another."""
        if self.key == CUSTOM:
            return urlencode({"period": CUSTOM, "from": str(self.first_day), "to": str(self.last_day)})
        return urlencode({"period": self.key})


def parse_period(key: str | None, first: str | None, last: str | None, now: datetime | None = None) -> Period:
    """The period a page was asked for (default: the last 24 hours). ``custom`` takes ``from`` and
    ``to`` as dates (``YYYY-MM-DD``, UTC), both days included; InvalidInput says what was wrong."""
    now = now or utcnow()
    key = key or "24h"
    if key in PERIODS:
        return Period(key, now - PERIODS[key][1], now)
    if key != CUSTOM:
        raise InvalidInput(f"period {key[:20]!r} is not one of 24h, 7d, 30d or custom")
    try:
        first_day = date.fromisoformat(first or "")
        last_day = date.fromisoformat(last or "")
    except ValueError:
        raise InvalidInput("a custom period needs both a from and a to date, as YYYY-MM-DD") from None
    if last_day < first_day:
        raise InvalidInput(f"the period ends ({last_day}) before it starts ({first_day}): swap the dates")
    if (last_day - first_day).days >= MAX_DAYS:
        raise InvalidInput(f"a custom period is at most {MAX_DAYS} days: choose a shorter one")
    since = datetime.combine(first_day, time(), tzinfo=now.tzinfo)
    until = datetime.combine(last_day + timedelta(days=1), time(), tzinfo=now.tzinfo)
    return Period(CUSTOM, since, until, first_day, last_day)


# -- the counts (each with the query its listing page uses) ---------------------------------------------


def _decisions(period: Period, decided_by: str | None) -> Select[Any]:
    query = select(Decision).where(Decision.created_at >= period.since, Decision.created_at < period.until)
    if decided_by:
        query = query.where(Decision.decided_by == decided_by)
    return query


def _removals(period: Period) -> Select[Any]:
    return select(Action).where(
        Action.kind == ActionKind.REMOVE, Action.created_at >= period.since, Action.created_at < period.until
    )


def _finished_reports(period: Period) -> Select[Any]:
    return select(CyberTiplineReport).where(
        CyberTiplineReport.state == ReportState.FINISHED,
        CyberTiplineReport.finished_at >= period.since,
        CyberTiplineReport.finished_at < period.until,
    )


@dataclass(frozen=True)
class PeriodCounts:
    automated: int
    human: int
    removed: int
    """Items with a remove action written in the period (each item once)."""
    reports_finished: int


def period_counts(session: Session, period: Period) -> PeriodCounts:
    by = dict(
        session.execute(
            _decisions(period, None)
            .with_only_columns(Decision.decided_by, func.count())
            .group_by(Decision.decided_by)
        ).all()
    )
    removed = session.scalar(_removals(period).with_only_columns(func.count(func.distinct(Action.item_id))))
    finished = session.scalar(_finished_reports(period).with_only_columns(func.count()))
    return PeriodCounts(
        automated=int(by.get(DecidedBy.POLICY, 0)),
        human=int(by.get(DecidedBy.REVIEWER, 0)),
        removed=int(removed or 0),
        reports_finished=int(finished or 0),
    )


# -- the pages the tiles link to -------------------------------------------------------------------------


@dataclass(frozen=True)
class DecisionRow:
    decision: Decision
    item: Item
    account: Account
    actions: list[str]


@router.get("/decisions")
def decisions_page(
    request: Request,
    period: str | None = Query(None, max_length=10),
    first: str | None = Query(None, alias="from", max_length=10),
    last: str | None = Query(None, alias="to", max_length=10),
    decided_by: str | None = Query(None, pattern="^(policy|reviewer)$"),
    action: str | None = Query(None, pattern="^remove$"),
    state: WebState = Depends(get_state),
    who: Viewer = require(Permission.QUEUE_VIEW),
) -> Response:
    """Decisions in a period (newest first, at most ``PAGE``): all, the automated or the human ones,
    or (``action=remove``) the removals, each item once, as the dashboard counts them."""
    chosen = parse_period(period, first, last)
    with state.platform.db.reading() as session:
        if action == ActionKind.REMOVE:
            removals = _removals(chosen)
            total = int(
                session.scalar(removals.with_only_columns(func.count(func.distinct(Action.item_id)))) or 0
            )
            ids = (
                select(func.max(Action.decision_id))
                .where(Action.id.in_(removals.with_only_columns(Action.id)))
                .group_by(Action.item_id)
            )
            query = select(Decision).where(Decision.id.in_(ids))
        else:
            query = _decisions(chosen, decided_by)
            total = int(session.scalar(query.with_only_columns(func.count())) or 0)
        found = list(
            session.scalars(query.order_by(Decision.created_at.desc(), Decision.id.desc()).limit(PAGE))
        )
        rows = _decision_rows(session, found)
    what = (
        "Items removed"
        if action
        else {"policy": "Automated decisions", "reviewer": "Human decisions"}.get(
            decided_by or "", "Decisions"
        )
    )
    context = {
        "rows": rows,
        "total": total,
        "period": chosen,
        "what": what,
        "page": PAGE,
        "filters": {"decided_by": decided_by or "", "action": action or ""},
    }
    return render(request, "console/decisions.html", who, context)


def _decision_rows(session: Session, found: list[Decision]) -> list[DecisionRow]:
    if not found:
        return []
    items = {
        item.id: (item, account)
        for item, account in session.execute(
            select(Item, Account)
            .join(Account, Account.id == Item.account_id)
            .where(Item.id.in_({d.item_id for d in found}))
        ).all()
    }
    kinds: dict[int, list[str]] = {}
    for decision_id, kind in session.execute(
        select(Action.decision_id, Action.kind).where(Action.decision_id.in_([d.id for d in found]))
    ).all():
        kinds.setdefault(decision_id, []).append(str(kind))
    return [DecisionRow(d, *items[d.item_id], sorted(kinds.get(d.id, []))) for d in found]


@router.get("/items")
def items_page(
    request: Request,
    item_state: str | None = Query(None, alias="state", max_length=20),
    state: WebState = Depends(get_state),
    who: Viewer = require(Permission.QUEUE_VIEW),
) -> Response:
    """The newest items (at most ``PAGE``), in one state or all: what the dashboard's item counts
    count. Ids, accounts and states only; an item's text and media are read on its case's page."""
    query = select(Item, Account).join(Account, Account.id == Item.account_id)
    count = select(func.count()).select_from(Item)
    if item_state:
        query = query.where(Item.state == item_state)
        count = count.where(Item.state == item_state)
    with state.platform.db.reading() as session:
        rows = session.execute(query.order_by(Item.received_at.desc(), Item.id.desc()).limit(PAGE)).all()
        total = int(session.scalar(count) or 0)
    context = {"rows": rows, "total": total, "item_state": item_state or "", "page": PAGE}
    return render(request, "console/items.html", who, context)
