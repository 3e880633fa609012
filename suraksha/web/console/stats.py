"""The accountability statistics in the console: a period (from, to: UTC days, both included) cut into
buckets (day, week, month, quarter, year, or the whole period), drawn as charts with their numbers as
tables, and the same series as CSV (``/console/stats.csv``, one row per bucket, every measure a column);
below them, for the whole period, trusted flaggers' notices and appeals with their reversal rates.

Open to ``stats:view`` (leads, legal, admin). The figures are ``Platform.stats_series``: the one
definition of each measure (``suraksha.transparency.statistics``). Zero says zero; a bucket in which
nothing was decided, actioned or reported says "no records"; a period with none says so instead of
drawing empty axes.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from suraksha.db.base import utcnow
from suraksha.errors import InvalidInput
from suraksha.permissions import Permission
from suraksha.transparency.columns import series_csv
from suraksha.transparency.notices_appeals import NoticesAndAppeals
from suraksha.transparency.series import Bucket, Granularity, buckets
from suraksha.transparency.statistics import PLATFORM_ACTIONS, Period, Spread, Statistics
from suraksha.web.console import charts
from suraksha.web.console.charts import Line
from suraksha.web.console.pages import label, render
from suraksha.web.console.viewer import ROUTER_CHECKS, Viewer, require
from suraksha.web.state import WebState, get_state

router = APIRouter(prefix="/console", dependencies=ROUTER_CHECKS, include_in_schema=False)

CHART_MAX_BUCKETS = 400
"""More bars than this are no longer readable: the page asks for a coarser ``by`` (the CSV takes up to
the series' own maximum)."""
FIRST_YEAR, LAST_YEAR = 1970, 9998
OPEN_TABLES = 6
"""Tables of up to this many buckets are shown open under their chart; longer ones are one click away."""
NO_RECORDS = "no records"


@dataclass(frozen=True)
class Asked:
    """The form as asked (or its defaults): first and last day (both included), and the bucket size."""

    first: date
    last: date
    by: Granularity

    @property
    def period(self) -> Period:
        start = datetime.combine(self.first, time(), tzinfo=UTC)
        return Period(start, datetime.combine(self.last + timedelta(days=1), time(), tzinfo=UTC))

    def query(self) -> str:
        return urlencode({"from": str(self.first), "to": str(self.last), "by": self.by.value})


def parse_day(raw: str, name: str) -> date:
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        raise InvalidInput(f"{name} {raw[:20]!r} is not a date such as 2021-06-01 (YYYY-MM-DD)") from None
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise InvalidInput(f"{name} {day} is outside the years {FIRST_YEAR} to {LAST_YEAR}")
    return day


def parse_asked(
    first: str | None, last: str | None, by: str | None, *, today: date | None = None
) -> tuple[Asked, str]:
    """The period and bucket size asked for, and what was wrong with the request ("" when nothing).
    Defaults: the last twelve calendar months to today, by month. A wrong field falls back to its
    default, so the form shows again with the error above it."""
    today = today or utcnow().date()
    month = today.month - 11
    default_first = date(today.year + (month - 1) // 12, (month - 1) % 12 + 1, 1)
    errors: list[str] = []
    chosen_first, chosen_last, chosen_by = default_first, today, Granularity.MONTH
    try:
        chosen_first = parse_day(first, "from") if first else default_first
    except InvalidInput as exc:
        errors.append(str(exc))
    try:
        chosen_last = parse_day(last, "to") if last else today
    except InvalidInput as exc:
        errors.append(str(exc))
    if by:
        try:
            chosen_by = Granularity(by)
        except ValueError:
            names = ", ".join(g.value for g in Granularity)
            errors.append(f"by {by[:20]!r} is not one of {names}")
    if not errors and chosen_last < chosen_first:
        errors.append(f"the period ends ({chosen_last}) before it starts ({chosen_first}): swap the dates")
    return Asked(chosen_first, chosen_last, chosen_by), "; ".join(errors)


def bucket_count(asked: Asked, limit: int) -> int:
    """How many buckets the period makes, counted up to ``limit + 1`` (no database work)."""
    return sum(1 for _ in itertools.islice(buckets(asked.period, asked.by), limit + 1))


def bucket_label(period: Period, by: Granularity) -> str:
    start = period.start.date()
    if by is Granularity.MONTH:
        return f"{start:%Y-%m}"
    if by is Granularity.QUARTER:
        return f"{start.year} Q{(start.month - 1) // 3 + 1}"
    if by is Granularity.YEAR:
        return str(start.year)
    if by is Granularity.TOTAL:
        return f"{start} to {(period.end - timedelta(days=1)).date()}"
    return str(start)  # a day, or the week that starts then


def has_records(s: Statistics) -> bool:
    """Anything decided, actioned or reported in the bucket."""
    counted = (
        s.decisions,
        sum(s.actions.values()),
        s.cybertipline_reports_finished,
        s.referrals_drafted,
        s.referrals_sent,
        s.referrals_acknowledged,
    )
    return any(counted)


def duration(seconds: float | None) -> str:
    """A time a person reads: seconds under two minutes, minutes under two hours, hours under two days."""
    if seconds is None:
        return "-"
    if seconds < 120:
        return f"{seconds:g} s"
    if seconds < 7200:
        return f"{seconds / 60:.1f} min"
    if seconds < 172800:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} d"


@dataclass(frozen=True)
class TableRow:
    label: str
    dates: str
    cells: list[str] | None
    """None: no records in the bucket (the row says so)."""


@dataclass
class Chart:
    id: str
    title: str
    alt: str
    image: str | None
    """A ``data:`` URI of the SVG; None when there is nothing to draw (``note`` says why)."""
    columns: list[str]
    rows: list[TableRow] = field(default_factory=list)
    note: str = ""


def _dates(period: Period) -> str:
    last = (period.end - timedelta(microseconds=1)).date()
    first = period.start.date()
    return str(first) if first == last else f"{first} to {last}"


def _rows(shown: list[Bucket], labels: list[str], cells: list[list[str]]) -> list[TableRow]:
    return [
        TableRow(name, _dates(b.period), row if has_records(b.statistics) else None)
        for b, name, row in zip(shown, labels, cells, strict=True)
    ]


def _percent(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def _share(s: Statistics) -> str:
    return f"{_percent(s.decided_automatically, s.decisions)} %" if s.decisions else "no decisions"


def _any(lines: list[Line]) -> bool:
    return any(v for line in lines for v in line.values)


def build_charts(shown: list[Bucket], by: Granularity, span: str) -> list[Chart]:
    """The page's charts over ``shown``: counts, the automated share, and the three times."""
    labels = [bucket_label(b.period, by) for b in shown]
    stats = [b.statistics for b in shown]
    per = "over the period" if by is Granularity.TOTAL else f"per {by.value}"
    made: list[Chart] = []

    actioned = [sum(s.actions.values()) for s in stats]
    counts = [
        Line("items identified", [s.identified_items for s in stats]),
        Line("platform actions", actioned),
        Line("CyberTipline reports finished", [s.cybertipline_reports_finished for s in stats]),
    ]
    made.append(
        Chart(
            id="counts",
            title="Identified, actioned and reported",
            alt=f"Bar chart of items identified, platform actions and CyberTipline reports finished {per}, "
            f"{span}. The table below has the numbers.",
            image=charts.counts_chart(labels, counts) if _any(counts) else None,
            columns=[
                "items identified",
                *(label(k) for k in PLATFORM_ACTIONS),
                "platform actions",
                "CyberTipline reports finished",
                "files reported",
                "police referrals sent",
            ],
            rows=_rows(
                shown,
                labels,
                [
                    [
                        str(s.identified_items),
                        *(str(s.actions.get(k, 0)) for k in PLATFORM_ACTIONS),
                        str(total),
                        str(s.cybertipline_reports_finished),
                        str(s.cybertipline_files_reported),
                        str(s.referrals_sent),
                    ]
                    for s, total in zip(stats, actioned, strict=True)
                ],
            ),
            note="" if _any(counts) else "Nothing was identified, actioned or reported: every count is 0.",
        )
    )

    shares = [
        Line("automated", [_percent(s.decided_automatically, s.decisions) for s in stats]),
        Line("by a person", [_percent(s.decided_by_people, s.decisions) for s in stats]),
    ]
    made.append(
        Chart(
            id="share",
            title="Decided automatically or by a person",
            alt=f"Stacked bar chart of the share of decisions made automatically and by a person {per}, "
            f"{span}. The table below has the numbers.",
            image=charts.share_chart(labels, shares) if _any(shares) else None,
            columns=["decisions", "automated", "by a person", "automated share"],
            rows=_rows(
                shown,
                labels,
                [
                    [
                        str(s.decisions),
                        str(s.decided_automatically),
                        str(s.decided_by_people),
                        f"{_percent(s.decided_automatically, s.decisions)} %"
                        if s.decisions
                        else "no decisions",
                    ]
                    for s in stats
                ],
            ),
            note="" if _any(shares) else "No decisions in the period.",
        )
    )

    for key, title, what in (
        ("detection_to_action", "From detection to action", "the first platform action"),
        ("receipt_to_detection", "From receipt to detection", "the first violation decision"),
        ("detection_to_report", "From detection to report", "a finished CyberTipline report"),
    ):
        spreads: list[Spread] = [getattr(s, key) for s in stats]
        unit, size = charts.unit_for([x.p99_s for x in spreads])

        def scaled(values: list[float | None], size: float = size) -> list[float | None]:
            return [None if v is None else round(v / size, 2) for v in values]

        lines = [
            Line("median", scaled([x.median_s for x in spreads])),
            Line("90th percentile", scaled([x.p90_s for x in spreads])),
            Line("99th percentile", scaled([x.p99_s for x in spreads])),
        ]
        drawn = any(x.count for x in spreads)
        made.append(
            Chart(
                id=key.replace("_", "-"),
                title=title,
                alt=f"Chart of the median, 90th and 99th percentile time in {unit} {title.lower()} "
                f"{per}, {span}. The table below has the numbers.",
                image=charts.times_chart(labels, lines, unit) if drawn else None,
                columns=["items", "median", "90th percentile", "99th percentile"],
                rows=_rows(
                    shown,
                    labels,
                    [
                        [str(x.count), duration(x.median_s), duration(x.p90_s), duration(x.p99_s)]
                        if x.count
                        else ["0", "no case", "no case", "no case"]
                        for x in spreads
                    ],
                ),
                note="" if drawn else f"No item identified in the period reached {what}.",
            )
        )
    return made


@dataclass(frozen=True)
class FiguresTables:
    """The period's notices and appeals as the page's tables, as text cells (the template holds the
    headers)."""

    notices: list[str]
    """The row of every flagger's notices together."""
    flaggers: list[list[str]]
    appeals: list[str]
    rates: list[list[str]]


def _rate(value: float | None) -> str:
    return "-" if value is None else f"{round(100 * value, 1):g} %"


def notices_appeals_tables(figures: NoticesAndAppeals) -> FiguresTables:
    """What the page shows of ``figures`` (``transparency.notices_appeals``): notices received, decided
    (a reviewer's decision on something named), confirmed, not found, accuracy and median time to
    decision, overall and per flagger; appeals lodged, decided, upheld, reversed, the reversal rate and
    median time to decide; and each reversal rate by policy, tool, bank, rule and classifier."""
    n, a = figures.notices, figures.appeals
    return FiguresTables(
        notices=[
            str(n.received),
            str(n.decided),
            str(n.confirmed),
            str(n.not_found),
            _rate(n.accuracy),
            duration(n.median_decision_s),
        ],
        flaggers=[
            [
                f.flagger,
                f.organisation,
                str(f.notices),
                str(f.decided),
                str(f.confirmed),
                str(f.not_found),
                _rate(f.accuracy),
                duration(f.median_decision_s),
                "status to review" if f.status_review else "",
            ]
            for f in figures.by_flagger
        ],
        appeals=[
            str(a.lodged),
            str(a.decided),
            str(a.upheld),
            str(a.reversed),
            _rate(a.reversal_rate),
            duration(a.median_decision_s),
        ],
        rates=[
            [
                r.dimension,
                r.key,
                str(r.appealed),
                str(r.reversed),
                _rate(r.rate),
                "often wrong" if r.flagged else "",
            ]
            for r in figures.reversal_rates
        ],
    )


def _asked_or_error(first: str | None, last: str | None, by: str | None, limit: int) -> tuple[Asked, str]:
    asked, error = parse_asked(first, last, by)
    if not error:
        try:
            count = bucket_count(asked, limit)
        except InvalidInput as exc:
            return asked, str(exc)
        if count > limit:
            error = (
                f"from {asked.first} to {asked.last} by {asked.by.value} is more than {limit} buckets: "
                "choose a coarser 'by' or a shorter period"
            )
    return asked, error


@router.get("/stats")
async def stats_page(
    request: Request,
    first: str | None = Query(None, alias="from", max_length=10),
    last: str | None = Query(None, alias="to", max_length=10),
    by: str | None = Query(None, max_length=10),
    state: WebState = Depends(get_state),
    who: Viewer = require(Permission.STATS_VIEW),
) -> Response:
    """The form, then the charts for the period asked (by default the last twelve months by month), and
    the period's trusted flaggers' notices and appeals as tables (each flagger's accuracy to those who
    may read the registry, ``flaggers:view``: leads and admins)."""
    asked, error = _asked_or_error(first, last, by, CHART_MAX_BUCKETS)
    made: list[Chart] = []
    empty = False
    figures: NoticesAndAppeals | None = None
    if not error:
        try:
            shown = await run_in_threadpool(state.platform.stats_series, asked.period, asked.by)
            figures = await run_in_threadpool(state.platform.stats_notices_appeals, asked.period)
        except InvalidInput as exc:
            error = str(exc)
        else:
            empty = not any(has_records(b.statistics) for b in shown)
            span = f"from {asked.first} to {asked.last} (UTC)"
            made = [] if empty else build_charts(shown, asked.by, span)
    context = {
        "asked": asked,
        "granularities": [g.value for g in Granularity],
        "error": error,
        "empty": empty,
        "charts": made,
        "open_tables": len(made[0].rows) <= OPEN_TABLES if made else False,
        "no_records": NO_RECORDS,
        "notices_appeals": None if figures is None else notices_appeals_tables(figures),
        "show_flaggers": who.can(Permission.FLAGGERS_VIEW),
    }
    return render(request, "console/stats.html", who, context, status_code=400 if error else 200)


@router.get("/stats.csv")
async def stats_csv(
    first: str | None = Query(None, alias="from", max_length=10),
    last: str | None = Query(None, alias="to", max_length=10),
    by: str | None = Query(None, max_length=10),
    state: WebState = Depends(get_state),
    who: Viewer = require(Permission.STATS_VIEW),
) -> Response:
    """The series as CSV: one row per bucket, every measure a column (``transparency.columns``)."""
    asked, error = parse_asked(first, last, by)
    if error:
        raise InvalidInput(error)
    shown = await run_in_threadpool(state.platform.stats_series, asked.period, asked.by)  # InvalidInput: 400
    name = f"suraksha-stats-{asked.first}-to-{asked.last}-by-{asked.by.value}.csv"
    return Response(
        series_csv(shown),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
