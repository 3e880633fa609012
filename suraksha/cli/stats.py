"""``suraksha stats``: every figure for a period, by day, week, month, quarter, year or in total; and the
rollup behind it (``stats rollup``, ``stats check``)."""

from __future__ import annotations

import csv
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

from suraksha.cli.common import cli_actor, err, fail, out, platform, print_json
from suraksha.transparency.figures import parse_bound
from suraksha.transparency.notices_appeals import NoticesAndAppeals
from suraksha.transparency.rollup import Progress as Advance
from suraksha.transparency.statistics import NO_RECORDS

app = typer.Typer(invoke_without_command=True)  # help: stats_command's docstring

FROM = typer.Option(None, "--from", help="First day (UTC), e.g. 2021-01-01, or a time with its offset.")
TO = typer.Option(None, "--to", help="Last day (UTC, included), e.g. 2021-12-31, or an end time (excluded).")
SHOWN = {
    "identified": "identified",
    "decisions": "decided",
    "decided_automatically": "auto",
    "remove": "removed",
    "suspend": "suspended",
    "cybertipline_reports": "reported",
    "detection_to_action_median_s": "to act p50 s",
}
"""The columns of the table (``--json`` and ``--csv`` give every measure)."""
HEAD = ("start", "end", "note")
TABLES = ("buckets", "flaggers", "appeals")
"""What ``--csv --table`` writes: the buckets, or the whole period's notices or appeals."""


def _bounds(start: str | None, end: str | None) -> tuple[str, str]:
    if not start or not end:
        raise fail("give --from and --to, e.g. --from 2021-01-01 --to 2021-12-31")
    return start, end


@contextmanager
def _progress(what: str, *, quiet: bool) -> Iterator[Advance]:
    columns = (TextColumn(what), BarColumn(), MofNCompleteColumn(), TextColumn("days"))
    with Progress(*columns, console=err, transient=True, disable=quiet) as progress:
        task = progress.add_task(what, total=None)

        def advance(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        yield advance


@app.callback()
def stats_command(
    ctx: typer.Context,
    start: str | None = FROM,
    end: str | None = TO,
    by: str = typer.Option("month", "--by", help="day, week, month, quarter, year or total."),
    group: str | None = typer.Option(
        None, "--group", help="Break down by category, source, policy or country."
    ),
    json_out: bool = typer.Option(False, "--json", help="Every measure of every bucket as JSON."),
    csv_out: bool = typer.Option(False, "--csv", help="One row per bucket (and group value) as CSV."),
    which: str = typer.Option(
        "buckets",
        "--table",
        help="With --csv: buckets; flaggers (trusted flaggers' notices, all then each flagger); or "
        "appeals (all, then reversal rates by policy, tool, bank, rule and classifier).",
    ),
) -> None:
    """Every figure for a period, by day, week, month, quarter, year or in total.

    Calendar buckets in UTC: items identified (by source), decisions (automated or by people), actions
    by kind, CyberTipline reports and files, police referrals, and the time from receipt to detection,
    detection to action and to report (median, p90, p99). Zero is 0; a bucket without any record says
    so. Then, for the whole period, trusted flaggers' notices (received, decided, confirmed, accuracy,
    median time to decision; overall and per flagger) and appeals (lodged, decided, upheld, reversed,
    median time to decide, reversal rates), counted from the records. `stats rollup` and `stats check`
    keep the rollup behind the buckets (docs/transparency.md)."""
    if ctx.invoked_subcommand is not None:
        return
    if json_out and csv_out:
        raise fail("choose one of --json and --csv")
    if which not in TABLES:
        raise fail(f"--table {which!r} is not one of {', '.join(TABLES)}")
    if which != "buckets" and not csv_out:
        raise fail("--table chooses the CSV's table: add --csv (the table and --json show every one)")
    first, last = _bounds(start, end)
    with platform() as p:
        report = p.stats(parse_bound(first, "--from", end=False), parse_bound(last, "--to", end=True), by=by,
                         group=group)  # fmt: skip
    rows = report.rows()
    if json_out:
        print_json(report.as_dict())
        return
    extra = report.notices_appeals
    if csv_out and which != "buckets" and extra is not None:
        rows = extra.flagger_rows() if which == "flaggers" else extra.appeal_rows()
    if csv_out:
        writer = csv.DictWriter(sys.stdout, fieldnames=list(rows[0]) if rows else ["start", "end"])
        writer.writeheader()
        writer.writerows(rows)
        return
    if report.group is None:
        columns = SHOWN
    else:
        columns = {report.group.value: report.group.value} | {c: c for c in rows[0] if c not in HEAD}
    title = f"{report.period.start.date()} to {report.period.end.date()} (end excluded), by {report.by}"
    table = Table(title=title)
    table.add_column("from", no_wrap=True)
    for header in columns.values():
        table.add_column(header, justify="right")
    table.add_column("", no_wrap=True)
    for row in rows:
        note = "no records" if NO_RECORDS in str(row["note"]) else ""
        table.add_row(str(row["start"])[:10], *(_shown(row.get(c)) for c in columns), note)
    out.print(table)
    if extra is not None:
        _print_notices_appeals(extra)


def _print_notices_appeals(figures: NoticesAndAppeals) -> None:
    notices = Table(title="Notices from trusted flaggers (received in the period)")
    for header in (
        "flagger",
        "received",
        "decided",
        "confirmed",
        "not found",
        "accuracy",
        "median to decide",
    ):
        notices.add_column(header, justify="left" if header == "flagger" else "right")
    for row in figures.flagger_rows():
        notices.add_row(
            str(row["flagger"]),
            *(str(row[k]) for k in ("notices", "decided", "confirmed", "not_found")),
            _percent(row["accuracy"]),
            _seconds(row["median_decision_s"]),
        )
    out.print(notices)
    appeals = Table(title="Appeals (lodged, and decided, in the period) and reversal rates")
    for header in ("of", "lodged", "decided", "upheld", "reversed", "reversal rate", "median to decide", ""):
        appeals.add_column(header, justify="left" if header in ("of", "") else "right")
    for row in figures.appeal_rows():
        what = "all appeals" if row["dimension"] == "all" else f"{row['dimension']} {row['key']}"
        appeals.add_row(
            what,
            *(_shown(row[k]) for k in ("lodged", "decided", "upheld", "reversed")),
            _percent(row["rate"]),
            _seconds(row["median_decision_s"]),
            "often wrong" if row["flagged"] else "",
        )
    out.print(appeals)


def _percent(value: object) -> str:
    return f"{value:.0%}" if isinstance(value, float) else "-"


def _seconds(value: object) -> str:
    return f"{value:g} s" if isinstance(value, float | int) else "-"


def _shown(value: object) -> str:
    return "-" if value is None else str(value)


@app.command("rollup")
def rollup_command(json_out: bool = typer.Option(False, "--json", help="What was rolled, as JSON.")) -> None:
    """Roll up every complete UTC day older than stats_rollup_lag_s not yet rolled, and every dirty
    day (the worker runs this every stats_rollup_every_s)."""
    with platform() as p, _progress("rolling up", quiet=json_out) as advance:
        result = p.stats_rollup(progress=advance)
    if json_out:
        print_json(result.as_dict())
        return
    out.print(
        f"{result.closed} days closed of {result.pending} pending; "
        f"{result.left_dirty} written into meanwhile, left for the next run"
    )


@app.command("check")
def check_command(
    start: str | None = FROM,
    end: str | None = TO,
    repair: bool = typer.Option(False, "--repair", help="Roll again each day that differs (audited)."),
    json_out: bool = typer.Option(False, "--json", help="The check as JSON."),
) -> None:
    """Recompute every closed day of the period from the raw records and compare with the rollup, cell
    by cell. Exit 1 when a day differs (and was not repaired)."""
    first, last = _bounds(start, end)
    with platform() as p, _progress("checking", quiet=json_out) as advance:
        period = parse_bound(first, "--from", end=False), parse_bound(last, "--to", end=True)
        check = p.stats_check(*period, repair=repair, actor=cli_actor(), progress=advance)
    if json_out:
        print_json(check.as_dict())
    elif check.agrees:
        out.print(f"{check.days_checked} closed days checked: the rollup agrees with the records")
    else:
        for difference in check.differences[:50]:
            out.print(
                f"{difference.day} {difference.cell}: "
                f"rollup {difference.stored}, records {difference.recomputed}"
            )
        more = len(check.differences) - 50
        if more > 0:
            out.print(f"... and {more} more cells")
        days = ", ".join(d.isoformat() for d in check.days_differing[:10])
        out.print(f"{len(check.days_differing)} of {check.days_checked} days differ ({days})")
        if check.repaired:
            out.print(f"repaired: {len(check.repaired)} days rolled again (recorded in the audit log)")
    if not check.agrees and not check.repaired:
        raise typer.Exit(1)
