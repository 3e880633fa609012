"""A series as a flat table: one row per bucket, every measure of ``Statistics`` as a column.

What the console's CSV download writes (``/console/stats.csv``), so a spreadsheet gets the same numbers
as the charts. Columns are fixed, whatever the data: every source an item can be identified by (each
bank category), every platform action kind, and each time's count, median, 90th and 99th percentiles
in seconds. A source the data holds beyond those (a category added later) gets a column too, after
them. Zero is written as 0; a percentile with no case behind it is left empty.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

from suraksha.banks.models import BankCategory
from suraksha.transparency.series import Bucket
from suraksha.transparency.statistics import PLATFORM_ACTIONS, Spread, Statistics

SOURCES = (
    *(f"hash:{c.value}" for c in BankCategory),
    "text_rule",
    "classifier",
    "user_report",
    "trusted_flagger",
    "authority",
    "reviewer",
)
"""Every source ``statistics`` names, in a stable order (hash lists first)."""

SPREADS = ("receipt_to_detection", "detection_to_action", "detection_to_report")
SPREAD_PARTS = ("count", "median_s", "p90_s", "p99_s")
COUNTS = (
    "decisions",
    "decided_automatically",
    "decided_by_people",
)
REPORTS = (
    "cybertipline_reports_finished",
    "cybertipline_files_reported",
    "referrals_drafted",
    "referrals_sent",
    "referrals_acknowledged",
)


def sources_of(buckets: Sequence[Bucket]) -> list[str]:
    """``SOURCES``, then any other source the buckets name (sorted)."""
    extra = {s for b in buckets for s in b.statistics.identified_by_source} - set(SOURCES)
    return [*SOURCES, *sorted(extra)]


def columns(buckets: Sequence[Bucket]) -> list[str]:
    return [
        "period_start",
        "period_end",
        "identified_items",
        *(f"identified_by_{s.replace(':', '_')}" for s in sources_of(buckets)),
        *COUNTS,
        "automated_share",
        *(f"actions_{kind}" for kind in PLATFORM_ACTIONS),
        "actions_automated",
        *REPORTS,
        *(f"{spread}_{part}" for spread in SPREADS for part in SPREAD_PARTS),
        "notes",
    ]


def _number(value: float | None) -> str:
    return "" if value is None else str(value)


def row(bucket: Bucket, sources: Sequence[str]) -> list[str]:
    """One bucket's cells, in the order of ``columns``."""
    s: Statistics = bucket.statistics
    spreads: list[Spread] = [getattr(s, name) for name in SPREADS]
    return [
        bucket.period.start.isoformat(),
        bucket.period.end.isoformat(),
        str(s.identified_items),
        *(str(s.identified_by_source.get(source, 0)) for source in sources),
        *(str(getattr(s, name)) for name in COUNTS),
        _number(s.automated_share),
        *(str(s.actions.get(kind, 0)) for kind in PLATFORM_ACTIONS),
        str(s.actions_automated),
        *(str(getattr(s, name)) for name in REPORTS),
        *(
            cell
            for spread in spreads
            for cell in (
                str(spread.count),
                _number(spread.median_s),
                _number(spread.p90_s),
                _number(spread.p99_s),
            )
        ),
        "; ".join(s.notes),
    ]


def series_csv(buckets: Sequence[Bucket]) -> str:
    """The series as CSV (RFC 4180, CRLF line ends): a header, then one row per bucket."""
    out = io.StringIO()
    writer = csv.writer(out)
    sources = sources_of(buckets)
    writer.writerow(columns(buckets))
    for bucket in buckets:
        writer.writerow(row(bucket, sources))
    return out.getvalue()
