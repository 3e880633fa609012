"""Statistics over time: a period cut into calendar buckets (day, week, month, quarter, year).

``series(session, period, by)`` is the one entry point the CLI (``suraksha stats``), the API
(``GET /api/v1/stats``), the console's charts and the regulators' templates read. Each bucket is a
half-open ``[start, end)`` in UTC, clipped to the period, so a custom period's first and last buckets
may be partial; ``Granularity.TOTAL`` is the whole period as one bucket.

Closed days (``suraksha.transparency.rollup``) are read from the rollup, summed in the database; the
rest (partial days at a custom period's edges, days not yet closed, dirty days) are counted from the
raw records; both are the same cells, assembled by ``statistics.assemble``, so a bucket's figures are
exactly those ``statistics()`` gives for it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum

from sqlalchemy.orm import Session

from suraksha.errors import InvalidInput
from suraksha.transparency.rollup import closed_days, stored, stored_groups
from suraksha.transparency.statistics import Period, Statistics, assemble
from suraksha.transparency.tally import Tally, count_records, day_start, days_between, utc_day

MAX_BUCKETS = 5000
"""A day-by-day series over more than about thirteen years is refused rather than computed."""
MAX_PERIOD = timedelta(days=100 * 366)
"""A period longer than a century is refused (statistics walk its days)."""


class Granularity(StrEnum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"
    QUARTER = "quarter"
    YEAR = "year"
    TOTAL = "total"


@dataclass(frozen=True)
class Bucket:
    period: Period
    statistics: Statistics
    tally: Tally = field(default_factory=Tally, compare=False, repr=False)
    """The cells the statistics were assembled from (the templates read the removal measures)."""


def _floor(when: datetime, by: Granularity) -> datetime:
    day = when.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    if by is Granularity.DAY:
        return day
    if by is Granularity.WEEK:
        return day - timedelta(days=day.weekday())
    if by is Granularity.MONTH:
        return day.replace(day=1)
    if by is Granularity.QUARTER:
        return day.replace(month=(day.month - 1) // 3 * 3 + 1, day=1)
    return day.replace(month=1, day=1)


def _next(start: datetime, by: Granularity) -> datetime:
    if by is Granularity.DAY:
        return start + timedelta(days=1)
    if by is Granularity.WEEK:
        return start + timedelta(days=7)
    months = {Granularity.MONTH: 1, Granularity.QUARTER: 3, Granularity.YEAR: 12}[by]
    month = start.month - 1 + months
    return start.replace(year=start.year + month // 12, month=month % 12 + 1)


def buckets(period: Period, by: Granularity) -> Iterator[Period]:
    """The calendar buckets of ``by`` that cover ``period``, each clipped to it."""
    if by is Granularity.TOTAL:
        yield period
        return
    start = _floor(period.start, by)
    count = 0
    while start < period.end:
        end = _next(start, by)
        count += 1
        if count > MAX_BUCKETS:
            raise InvalidInput(
                f"more than {MAX_BUCKETS} {by.value}s: choose a coarser --by or a shorter period"
            )
        yield Period(max(start, period.start), min(end, period.end))
        start = end


def series(session: Session, period: Period, by: Granularity) -> list[Bucket]:
    """Every measure of ``statistics`` for each bucket of ``period``."""
    if period.end - period.start > MAX_PERIOD:
        raise InvalidInput(f"the period is longer than {MAX_PERIOD.days // 366} years: choose a shorter one")
    cut = list(buckets(period, by))
    tallies = [Tally() for _ in cut]
    bucket_of: dict[date, int] = {}
    for index, bucket in enumerate(cut):
        for day in days_between(utc_day(bucket.start), utc_day(bucket.end - _TICK) + timedelta(days=1)):
            bucket_of[day] = index
    first, end = _whole_days(period)
    rolled = closed_days(session, first, end) if first < end else set()
    raw = Tally()
    for part in _uncovered(period, rolled):
        raw.add(count_records(session, part))
    if rolled and by is Granularity.DAY:
        raw.add(stored(session, rolled, by_day=True))
    elif rolled:
        closed = [[day for day in days_between(*_whole_days(bucket)) if day in rolled] for bucket in cut]
        for tally, kept in zip(tallies, stored_groups(session, closed), strict=True):
            tally.add(kept)
    for (day, cell), value in raw.counts.items():
        tallies[bucket_of[day]].counts[day, cell] += value
    for (day, measure, slot), value in raw.times.items():
        tallies[bucket_of[day]].times[day, measure, slot] += value
        tallies[bucket_of[day]].peak((day, measure, slot), raw.peaks.get((day, measure, slot), 0))
    return [
        Bucket(bucket, assemble(bucket, tally), tally) for bucket, tally in zip(cut, tallies, strict=True)
    ]


_TICK = timedelta(microseconds=1)


def _whole_days(period: Period) -> tuple[date, date]:
    """The whole UTC days inside ``period``: ``[first, end)``."""
    first = utc_day(period.start)
    if day_start(first) < period.start:
        first += timedelta(days=1)
    return first, utc_day(period.end)


def _uncovered(period: Period, rolled: set[date]) -> list[Period]:
    """The parts of ``period`` the rollup does not cover (partial days at its edges, days not closed),
    as few periods as possible."""
    parts: list[Period] = []
    cursor = period.start
    for day in sorted(rolled):
        if cursor < day_start(day):
            parts.append(Period(cursor, day_start(day)))
        cursor = day_start(day + timedelta(days=1))
    if cursor < period.end:
        parts.append(Period(cursor, period.end))
    return parts
