"""Statistics over time: a period cut into calendar buckets (day, week, month, quarter, year).

``series(session, period, by)`` is the one entry point the CLI (``suraksha stats``), the API
(``GET /api/v1/stats``), the console's charts and the regulators' templates read. Each bucket is a
half-open ``[start, end)`` in UTC, clipped to the period, so a custom period's first and last buckets
may be partial; ``Granularity.TOTAL`` is the whole period as one bucket.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from sqlalchemy.orm import Session

from suraksha.errors import InvalidInput
from suraksha.transparency.statistics import Period, Statistics, statistics

MAX_BUCKETS = 5000
"""A day-by-day series over more than about thirteen years is refused rather than computed."""


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
    return [Bucket(bucket, statistics(session, bucket)) for bucket in list(buckets(period, by))]
