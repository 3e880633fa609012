"""Figures the regulators' templates need that ``statistics()`` does not hold, each counted from the
records themselves for a half-open period ``[start, end)`` in UTC.

Definitions (docs/transparency.md says them in words):

- **report category** of a decision: its ``category`` (a bank, rule or reviewer category) folded into
  the few categories the templates report by (``REPORT_CATEGORIES``); anything else is ``other``.
- **grievances**: the legal desk's requests of kind ``grievance`` or ``grievance_intimate_imagery``
  (IT Rules r.3(2)) of a jurisdiction, received (``received_at``), resolved (``answered_at``) and acted on
  (``acted_at``) in the period; the items removed or disabled on them are the remove and withhold
  actions written in the period under the desk's decisions naming those requests.
- **user reports**: items received in the period that a user or a trusted flagger reported
  (``reporter_kind``), and the reported items with a remove, withhold or restrict action written in the
  period.
- **noticed items removed**: distinct items with a remove, withhold or restrict action written in the
  period that a user reported (``reporter_kind`` ``user``) or that a trusted flagger's notice named (a
  ``flagger_notice_targets`` row resolved to the item: the flaggers' own record, which also holds the
  items Suraksha already had when the notice came), by who, and either (each item once).
- **removed or disabled**: distinct items with a remove, withhold or restrict action written in the
  period, by report category, automated (an automated action) or not. For a period of whole days,
  ``removals`` reads them (and the reported items removed) from the rollup's removal measures; the
  functions below count them from the records, and tests hold the two equal.
- **orders**: requests of the legal desk from authorities of given jurisdictions received in the period,
  with the median time from receipt to acknowledgement, action and answer (seconds).
- **CyberTipline reports by incident type**: reports finished in the period, and their files.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import and_, case, func, literal_column, or_, select
from sqlalchemy.orm import Session

from suraksha.content.models import Item
from suraksha.enforcement.models import Action, ActionKind, DecidedBy, Decision
from suraksha.flaggers.models import NoticeTarget
from suraksha.legal.clocks import RequestKind
from suraksha.legal.models import LegalRequest
from suraksha.reporting.models import CyberTiplineReport, CyberTiplineReportFile, IncidentType, ReportState
from suraksha.transparency.statistics import Period, Spread
from suraksha.transparency.tally import (
    CATEGORY_OF,
    REMOVAL_MEASURES,
    REMOVING,
    REPORT_CATEGORIES,
    REPORTER_KINDS,
    Measure,
    Tally,
    day_start,
    utc_day,
)

T = TypeVar("T")

GRIEVANCE_KINDS = (RequestKind.GRIEVANCE.value, RequestKind.GRIEVANCE_INTIMATE_IMAGERY.value)

EEA_STATES = [
    "AT",
    "BE",
    "BG",
    "CY",
    "CZ",
    "DE",
    "DK",
    "EE",
    "ES",
    "FI",
    "FR",
    "GR",
    "HR",
    "HU",
    "IE",
    "IS",
    "IT",
    "LI",
    "LT",
    "LU",
    "LV",
    "MT",
    "NL",
    "NO",
    "PL",
    "PT",
    "RO",
    "SE",
    "SI",
    "SK",
]
"""The EU and EEA states (the DSA Transparency Database's territorial scope codes)."""


def report_category(raw: str) -> str:
    return CATEGORY_OF.get(raw.strip().lower(), "other")


@dataclass(frozen=True)
class Removals:
    """The distinct items removed in a period of whole days, from the removal measures of its tally
    (``suraksha.transparency.tally``): the same figures as ``items_removed``, ``removed_by_category``
    and ``reported_items_removed`` count from the records, read from the rollup's days."""

    items: int
    by_tool: dict[bool, int]
    """Items with an automated (True) / not automated (False) removing action."""
    by_category: dict[bool, dict[str, int]]
    """The same, by report category."""
    by_reporter: dict[str, int]
    """Items reported by users / trusted flaggers (``reporter_kind``) removed in the period."""
    reports: dict[str, int]
    """Items received in the period that users / trusted flaggers reported (as ``user_reports``)."""


def whole_days(period: Period) -> bool:
    """Whether ``period`` starts and ends at UTC midnight (what the removal measures can count)."""
    return all(t == day_start(utc_day(t)) for t in (period.start, period.end))


def removals(tally: Tally, period: Period) -> Removals:
    """Distinct items removed in ``period`` (whole UTC days) from ``tally``, the removal measures of
    its days: the cells whose item had no removal earlier in the period (``since`` before its start)."""
    if not whole_days(period):
        raise ValueError("the removal measures count whole UTC days")
    start = utc_day(period.start).isoformat()
    items = 0
    by_tool = dict.fromkeys((True, False), 0)
    by_category = {tool: dict.fromkeys(REPORT_CATEGORIES, 0) for tool in (True, False)}
    by_reporter = dict.fromkeys(REPORTER_KINDS, 0)
    reports = dict.fromkeys(REPORTER_KINDS, 0)
    for (_, cell), value in tally.counts.items():
        if cell.measure == Measure.REPORTED_ITEM and cell.source in reports:
            reports[cell.source] += value
        if cell.measure not in REMOVAL_MEASURES or (cell.since and cell.since >= start):
            continue
        if cell.measure == Measure.REMOVED_ITEM:
            items += value
            if cell.source in by_reporter:
                by_reporter[cell.source] += value
        elif cell.measure == Measure.REMOVED_ITEM_TOOL:
            by_tool[cell.automated] += value
        else:
            by_category[cell.automated][cell.category] += value
    return Removals(items, by_tool, by_category, by_reporter, reports)


@dataclass(frozen=True)
class Grievances:
    received: dict[str, int]
    resolved: dict[str, int]
    actioned: dict[str, int]
    items_removed: int


def _zero(keys: Collection[str]) -> Counter[str]:
    return Counter(dict.fromkeys(keys, 0))


def grievances(session: Session, period: Period, jurisdictions: Collection[str]) -> Grievances:
    """Grievances of ``jurisdictions`` (country codes; a subdivision such as IN-DL counts for IN)."""

    def within(column: Any) -> Any:
        return and_(column >= period.start, column < period.end)

    rows = session.execute(
        select(
            LegalRequest.kind,
            LegalRequest.jurisdiction,
            LegalRequest.received_at,
            LegalRequest.answered_at,
            LegalRequest.acted_at,
        ).where(
            LegalRequest.kind.in_(GRIEVANCE_KINDS),
            or_(
                within(LegalRequest.received_at),
                within(LegalRequest.answered_at),
                within(LegalRequest.acted_at),
            ),
        )
    ).all()
    received, resolved, actioned = _zero(GRIEVANCE_KINDS), _zero(GRIEVANCE_KINDS), _zero(GRIEVANCE_KINDS)
    for row in rows:
        if row.jurisdiction.split("-")[0] in jurisdictions:
            received[row.kind] += _within(period, row.received_at)
            resolved[row.kind] += _within(period, row.answered_at)
            actioned[row.kind] += _within(period, row.acted_at)
    # The desk's removals in the period, then which of the requests they name are such grievances.
    taken = session.execute(
        select(Action.item_id, Decision.decided_by_ref)
        .join(Decision, Decision.id == Action.decision_id)
        .where(
            # a literal, so that SQLite (which never matches a bound parameter to a partial index)
            # too reads the legal desk's few decisions by ix_decisions_legal_ref
            Decision.decided_by == literal_column(f"'{DecidedBy.LEGAL.value}'"),
            Action.kind.in_((ActionKind.REMOVE.value, ActionKind.WITHHOLD.value)),
            within(Action.created_at),
        )
    ).all()
    request_ids = {int(ref.split(":", 1)[1]) for _, ref in taken if ref.startswith("legal_request:")}
    grievance_refs: set[str] = set()
    for chunk in _chunks(sorted(request_ids)):
        for request_id, jurisdiction in session.execute(
            select(LegalRequest.id, LegalRequest.jurisdiction).where(
                LegalRequest.id.in_(chunk), LegalRequest.kind.in_(GRIEVANCE_KINDS)
            )
        ).all():
            if jurisdiction.split("-")[0] in jurisdictions:
                grievance_refs.add(f"legal_request:{request_id}")
    removed = len({item_id for item_id, ref in taken if ref in grievance_refs})
    return Grievances(dict(received), dict(resolved), dict(actioned), removed)


def user_reports(session: Session, period: Period) -> dict[str, int]:
    """Items received in the period that users / trusted flaggers reported, by reporter kind."""
    rows = session.execute(
        select(Item.reporter_kind, func.count())
        .where(
            Item.reporter_kind.in_(REPORTER_KINDS),
            Item.received_at >= period.start,
            Item.received_at < period.end,
        )
        .group_by(Item.reporter_kind)
    ).all()
    counts = _zero(REPORTER_KINDS)
    counts.update(dict(rows))  # type: ignore[arg-type]
    return dict(counts)


def reported_items_removed(session: Session, period: Period) -> dict[str, int]:
    """Reported items (by reporter kind) with a removing action written in the period."""
    rows = session.execute(
        select(Item.reporter_kind, func.count(func.distinct(Action.item_id)))
        .join(Item, Item.id == Action.item_id)
        .where(
            Item.reporter_kind.in_(REPORTER_KINDS),
            Action.kind.in_(REMOVING),
            Action.created_at >= period.start,
            Action.created_at < period.end,
        )
        .group_by(Item.reporter_kind)
    ).all()
    counts = _zero(REPORTER_KINDS)
    counts.update(dict(rows))  # type: ignore[arg-type]
    return dict(counts)


@dataclass(frozen=True)
class NoticedRemoved:
    user: int
    trusted_flagger: int
    either: int
    """Items a user reported or a flagger named, each once."""


def noticed_items_removed(
    session: Session, period: Period, *, users_removed: int | None = None
) -> NoticedRemoved:
    """Items users reported or trusted flaggers' notices named with a removing action written in the
    period (module docstring). ``users_removed``: the users' figure where the caller has it already
    (``Removals.by_reporter``); then only the flaggers' items, few, are read, from their notices."""
    removed = (
        Action.kind.in_(REMOVING),
        Action.created_at >= period.start,
        Action.created_at < period.end,
    )
    acted = select(Action.id).where(Action.item_id == NoticeTarget.item_id, *removed)
    by_flaggers = set(
        session.scalars(select(NoticeTarget.item_id).where(NoticeTarget.item_id.is_not(None), acted.exists()))
    )
    if users_removed is None:
        by_users = set(
            session.scalars(
                select(Action.item_id)
                .join(Item, Item.id == Action.item_id)
                .where(Item.reporter_kind == "user", *removed)
            )
        )
        return NoticedRemoved(len(by_users), len(by_flaggers), len(by_users | by_flaggers))
    both = 0
    for chunk in _chunks(sorted(i for i in by_flaggers if i is not None)):
        both += int(
            session.scalar(
                select(func.count()).select_from(Item).where(Item.id.in_(chunk), Item.reporter_kind == "user")
            )
            or 0
        )
    return NoticedRemoved(users_removed, len(by_flaggers), users_removed + len(by_flaggers) - both)


def removed_by_category(session: Session, period: Period, *, automated: bool) -> dict[str, int]:
    """Distinct items with a removing action written in the period, automated or not, by report
    category of the decision that called for it (an item under two categories counts once in each)."""
    rows = session.execute(
        select(Action.item_id, Decision.category)
        .join(Decision, Decision.id == Action.decision_id)
        .where(
            Action.kind.in_(REMOVING),
            Action.automated.is_(automated),
            Action.created_at >= period.start,
            Action.created_at < period.end,
        )
        .distinct()
    ).all()
    seen: set[tuple[int, str]] = {(item_id, report_category(category)) for item_id, category in rows}
    counts = _zero(REPORT_CATEGORIES)
    counts.update(category for _, category in seen)
    return dict(counts)


def items_removed(session: Session, period: Period, *, automated: bool | None = None) -> int:
    query = select(func.count(func.distinct(Action.item_id))).where(
        Action.kind.in_(REMOVING), Action.created_at >= period.start, Action.created_at < period.end
    )
    if automated is not None:
        query = query.where(Action.automated.is_(automated))
    return int(session.scalar(query) or 0)


@dataclass(frozen=True)
class Orders:
    received: int
    by_state: dict[str, int]
    to_acknowledge: Spread
    to_act: Spread
    to_answer: Spread


def orders(session: Session, period: Period, kinds: Collection[str], states: Collection[str]) -> Orders:
    """Requests of ``kinds`` from authorities of ``states`` (codes; EU for the Union's own) received in
    the period, by state, with the time from receipt to each step (over those that took it)."""
    rows = session.execute(
        select(
            LegalRequest.jurisdiction,
            LegalRequest.received_at,
            LegalRequest.acknowledged_at,
            LegalRequest.acted_at,
            LegalRequest.answered_at,
        ).where(
            LegalRequest.kind.in_(list(kinds)),
            LegalRequest.received_at >= period.start,
            LegalRequest.received_at < period.end,
        )
    ).all()
    by_state = _zero(states)
    ack: list[float] = []
    act: list[float] = []
    answer: list[float] = []
    count = 0
    for row in rows:
        state = row.jurisdiction.split("-")[0]
        if state not in states:
            continue
        count += 1
        by_state[state] += 1
        for done, into in ((row.acknowledged_at, ack), (row.acted_at, act), (row.answered_at, answer)):
            if done is not None:
                into.append(max(0.0, (done - row.received_at).total_seconds()))
    return Orders(count, dict(by_state), Spread.exact(ack), Spread.exact(act), Spread.exact(answer))


def notice_decision_times(session: Session, period: Period) -> Spread:
    """For items reported in the period, the time from receipt to the first decision that settled them
    (any verdict but ``review``)."""
    rows = session.execute(
        select(Item.id, Item.received_at, func.min(Decision.created_at))
        .join(Decision, Decision.item_id == Item.id)
        .where(
            Item.reporter_kind.in_(REPORTER_KINDS),
            Item.received_at >= period.start,
            Item.received_at < period.end,
            Decision.verdict != "review",
        )
        .group_by(Item.id, Item.received_at)
    ).all()
    return Spread.exact([max(0.0, (decided - received).total_seconds()) for _, received, decided in rows])


@dataclass(frozen=True)
class IncidentCounts:
    reports: int
    files: int
    escalated: int


def reports_by_incident_type(session: Session, period: Period) -> dict[str, IncidentCounts]:
    """CyberTipline reports finished in the period and their files, by incident type (every type
    present, zero where none); ``escalated``: those sent as a child at immediate risk. Counted by the
    store, grouped by type (a year holds millions of reports)."""
    finished = (
        CyberTiplineReport.state == ReportState.FINISHED,
        CyberTiplineReport.finished_at >= period.start,
        CyberTiplineReport.finished_at < period.end,
    )
    escalated = case(
        (and_(CyberTiplineReport.escalate_reason.is_not(None), CyberTiplineReport.escalate_reason != ""), 1),
        else_=0,
    )
    counts = {t.value: [0, 0, 0] for t in IncidentType}
    for incident_type, reports, urgent in session.execute(
        select(CyberTiplineReport.incident_type, func.count(), func.sum(escalated))
        .where(*finished)
        .group_by(CyberTiplineReport.incident_type)
    ):
        entry = counts.setdefault(incident_type, [0, 0, 0])
        entry[0] += int(reports)
        entry[2] += int(urgent or 0)
    for incident_type, files in session.execute(
        select(CyberTiplineReport.incident_type, func.count())
        .join(CyberTiplineReportFile, CyberTiplineReportFile.report_id == CyberTiplineReport.id)
        .where(*finished)
        .group_by(CyberTiplineReport.incident_type)
    ):
        counts.setdefault(incident_type, [0, 0, 0])[1] += int(files)
    return {k: IncidentCounts(*v) for k, v in counts.items()}


def _within(period: Period, when: datetime | None) -> int:
    return int(when is not None and period.start <= when < period.end)


def _chunks(values: list[T], size: int = 500) -> list[list[T]]:
    return [values[i : i + size] for i in range(0, len(values), size)]
