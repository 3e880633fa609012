"""A period's figures as the CLI (``suraksha stats``) and the API (``GET /api/v1/stats``) give them:
``series`` buckets, optionally broken down by one dimension, as JSON or as flat rows (CSV, tables).

Bounds of a period: a day (``2021-06-01``; an end day is included whole) or an ISO time with its
offset (``2021-06-01T12:00:00+05:30``; an end time is excluded). Years 1970 to 2200 only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import TypeVar

from suraksha.errors import InvalidInput
from suraksha.transparency.notices_appeals import NoticesAndAppeals
from suraksha.transparency.series import Bucket, Granularity
from suraksha.transparency.statistics import NO_RECORDS, Period, Spread, Statistics

FIRST_YEAR, LAST_YEAR = 1970, 2200


class Group(StrEnum):
    CATEGORY = "category"
    SOURCE = "source"
    POLICY = "policy"
    COUNTRY = "country"


GROUP_FIELDS: dict[Group, dict[str, str]] = {
    Group.CATEGORY: {
        "identified": "identified_by_category",
        "decisions": "decisions_by_category",
        "actions": "actions_by_category",
    },
    Group.SOURCE: {"identified": "identified_by_source"},
    Group.POLICY: {"decisions": "decisions_by_policy"},
    Group.COUNTRY: {"withheld": "withheld_by_country"},
}
"""Which ``Statistics`` breakdowns each ``--group`` shows, under which column."""


def parse_bound(raw: str, name: str, *, end: bool) -> datetime:
    """A period's bound from a day or an ISO time with offset (module docstring)."""
    text = raw.strip()
    try:
        when = (
            datetime.combine(date.fromisoformat(text), time.min, tzinfo=UTC)
            if len(text) == 10
            else datetime.fromisoformat(text)
        )
    except ValueError:
        raise InvalidInput(
            f"{name} {raw!r} is not a day such as 2021-06-01 or a time such as 2021-06-01T12:00:00+00:00"
        ) from None
    if when.tzinfo is None:
        raise InvalidInput(f"{name} {raw!r} has no offset: add one, e.g. +00:00 for UTC")
    if not FIRST_YEAR <= when.year <= LAST_YEAR:
        raise InvalidInput(f"{name} {raw!r} is outside the years {FIRST_YEAR} to {LAST_YEAR}")
    if end and len(text) == 10:
        when += timedelta(days=1)  # the end day is included whole
    return when.astimezone(UTC)


E = TypeVar("E", bound=StrEnum)


def parse_choice(kind: type[E], raw: str, name: str) -> E:
    try:
        return kind(raw)
    except ValueError:
        raise InvalidInput(f"{name} {raw!r} is not one of {', '.join(k.value for k in kind)}") from None


SPREADS = ("receipt_to_detection", "detection_to_action", "detection_to_report")


def _row(stats: Statistics) -> dict[str, object]:
    row: dict[str, object] = {
        "identified": stats.identified_items,
        "identified_backfilled": stats.identified_backfilled,
        "decisions": stats.decisions,
        "decided_automatically": stats.decided_automatically,
        "decided_by_people": stats.decided_by_people,
        **stats.actions,
        "actions_automated": stats.actions_automated,
        "cybertipline_reports": stats.cybertipline_reports_finished,
        "cybertipline_files": stats.cybertipline_files_reported,
        "referrals_drafted": stats.referrals_drafted,
        "referrals_sent": stats.referrals_sent,
        "referrals_acknowledged": stats.referrals_acknowledged,
    }
    for name in SPREADS:
        spread: Spread = getattr(stats, name)
        row[f"{name}_count"] = spread.count
        row[f"{name}_median_s"] = spread.median_s
        row[f"{name}_p90_s"] = spread.p90_s
        row[f"{name}_p99_s"] = spread.p99_s
    return row


@dataclass(frozen=True)
class StatsReport:
    """The figures of ``period`` cut ``by`` a granularity, broken down by ``group`` when one is given;
    and, for the whole period (not per bucket), the trusted flaggers' notices and the appeals
    (``notices_appeals``, counted from the raw records, never rolled up)."""

    period: Period
    by: Granularity
    group: Group | None
    buckets: list[Bucket]
    notices_appeals: NoticesAndAppeals | None = None

    def rows(self) -> list[dict[str, object]]:
        """One flat row per bucket (per bucket and group value, with ``group``): zero is 0, a
        percentile of nothing is empty, and a bucket without any record says so in ``note``."""
        rows: list[dict[str, object]] = []
        for bucket in self.buckets:
            stats = bucket.statistics
            head: dict[str, object] = {"start": stats.start, "end": stats.end}
            note = "; ".join(stats.notes)
            if self.group is None:
                rows.append({**head, **_row(stats), "note": note})
                continue
            fields = GROUP_FIELDS[self.group]
            values = {column: getattr(stats, name) for column, name in fields.items()}
            keys = sorted({key for found in values.values() for key in found})
            if not keys:
                rows.append({**head, self.group.value: "", **dict.fromkeys(fields, 0), "note": note})
            for key in keys:
                counts = {column: found.get(key, 0) for column, found in values.items()}
                rows.append({**head, self.group.value: key, **counts, "note": note})
        return rows

    def as_dict(self) -> dict[str, object]:
        return {
            "from": self.period.start.isoformat(),
            "to": self.period.end.isoformat(),
            "by": self.by.value,
            "group": self.group.value if self.group else None,
            "buckets": [
                {**b.statistics.as_dict(), "records": NO_RECORDS not in b.statistics.notes}
                for b in self.buckets
            ],
            "rows": self.rows() if self.group else None,
            **(self.notices_appeals.as_dict() if self.notices_appeals is not None else {}),
        }
