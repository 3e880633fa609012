"""The raw records counted into cells, per UTC day: the one computation both paths share.

A ``Tally`` holds, for each UTC day, counts of cells (a measure and its dimensions) and histograms of
the time measures. ``count_records(session, period)`` counts them from the decision, action, item and
report records of ``[start, end)``; the rollup stores the same cells for each closed day, and
``verify`` compares the two cell by cell. ``Statistics`` is assembled from a tally
(``statistics.assemble``), so a period's figures are the same whichever path counted its days.

Every measure is additive over days, because each record (or each item's first event) counts on
exactly one day:

- ``identified``: an item on the day of its first ``violation`` / ``legal_order`` decision (ever),
  with that decision's category, and whether the item was backfilled; ``identified_source``: one cell
  per source that identified it, on the same day.
- ``decision``: each decision on its day (category, automated, decided_by, policy = ``decided_by_ref``
  of a policy decision).
- ``action``: each platform action on its day (kind, automated, category of its decision);
  ``withheld_country``: each country a withhold names.
- ``cybertipline_report`` / ``cybertipline_file``: a finished report (and each of its files) on its
  finished day; ``referral_drafted`` / ``_sent`` / ``_acknowledged``: on each of those days.
- ``removed_item`` / ``removed_item_tool`` / ``removed_item_category``: distinct items with a removing
  action (remove, withhold, restrict), without counting an item twice in a period. An item counts on
  each day it had a removing action, once that day, with ``since`` the day of its previous removing
  action ('' if none): a period ``[S, E)`` of whole days counts the cells with ``since`` before ``S``,
  which is each item's first day in the period, once. By reporter kind (``source``); by whether a tool
  acted (``automated``: the item's automated and non-automated removals are kept apart, each with its
  own previous day); and by report category of the decision and ``automated`` (an item removed under
  two categories counts once in each). ``transparency.measures`` reads them. ``reported_item``: each
  item a user or a trusted flagger reported, on the day it was received (``source``: who).
- time measures: ``receipt_to_detection`` on the detection day, ``detection_to_action`` on the day of
  the item's first platform action, ``detection_to_report`` on the finished day of the first report
  carrying one of its files (detection: the first violation decision).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Float,
    Integer,
    Select,
    String,
    and_,
    bindparam,
    case,
    cast,
    distinct,
    exists,
    extract,
    func,
    literal,
    literal_column,
    or_,
    select,
    type_coerce,
    union_all,
)
from sqlalchemy.orm import Session, aliased

from suraksha.content.models import Item, ItemMatch, ItemRuleHit
from suraksha.db.base import UTCDateTime
from suraksha.enforcement.models import Action, ActionKind, DecidedBy, Decision, Verdict
from suraksha.errors import InvalidInput
from suraksha.reporting.models import CyberTiplineReport, CyberTiplineReportFile, PoliceReferral, ReportState

VIOLATION_VERDICTS = (Verdict.VIOLATION.value, Verdict.LEGAL_ORDER.value)
PLATFORM_ACTIONS = (
    ActionKind.REMOVE.value,
    ActionKind.SUSPEND.value,
    ActionKind.WITHHOLD.value,
    ActionKind.RESTRICT.value,
    ActionKind.RESTORE.value,
)
TAKEDOWN_ACTIONS = PLATFORM_ACTIONS[:-1]
"""The actions that count as acting on an item (a restore undoes one)."""
REMOVING = (ActionKind.REMOVE.value, ActionKind.WITHHOLD.value, ActionKind.RESTRICT.value)
"""Actions that take an item down or disable access to it."""

REPORT_CATEGORIES = ("csam", "intimate_imagery", "sexual_violence", "sale_or_solicitation", "other")
"""The categories the templates count by, in their order."""

CATEGORY_OF = {
    "csam": "csam",
    "ncii": "intimate_imagery",
    "intimate_imagery": "intimate_imagery",
    "sexual_violence": "sexual_violence",
    "sale_or_solicitation": "sale_or_solicitation",
    "sale_solicitation": "sale_or_solicitation",
    "solicitation": "sale_or_solicitation",
    "payment_request": "sale_or_solicitation",
    "contact_offsite": "sale_or_solicitation",
}
"""A decision's category (trimmed, lower case) to its report category; anything else is ``other``."""
REPORTER_KINDS = ("user", "trusted_flagger")
"""Who reported an item (``Item.reporter_kind``), where someone did."""


@dataclass(frozen=True)
class Period:
    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise InvalidInput("a period's start and end need their offset (UTC)")
        if self.start >= self.end:
            raise InvalidInput(f"the period starts ({self.start.date()}) after it ends ({self.end.date()})")


class Measure(StrEnum):
    IDENTIFIED = "identified"
    IDENTIFIED_SOURCE = "identified_source"
    DECISION = "decision"
    ACTION = "action"
    WITHHELD_COUNTRY = "withheld_country"
    CYBERTIPLINE_REPORT = "cybertipline_report"
    CYBERTIPLINE_FILE = "cybertipline_file"
    REFERRAL_DRAFTED = "referral_drafted"
    REFERRAL_SENT = "referral_sent"
    REFERRAL_ACKNOWLEDGED = "referral_acknowledged"
    REMOVED_ITEM = "removed_item"
    REMOVED_ITEM_TOOL = "removed_item_tool"
    REMOVED_ITEM_CATEGORY = "removed_item_category"
    REPORTED_ITEM = "reported_item"


REMOVAL_MEASURES = (Measure.REMOVED_ITEM, Measure.REMOVED_ITEM_TOOL, Measure.REMOVED_ITEM_CATEGORY)


class TimeMeasure(StrEnum):
    RECEIPT_TO_DETECTION = "receipt_to_detection"
    DETECTION_TO_ACTION = "detection_to_action"
    DETECTION_TO_REPORT = "detection_to_report"


@dataclass(frozen=True, order=True)
class Cell:
    """A measure and its dimensions ('' or False where a dimension does not apply)."""

    measure: str
    category: str = ""
    source: str = ""
    kind: str = ""
    automated: bool = False
    decided_by: str = ""
    policy: str = ""
    country: str = ""
    backfilled: bool = False
    since: str = ""
    """Removal measures: the ISO day of the item's previous removal ('' if none; module docstring)."""


DIMENSIONS = (
    "category",
    "source",
    "kind",
    "automated",
    "decided_by",
    "policy",
    "country",
    "backfilled",
    "since",
)

# Log-scale time buckets: bucket 0 is exactly 0 s; bucket b >= 1 holds (F·R^(b-2), F·R^(b-1)] seconds
# (F = 1 ms, R = 1.01: about 1 % wide), so four years fit in about 2,600 buckets.
TIME_FLOOR_S = 0.001
TIME_RATIO = 1.01
_LOG_RATIO = math.log(TIME_RATIO)


def time_bucket(seconds: float) -> int:
    """The histogram bucket of a duration (negative durations count as 0)."""
    if seconds <= 0:
        return 0
    if seconds <= TIME_FLOOR_S:
        return 1
    return 1 + math.ceil(math.log(seconds / TIME_FLOOR_S) / _LOG_RATIO)


def bucket_upper_s(bucket: int) -> float:
    """The largest duration in ``bucket``, in seconds (rounded to the millisecond): what a percentile
    reports."""
    return 0.0 if bucket <= 0 else round(TIME_FLOOR_S * TIME_RATIO ** (bucket - 1), 3)


def to_ms(seconds: float) -> int:
    return max(0, round(seconds * 1000))


@dataclass
class Tally:
    counts: Counter[tuple[date, Cell]] = field(default_factory=Counter)
    times: Counter[tuple[date, str, int]] = field(default_factory=Counter)
    peaks: dict[tuple[date, str, int], int] = field(default_factory=dict)
    """The longest duration (ms) that fell in each time bucket: what a percentile in it reports, so
    a figure is always a duration that occurred (60 s reads 60 s, not the bucket's bound)."""

    def time(self, day: date, measure: str, seconds: float) -> None:
        key = (day, measure, time_bucket(seconds))
        self.times[key] += 1
        self.peak(key, to_ms(seconds))

    def peak(self, key: tuple[date, str, int], ms: int) -> None:
        if ms > self.peaks.get(key, -1):
            self.peaks[key] = ms

    def add(self, other: Tally) -> None:
        self.counts.update(other.counts)
        self.times.update(other.times)
        for key, ms in other.peaks.items():
            self.peak(key, ms)

    def days(self) -> set[date]:
        return {d for d, _ in self.counts} | {d for d, _, _ in self.times}

    def only(self, keep: Iterable[date]) -> Tally:
        wanted = set(keep)
        return Tally(
            Counter({k: v for k, v in self.counts.items() if k[0] in wanted}),
            Counter({k: v for k, v in self.times.items() if k[0] in wanted}),
            {k: v for k, v in self.peaks.items() if k[0] in wanted},
        )


def utc_day(when: datetime) -> date:
    return when.astimezone(UTC).date()


def day_start(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def days_between(first: date, end: date) -> Iterator[date]:
    """Each day from ``first`` up to, not including, ``end``."""
    day = first
    while day < end:
        yield day
        day += timedelta(days=1)


def count_records(session: Session, period: Period) -> Tally:
    """Every cell of every day of ``period``, from the raw records (module docstring). Each measure
    is counted by the store, grouped by UTC day and cell (``_statements``), so a day comes back as a
    few rows per cell, never a row per record or item."""
    tally = Tally()
    counts = tally.counts
    q = _statements(session.get_bind().dialect.name == "postgresql")
    conn = session.connection()
    bounds = {"start": period.start, "end": period.end}

    for when, category, automated, decided_by, ref, n in conn.execute(q.decisions, bounds):
        cell = Cell(Measure.DECISION, category=category, automated=bool(automated), decided_by=decided_by,
                    policy=ref)  # fmt: skip
        counts[_as_date(when), cell] += n
    for when, kind, automated, category, listed, n in conn.execute(q.actions, bounds):
        on = _as_date(when)
        counts[on, Cell(Measure.ACTION, kind=kind, automated=bool(automated), category=category)] += n
        for country in sorted(set((listed or "").split())):
            counts[on, Cell(Measure.WITHHELD_COUNTRY, kind=kind, country=country[:40])] += n
    for measure, statement in q.plain:
        for when, country, n in conn.execute(statement, bounds):
            counts[_as_date(when), Cell(measure, country=country)] += n

    for measure, when, automated, category, reporter, since, n in conn.execute(q.removals, bounds):
        cell = Cell(measure, category=category, source=reporter, automated=bool(automated), since=since)
        counts[_as_date(when), cell] += n

    for when, category, decided_by, backfilled, reporter, matched, ruled, n in conn.execute(
        q.identified, bounds
    ):
        day = _as_date(when)
        counts[day, Cell(Measure.IDENTIFIED, category=category, backfilled=bool(backfilled))] += n
        for source in _source_names(decided_by, reporter, matched=bool(matched), ruled=bool(ruled)):
            counts[day, Cell(Measure.IDENTIFIED_SOURCE, source=source)] += n
    for when, category, n in conn.execute(q.hash_sources, bounds):
        counts[_as_date(when), Cell(Measure.IDENTIFIED_SOURCE, source=f"hash:{category}")] += n

    for time_measure, statement in q.times:
        for when, bucket, n, peak in conn.execute(statement, bounds):
            key = (_as_date(when), time_measure.value, int(bucket))
            tally.times[key] += int(n)
            tally.peak(key, int(peak))
    return tally


START = bindparam("start", type_=UTCDateTime())
END = bindparam("end", type_=UTCDateTime())


@dataclass(frozen=True)
class _Statements:
    """What ``count_records`` runs, built once per store with the period's bounds as parameters."""

    decisions: Select[Any]
    actions: Select[Any]
    plain: list[tuple[Measure, Select[Any]]]
    """Reports, files and referrals: (day, jurisdiction or '', count)."""
    identified: Select[Any]
    hash_sources: Select[Any]
    times: list[tuple[TimeMeasure, Select[Any]]]
    removals: Any
    """(measure, day, automated, category, reporter kind, since, count) of the removal measures and of
    ``reported_item``."""


@lru_cache(maxsize=2)
def _statements(pg: bool) -> _Statements:
    policy = case((Decision.decided_by == DecidedBy.POLICY.value, Decision.decided_by_ref), else_="")
    day = _day_of(pg, Decision.created_at)
    decided = (Decision.category, Decision.automated, Decision.decided_by, policy)
    decisions = (
        select(day, *decided, func.count())
        .where(Decision.created_at >= START, Decision.created_at < END)
        .group_by(day, *decided)
    )

    # the decision's category by a probe of its key for each action (a join may read every decision)
    category = select(Decision.category).where(Decision.id == Action.decision_id).scalar_subquery()
    countries = case((Action.kind == ActionKind.WITHHOLD.value, Action.countries), else_="")
    in_period = (
        select(
            _day_of(pg, Action.created_at).label("day"),
            Action.kind,
            Action.automated,
            category.label("category"),
            countries.label("countries"),
        )
        .where(Action.created_at >= START, Action.created_at < END, Action.kind.in_(PLATFORM_ACTIONS))
        .cte("actions_in_period")
        .prefix_with("MATERIALIZED")
    )
    acted = (
        in_period.c.day,
        in_period.c.kind,
        in_period.c.automated,
        in_period.c.category,
        in_period.c.countries,
    )
    actions = select(*acted, func.count()).group_by(*acted)

    plain: list[tuple[Measure, Select[Any]]] = []
    day = _day_of(pg, CyberTiplineReport.finished_at)
    finished = (
        CyberTiplineReport.state == ReportState.FINISHED,
        CyberTiplineReport.finished_at >= START,
        CyberTiplineReport.finished_at < END,
    )
    none: ColumnElement[str] = literal_column("''")
    plain.append(
        (Measure.CYBERTIPLINE_REPORT, select(day, none, func.count()).where(*finished).group_by(day))
    )
    plain.append(
        (
            Measure.CYBERTIPLINE_FILE,
            select(day, none, func.count())
            .join(CyberTiplineReportFile, CyberTiplineReportFile.report_id == CyberTiplineReport.id)
            .where(*finished)
            .group_by(day),
        )
    )
    for column, referral in (
        (PoliceReferral.created_at, Measure.REFERRAL_DRAFTED),
        (PoliceReferral.sent_at, Measure.REFERRAL_SENT),
        (PoliceReferral.acknowledged_at, Measure.REFERRAL_ACKNOWLEDGED),
    ):
        day = _day_of(pg, column)
        plain.append(
            (
                referral,
                select(day, PoliceReferral.jurisdiction, func.count())
                .where(column >= START, column < END)
                .group_by(day, PoliceReferral.jurisdiction),
            )
        )

    identified, hash_sources, received = _identified(pg)
    times = [(TimeMeasure.RECEIPT_TO_DETECTION, _times(pg, TimeMeasure.RECEIPT_TO_DETECTION, received))]
    for measure, firsts in (
        (TimeMeasure.DETECTION_TO_ACTION, _first_actions()),
        (TimeMeasure.DETECTION_TO_REPORT, _first_reports()),
    ):
        detected = (
            select(func.min(Decision.created_at))
            .where(Decision.item_id == firsts.c.item_id, Decision.verdict.in_(VIOLATION_VERDICTS))
            .scalar_subquery()
        )
        events = select(firsts.c.at.label("at"), detected.label("detected"))
        times.append((measure, _times(pg, measure, events)))
    return _Statements(decisions, actions, plain, identified, hash_sources, times, _removals(pg))


def report_category_of(raw: Any) -> ColumnElement[str]:
    """``CATEGORY_OF`` in SQL: a decision's category folded into a report category."""
    folded = func.lower(func.trim(raw))
    groups: dict[str, list[str]] = {}
    for name, category in CATEGORY_OF.items():
        groups.setdefault(category, []).append(name)
    return case(*((folded.in_(names), category) for category, names in groups.items()), else_="other")


def _removals(pg: bool) -> Any:
    """The removal measures and ``reported_item`` (module docstring), counted by the store. Removals:
    the period's removing actions
    with their decision's report category and the item's reporter kind, then for each the day of the
    same item's previous removing action (of the same tool use, of the same tool use and category: an
    index probe of the item's actions), then the actions that are their item's first of the day,
    grouped by day, dimensions and that previous day."""
    action = aliased(Action)
    category = select(Decision.category).where(Decision.id == action.decision_id).scalar_subquery()
    reporter = select(Item.reporter_kind).where(Item.id == action.item_id).scalar_subquery()
    removals = (
        select(
            action.id.label("id"),
            action.item_id.label("item_id"),
            action.created_at.label("at"),
            action.automated.label("automated"),
            report_category_of(category).label("category"),
            func.coalesce(reporter, "").label("reporter"),
        )
        .where(action.created_at >= START, action.created_at < END, action.kind.in_(REMOVING))
        .cte("removals_in_period")
        .prefix_with("MATERIALIZED")
    )
    r = removals.c
    earlier, decision = aliased(Action), aliased(Decision)
    before = (
        earlier.item_id == r.item_id,
        earlier.kind.in_(REMOVING),
        or_(earlier.created_at < r.at, and_(earlier.created_at == r.at, earlier.id < r.id)),
    )
    same_tool = earlier.automated == r.automated

    def previous(*where: Any, joined: bool = False) -> ColumnElement[Any]:
        query = select(func.max(earlier.created_at)).where(*before, *where)
        if joined:
            query = query.join(decision, decision.id == earlier.decision_id)
        return _day_of(pg, query.correlate(removals).scalar_subquery())

    day = _day_of(pg, r.at)
    with_previous = (
        select(
            day.label("day"),
            r.automated,
            r.category,
            r.reporter,
            previous().label("p_item"),
            previous(same_tool).label("p_tool"),
            previous(same_tool, report_category_of(decision.category) == r.category, joined=True).label(
                "p_cat"
            ),
        )
        .cte("removals_with_previous")
        .prefix_with("MATERIALIZED")
    )
    w = with_previous.c
    false_, none = literal(False), literal("")

    def counted(measure: Measure, automated: Any, category: Any, reporter: Any, since: Any) -> Select[Any]:
        shown = cast(since, String) if pg else since
        return (
            select(
                literal(measure.value).label("measure"),
                w.day,
                automated,
                category,
                reporter,
                func.coalesce(shown, "").label("since"),
                func.count(),
            )
            .where(or_(since.is_(None), since < w.day))
            .group_by(w.day, automated, category, reporter, since)
        )

    received = _day_of(pg, Item.received_at)
    reported = (
        select(
            literal(Measure.REPORTED_ITEM.value),
            received,
            false_,
            none,
            Item.reporter_kind,
            none,
            func.count(),
        )
        .where(Item.received_at >= START, Item.received_at < END, Item.reporter_kind.in_(REPORTER_KINDS))
        .group_by(received, Item.reporter_kind)
    )
    return union_all(
        reported,
        counted(Measure.REMOVED_ITEM, false_, none, w.reporter, w.p_item),
        counted(Measure.REMOVED_ITEM_TOOL, w.automated, none, none, w.p_tool),
        counted(Measure.REMOVED_ITEM_CATEGORY, w.automated, w.category, none, w.p_cat),
    )


def _day_of(pg: bool, column: Any) -> ColumnElement[Any]:
    """The UTC day of a time column, computed by the store: PostgreSQL keeps times with their zone;
    SQLite keeps them as UTC text (``suraksha.db.base.UTCDateTime``), its first ten characters the day.
    The zone is a literal, not a parameter, so the select and GROUP BY expressions are the same."""
    if pg:
        return func.date(func.timezone(literal_column("'UTC'"), column))
    return func.substr(column, 1, 10)


@lru_cache(maxsize=4096)
def _as_date(value: date | str) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


# -- the items' first events, counted by the store ------------------------------------------------------
#
# Each item's first event (its first violation decision, first takedown, first finished report) is
# found in SQL: an event of the period with no earlier one of the item (an index probe by item), and
# the time measures are bucketed by the store with the very arithmetic of ``time_bucket`` and
# ``to_ms``: the duration as whole microseconds, then in IEEE doubles ``s = us / 1e6``, bucket
# ``1 + ceil(ln(s / F) / ln(R))`` (``ln(R)`` passed in, computed here) and the milliseconds rounded
# half to even, as Python's ``round``. A day comes back as a few rows per cell, never a row per item.


def _micros(pg: bool, later: Any, earlier: Any) -> ColumnElement[Any]:
    """``later - earlier`` in whole microseconds (both columns times of ``UTCDateTime``)."""
    if pg:
        return cast(extract("epoch", later - earlier) * 1_000_000, BigInteger)

    def parts(column: Any) -> tuple[ColumnElement[Any], ColumnElement[Any]]:
        # SQLite: 'YYYY-MM-DD HH:MM:SS.ffffff' (SQLAlchemy writes the six digits); whole seconds by
        # strftime, the fraction by its digits, so no double ever holds a time.
        whole = cast(func.strftime("%s", func.substr(column, 1, 19)), Integer)  # it rounds a fraction
        fraction = cast(func.substr(type_coerce(column, String) + literal(".000000", String), 21, 6), Integer)
        return whole, fraction

    (later_s, later_us), (earlier_s, earlier_us) = parts(later), parts(earlier)
    return (later_s - earlier_s) * 1_000_000 + later_us - earlier_us


def _bucketed(pg: bool, micros: ColumnElement[Any]) -> tuple[ColumnElement[Any], ColumnElement[Any]]:
    """(``time_bucket(s)``, ``to_ms(s)``) of a duration in microseconds (``s`` its seconds, at least 0),
    computed by the store in doubles exactly as Python computes them."""
    us = case((micros < 0, 0), else_=micros)
    seconds = cast(us, Float) / literal(1_000_000.0, Float)
    ratio = func.ln(seconds / literal(TIME_FLOOR_S, Float)) / literal(_LOG_RATIO, Float)

    def whole(x: ColumnElement[Any], *, up: bool) -> ColumnElement[Any]:
        # ceil / floor of a positive double, as an integer (SQLite's cast truncates, PostgreSQL's rounds)
        if pg:
            return cast(func.ceil(x) if up else func.floor(x), BigInteger)
        truncated = cast(x, Integer)
        return truncated + case((x > truncated, 1), else_=0) if up else truncated

    bucket = case(
        (seconds <= literal(0.0, Float), 0),
        (seconds <= literal(TIME_FLOOR_S, Float), 1),
        else_=1 + whole(ratio, up=True),
    )
    ms = seconds * literal(1000.0, Float)
    low = whole(ms, up=False)
    rest = ms - low
    half_even = case(
        (rest > literal(0.5, Float), low + 1),
        (rest < literal(0.5, Float), low),
        (low % 2 == 0, low),
        else_=low + 1,
    )
    return bucket, half_even


def _times(pg: bool, measure: TimeMeasure, events: Select[Any]) -> Select[Any]:
    """The durations of ``events`` (a select of ``at`` and ``detected``, one row per item; no duration
    where ``detected`` is null), counted and their peaks taken by day and bucket: (day, bucket, count,
    longest ms). The events, then their days and microseconds, are materialised: a store that inlines
    a subquery would otherwise evaluate each (a correlated probe, a parse of a time) as often as the
    bucket's arithmetic names it."""
    found = events.cte(f"{measure.value}_events").prefix_with("MATERIALIZED")
    durations = (
        select(
            _day_of(pg, found.c.at).label("day"),
            _micros(pg, found.c.at, found.c.detected).label("us"),
        )
        .where(found.c.detected.is_not(None))
        .cte(f"{measure.value}_durations")
        .prefix_with("MATERIALIZED")
    )
    bucket, ms = _bucketed(pg, durations.c.us)
    rows = select(durations.c.day, bucket.label("bucket"), ms.label("ms")).subquery()
    return select(rows.c.day, rows.c.bucket, func.count(), func.max(rows.c.ms)).group_by(
        rows.c.day, rows.c.bucket
    )


def _first_violations() -> Any:
    """Each item whose first violation or legal-order decision (ever; ties by decision id) falls in
    ``period``: ``item_id``, ``at``, ``category``, ``decided_by``. The first is found per decision of
    the period by a correlated subquery (an index probe by item): PostgreSQL plans ``NOT EXISTS`` as
    an anti-join that reads every violation of all time, for each period."""
    first, earlier = aliased(Decision), aliased(Decision)
    first_id = (
        select(earlier.id)
        .where(earlier.item_id == first.item_id, earlier.verdict.in_(VIOLATION_VERDICTS))
        .order_by(earlier.created_at, earlier.id)
        .limit(1)
        .scalar_subquery()
    )
    return (
        select(
            first.item_id.label("item_id"),
            first.created_at.label("at"),
            first.category.label("category"),
            first.decided_by.label("decided_by"),
        )
        .where(
            first.created_at >= START,
            first.created_at < END,
            first.verdict.in_(VIOLATION_VERDICTS),
            first.id == first_id,
        )
        .subquery()
    )


def _identified(pg: bool) -> tuple[Select[Any], Select[Any], Select[Any]]:
    """For the items first identified in the period: their ``identified`` cells with what decides
    their sources (day, category, decided_by, backfilled, reporter, matched, ruled, count; sources:
    ``_source_names``); their hash sources (day, bank category, items); and their receipt and
    detection times (the events of ``receipt_to_detection``)."""
    firsts = _first_violations()
    matched = exists().where(ItemMatch.item_id == firsts.c.item_id, ItemMatch.suppressed.is_(False))
    ruled = exists().where(ItemRuleHit.item_id == firsts.c.item_id)
    reporter = case((Item.reporter_kind.in_(("user", "trusted_flagger")), Item.reporter_kind), else_="")
    flagged = (
        select(
            _day_of(pg, firsts.c.at).label("day"),
            firsts.c.category,
            firsts.c.decided_by,
            func.coalesce(Item.backfilled, False).label("backfilled"),
            reporter.label("reporter"),
            case((matched, 1), else_=0).label("matched"),
            case((ruled, 1), else_=0).label("ruled"),
        )
        .select_from(firsts)
        .outerjoin(Item, Item.id == firsts.c.item_id)
        .subquery()
    )
    c = flagged.c
    dims = (c.day, c.category, c.decided_by, c.backfilled, c.reporter, c.matched, c.ruled)
    identified = select(*dims, func.count()).group_by(*dims)

    first_day = _day_of(pg, firsts.c.at)
    hash_sources = (
        select(first_day, ItemMatch.bank_category, func.count(distinct(firsts.c.item_id)))
        .select_from(firsts)
        .join(ItemMatch, ItemMatch.item_id == firsts.c.item_id)
        .where(ItemMatch.suppressed.is_(False))
        .group_by(first_day, ItemMatch.bank_category)
    )
    received = (
        select(firsts.c.at.label("at"), Item.received_at.label("detected"))
        .select_from(firsts)
        .join(Item, Item.id == firsts.c.item_id)
    )
    return identified, hash_sources, received


def _source_names(decided_by: str, reporter: str, *, matched: bool, ruled: bool) -> list[str]:
    """The sources that identified an item, a hash list's ``hash:<bank category>`` apart (counted per
    category in SQL): ``text_rule``, ``user_report`` / ``trusted_flagger`` (who reported it),
    ``authority`` (the legal desk acting on an order), else ``reviewer`` or ``classifier`` (who
    decided). ``matched``: the item has an unsuppressed bank match."""
    found = []
    if ruled:
        found.append("text_rule")
    if reporter == "user":
        found.append("user_report")
    elif reporter == "trusted_flagger":
        found.append("trusted_flagger")
    if decided_by == DecidedBy.LEGAL:
        found.append("authority")
    if not found and not matched:
        found.append("reviewer" if decided_by == DecidedBy.REVIEWER else "classifier")
    return found


def _first_actions() -> Any:
    """Each item whose first platform action (a restore aside) falls in ``period``: ``item_id``, ``at``."""
    action, earlier = aliased(Action), aliased(Action)
    first_at = (
        select(func.min(earlier.created_at))
        .where(earlier.item_id == action.item_id, earlier.kind.in_(TAKEDOWN_ACTIONS))
        .scalar_subquery()
    )
    return (
        select(action.item_id.label("item_id"), func.min(action.created_at).label("at"))
        .where(
            action.created_at >= START,
            action.created_at < END,
            action.kind.in_(TAKEDOWN_ACTIONS),
            action.created_at == first_at,
        )
        .group_by(action.item_id)
        .subquery()
    )


def _first_reports() -> Any:
    """Each item whose first finished CyberTipline report falls in ``period``: ``item_id``, ``at`` (its
    finished time). The items with a report finished in the period are found first; then, for each,
    its earliest finished report of all time, by the item's files (an index probe)."""
    report, earlier_report = aliased(CyberTiplineReport), aliased(CyberTiplineReport)
    file, earlier_file = aliased(CyberTiplineReportFile), aliased(CyberTiplineReportFile)
    in_period = (
        select(file.item_id.label("item_id"), func.min(report.finished_at).label("at"))
        .join(report, report.id == file.report_id)
        .where(
            report.state == ReportState.FINISHED,
            report.finished_at >= START,
            report.finished_at < END,
        )
        .group_by(file.item_id)
        .cte("reported_in_period")
        .prefix_with("MATERIALIZED")
    )
    # the finished time of each of the item's files' reports (null where not finished), the earliest
    finished = (
        select(earlier_report.finished_at)
        .where(earlier_report.id == earlier_file.report_id, earlier_report.state == ReportState.FINISHED)
        .scalar_subquery()
    )
    first_at = (
        select(func.min(finished))
        .where(earlier_file.item_id == in_period.c.item_id)
        .correlate(in_period)
        .scalar_subquery()
    )
    return select(in_period.c.item_id, in_period.c.at).where(in_period.c.at == first_at).subquery()


def earliest_record(session: Session) -> datetime | None:
    """The time of the earliest record statistics count (indexed columns only: cheap on any size)."""
    found = [
        session.scalar(select(func.min(Decision.created_at))),
        session.scalar(
            select(func.min(CyberTiplineReport.finished_at)).where(
                CyberTiplineReport.state == ReportState.FINISHED
            )
        ),
        session.scalar(select(func.min(PoliceReferral.created_at))),
    ]
    times = [t for t in found if t is not None]
    return min(times) if times else None


__all__ = [
    "CATEGORY_OF",
    "DIMENSIONS",
    "REMOVAL_MEASURES",
    "REMOVING",
    "REPORTER_KINDS",
    "REPORT_CATEGORIES",
    "Cell",
    "Measure",
    "Tally",
    "TimeMeasure",
    "bucket_upper_s",
    "count_records",
    "day_start",
    "days_between",
    "earliest_record",
    "report_category_of",
    "time_bucket",
    "to_ms",
    "utc_day",
]
