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
from typing import Any

from sqlalchemy import ColumnElement, case, func, literal_column, select
from sqlalchemy.orm import Session

from suraksha.content.models import Item, ItemMatch, ItemRuleHit
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


DIMENSIONS = ("category", "source", "kind", "automated", "decided_by", "policy", "country", "backfilled")

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


@dataclass
class Tally:
    counts: Counter[tuple[date, Cell]] = field(default_factory=Counter)
    times: Counter[tuple[date, str, int]] = field(default_factory=Counter)

    def add(self, other: Tally) -> None:
        self.counts.update(other.counts)
        self.times.update(other.times)

    def days(self) -> set[date]:
        return {d for d, _ in self.counts} | {d for d, _, _ in self.times}

    def only(self, keep: Iterable[date]) -> Tally:
        wanted = set(keep)
        return Tally(
            Counter({k: v for k, v in self.counts.items() if k[0] in wanted}),
            Counter({k: v for k, v in self.times.items() if k[0] in wanted}),
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
    """Every cell of every day of ``period``, from the raw records (module docstring)."""
    start, end = period.start, period.end
    tally = Tally()
    counts, times = tally.counts, tally.times

    # Plain counts are grouped by UTC day in the database (the day expression of each store), so a
    # day of many records comes back as a few rows; items' first events are followed one by one below.
    policy = case((Decision.decided_by == DecidedBy.POLICY.value, Decision.decided_by_ref), else_="")
    day = _day_of(session, Decision.created_at)
    decided = (Decision.category, Decision.automated, Decision.decided_by, policy)
    for when, category, automated, decided_by, ref, n in session.execute(
        select(day, *decided, func.count())
        .where(Decision.created_at >= start, Decision.created_at < end)
        .group_by(day, *decided)
    ):
        cell = Cell(Measure.DECISION, category=category, automated=bool(automated), decided_by=decided_by,
                    policy=ref)  # fmt: skip
        counts[_as_date(when), cell] += n

    day = _day_of(session, Action.created_at)
    countries = case((Action.kind == ActionKind.WITHHOLD.value, Action.countries), else_="")
    acted = (Action.kind, Action.automated, Decision.category, countries)
    for when, kind, automated, category, listed, n in session.execute(
        select(day, *acted, func.count())
        .join(Decision, Decision.id == Action.decision_id)
        .where(Action.created_at >= start, Action.created_at < end, Action.kind.in_(PLATFORM_ACTIONS))
        .group_by(day, *acted)
    ):
        on = _as_date(when)
        counts[on, Cell(Measure.ACTION, kind=kind, automated=bool(automated), category=category)] += n
        for country in sorted(set((listed or "").split())):
            counts[on, Cell(Measure.WITHHELD_COUNTRY, kind=kind, country=country[:40])] += n

    day = _day_of(session, CyberTiplineReport.finished_at)
    finished = (
        CyberTiplineReport.state == ReportState.FINISHED,
        CyberTiplineReport.finished_at >= start,
        CyberTiplineReport.finished_at < end,
    )
    for when, n in session.execute(select(day, func.count()).where(*finished).group_by(day)):
        counts[_as_date(when), Cell(Measure.CYBERTIPLINE_REPORT)] += n
    for when, n in session.execute(
        select(day, func.count())
        .join(CyberTiplineReportFile, CyberTiplineReportFile.report_id == CyberTiplineReport.id)
        .where(*finished)
        .group_by(day)
    ):
        counts[_as_date(when), Cell(Measure.CYBERTIPLINE_FILE)] += n

    for column, referral in (
        (PoliceReferral.created_at, Measure.REFERRAL_DRAFTED),
        (PoliceReferral.sent_at, Measure.REFERRAL_SENT),
        (PoliceReferral.acknowledged_at, Measure.REFERRAL_ACKNOWLEDGED),
    ):
        day = _day_of(session, column)
        for when, jurisdiction, n in session.execute(
            select(day, PoliceReferral.jurisdiction, func.count())
            .where(column >= start, column < end)
            .group_by(day, PoliceReferral.jurisdiction)
        ):
            counts[_as_date(when), Cell(referral, country=jurisdiction)] += n

    _identified(session, period, tally)
    for measure, firsts in (
        (TimeMeasure.DETECTION_TO_ACTION, _first_actions(session, period)),
        (TimeMeasure.DETECTION_TO_REPORT, _first_reports(session, period)),
    ):
        for at, detected in _after_detection(session, firsts):
            times[utc_day(at), measure.value, time_bucket(_seconds(at, detected))] += 1
    return tally


def _day_of(session: Session, column: Any) -> ColumnElement[Any]:
    """The UTC day of a time column, computed by the store: PostgreSQL keeps times with their zone;
    SQLite keeps them as UTC text (``suraksha.db.base.UTCDateTime``), its first ten characters the day.
    The zone is a literal, not a parameter, so the select and GROUP BY expressions are the same."""
    if session.get_bind().dialect.name == "postgresql":
        return func.date(func.timezone(literal_column("'UTC'"), column))
    return func.substr(column, 1, 10)


def _as_date(value: date | str) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def _seconds(later: datetime, earlier: datetime) -> float:
    return max(0.0, (later - earlier).total_seconds())


@dataclass(frozen=True)
class FirstViolation:
    item_id: int
    at: datetime
    category: str
    decided_by: str


def _first_violations(session: Session, item_ids: list[int]) -> dict[int, FirstViolation]:
    """Each item's first violation or legal-order decision (ties by decision id)."""
    firsts: dict[int, tuple[datetime, int, FirstViolation]] = {}
    for decision_id, item_id, at, category, decided_by in session.execute(
        select(
            Decision.id, Decision.item_id, Decision.created_at, Decision.category, Decision.decided_by
        ).where(Decision.item_id.in_(item_ids), Decision.verdict.in_(VIOLATION_VERDICTS))
    ):
        known = firsts.get(item_id)
        if known is None or (at, decision_id) < known[:2]:
            firsts[item_id] = (at, decision_id, FirstViolation(item_id, at, category, decided_by))
    return {item_id: first[2] for item_id, first in firsts.items()}


def _identified(session: Session, period: Period, tally: Tally) -> None:
    candidates = list(
        session.scalars(
            select(Decision.item_id)
            .where(
                Decision.created_at >= period.start,
                Decision.created_at < period.end,
                Decision.verdict.in_(VIOLATION_VERDICTS),
            )
            .distinct()
        )
    )
    for chunk in _chunks(sorted(candidates)):
        firsts = {
            item_id: first
            for item_id, first in _first_violations(session, chunk).items()
            if period.start <= first.at < period.end
        }
        if not firsts:
            continue
        items = {
            row.id: row
            for row in session.execute(
                select(Item.id, Item.received_at, Item.reporter_kind, Item.backfilled).where(
                    Item.id.in_(list(firsts))
                )
            )
        }
        sources = _sources(session, firsts, items)
        for item_id, first in firsts.items():
            day = utc_day(first.at)
            item = items.get(item_id)
            backfilled = bool(item.backfilled) if item is not None else False
            tally.counts[day, Cell(Measure.IDENTIFIED, category=first.category, backfilled=backfilled)] += 1
            for source in sources[item_id]:
                tally.counts[day, Cell(Measure.IDENTIFIED_SOURCE, source=source)] += 1
            if item is not None:
                seconds = _seconds(first.at, item.received_at)
                tally.times[day, TimeMeasure.RECEIPT_TO_DETECTION.value, time_bucket(seconds)] += 1


def _sources(
    session: Session, firsts: dict[int, FirstViolation], items: dict[int, Any]
) -> dict[int, set[str]]:
    """The sources that identified each item: ``hash:<bank category>`` (an unsuppressed bank match),
    ``text_rule``, ``user_report`` / ``trusted_flagger`` (who reported it), ``authority`` (the legal
    desk acting on an order), else ``reviewer`` or ``classifier`` (who decided)."""
    chunk = list(firsts)
    found: dict[int, set[str]] = {item_id: set() for item_id in chunk}
    for item_id, category in session.execute(
        select(ItemMatch.item_id, ItemMatch.bank_category)
        .where(ItemMatch.item_id.in_(chunk), ItemMatch.suppressed.is_(False))
        .distinct()
    ):
        found[item_id].add(f"hash:{category}")
    for item_id in session.scalars(
        select(ItemRuleHit.item_id).where(ItemRuleHit.item_id.in_(chunk)).distinct()
    ):
        found[item_id].add("text_rule")
    for item_id in chunk:
        reporter = getattr(items.get(item_id), "reporter_kind", None)
        if reporter == "user":
            found[item_id].add("user_report")
        elif reporter == "trusted_flagger":
            found[item_id].add("trusted_flagger")
        if firsts[item_id].decided_by == DecidedBy.LEGAL:
            found[item_id].add("authority")
        if not found[item_id]:
            found[item_id].add(
                "reviewer" if firsts[item_id].decided_by == DecidedBy.REVIEWER else "classifier"
            )
    return found


def _first_actions(session: Session, period: Period) -> dict[int, datetime]:
    """Each item whose first platform action (a restore aside) falls in ``period``, with its time."""
    candidates = session.scalars(
        select(Action.item_id)
        .where(
            Action.created_at >= period.start,
            Action.created_at < period.end,
            Action.kind.in_(TAKEDOWN_ACTIONS),
        )
        .distinct()
    ).all()
    firsts: dict[int, datetime] = {}
    for chunk in _chunks(sorted(candidates)):
        for item_id, at in session.execute(
            select(Action.item_id, func.min(Action.created_at))
            .where(Action.item_id.in_(chunk), Action.kind.in_(TAKEDOWN_ACTIONS))
            .group_by(Action.item_id)
        ):
            if period.start <= at < period.end:
                firsts[item_id] = at
    return firsts


def _first_reports(session: Session, period: Period) -> dict[int, datetime]:
    """Each item whose first finished CyberTipline report falls in ``period``, with its finished time."""
    candidates = session.scalars(
        select(CyberTiplineReportFile.item_id)
        .join(CyberTiplineReport, CyberTiplineReport.id == CyberTiplineReportFile.report_id)
        .where(
            CyberTiplineReport.state == ReportState.FINISHED,
            CyberTiplineReport.finished_at >= period.start,
            CyberTiplineReport.finished_at < period.end,
        )
        .distinct()
    ).all()
    firsts: dict[int, datetime] = {}
    for chunk in _chunks(sorted(candidates)):
        for item_id, at in session.execute(
            select(CyberTiplineReportFile.item_id, func.min(CyberTiplineReport.finished_at))
            .join(CyberTiplineReport, CyberTiplineReport.id == CyberTiplineReportFile.report_id)
            .where(
                CyberTiplineReportFile.item_id.in_(chunk), CyberTiplineReport.state == ReportState.FINISHED
            )
            .group_by(CyberTiplineReportFile.item_id)
        ):
            if at is not None and period.start <= at < period.end:
                firsts[item_id] = at
    return firsts


def _after_detection(session: Session, firsts: dict[int, datetime]) -> Iterator[tuple[datetime, datetime]]:
    """(time of the item's first event, its detection) for each item of ``firsts`` that was detected."""
    for chunk in _chunks(sorted(firsts)):
        detected = dict(
            session.execute(
                select(Decision.item_id, func.min(Decision.created_at))
                .where(Decision.item_id.in_(chunk), Decision.verdict.in_(VIOLATION_VERDICTS))
                .group_by(Decision.item_id)
            ).all()
        )
        for item_id in chunk:
            if detected.get(item_id) is not None:
                yield firsts[item_id], detected[item_id]


def _chunks(ids: list[int], size: int = 2000) -> list[list[int]]:
    return [ids[i : i + size] for i in range(0, len(ids), size)]


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
    "DIMENSIONS",
    "Cell",
    "Measure",
    "Tally",
    "TimeMeasure",
    "bucket_upper_s",
    "count_records",
    "day_start",
    "days_between",
    "earliest_record",
    "time_bucket",
    "utc_day",
]
