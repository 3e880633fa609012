"""``suraksha templates``: the regulators' templates (list them; render one for a period as PDF, CSV and
its exact JSON)."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from suraksha.cli.common import fail, out, platform, print_json
from suraksha.transparency import templates
from suraksha.transparency.catalogue import get_template
from suraksha.transparency.statistics import Period
from suraksha.transparency.templates import PeriodKind

app = typer.Typer(
    help="Regulators' templates (IT Rules monthly report, DSA transparency report, NCMEC counts).",
    no_args_is_help=True,
)
JSON = typer.Option(False, "--json", help="Machine-readable output.")


@app.command("list")
def list_command(json_out: bool = JSON) -> None:
    """Every template, with its version, legal source, period and formats."""
    with platform() as p:
        rows = p.templates_list()
    if json_out:
        print_json(rows)
        return
    table = Table("id", "version", "period", "formats", "cells", "not collected", "source")
    for r in rows:
        table.add_row(
            str(r["id"]),
            str(r["version"]),
            str(r["period"]),
            ", ".join(r["formats"]),  # type: ignore[arg-type]
            str(r["cells"]),
            str(r["not_collected"]),
            str(r["source"]),
        )
    out.print(table)


def _period(
    kind: PeriodKind, month: str | None, year: int | None, start: str | None, end: str | None
) -> Period:
    given = [name for name, v in (("--month", month), ("--year", year), ("--from", start)) if v is not None]
    if len(given) > 1:
        raise fail(f"give one period, not {' and '.join(given)}")
    if month is not None:
        return templates.month_period(month)
    if year is not None:
        return templates.year_period(year)
    if start is not None or end is not None:
        if start is None or end is None:
            raise fail("a custom period needs both --from and --to (dates, the last day included)")
        return templates.days_period(start, end)
    example = {PeriodKind.MONTH: "--month 2026-11", PeriodKind.YEAR: "--year 2025"}.get(
        kind, "--from 2026-01-01 --to 2026-12-31"
    )
    raise fail(f"which period? e.g. {example}")


@app.command("render")
def render_command(
    template_id: str = typer.Argument(
        ..., metavar="TEMPLATE", help="it-rules-monthly, dsa-transparency, ..."
    ),
    month: str | None = typer.Option(None, "--month", help="A calendar month (UTC), e.g. 2026-11."),
    year: int | None = typer.Option(None, "--year", help="A calendar year (UTC), e.g. 2025."),
    start: str | None = typer.Option(None, "--from", help="First day of a custom period, e.g. 2026-01-01."),
    end: str | None = typer.Option(None, "--to", help="Last day of a custom period (included)."),
    out_dir: Path | None = typer.Option(None, "--out", help="Write the files to this (new, private) folder."),
    fmt: list[str] = typer.Option([], "--format", help="pdf or csv (repeatable; default: every format)."),
    json_out: bool = JSON,
) -> None:
    """Fill a template from the records for a period; print it, and with --out write it as each of its
    formats and as exact JSON."""
    with platform() as p:
        template = get_template(template_id)
        period = _period(template.period_kind, month, year, start, end)
        filled = p.template_fill(template.id, period)
        written: dict[str, str] = {}
        if out_dir is not None:
            if out_dir.exists() and any(out_dir.iterdir()):
                raise fail(f"{out_dir} is not empty: give a new folder for the report")
            written = p.template_write(filled, out_dir, fmt)
    if json_out:
        print_json({**filled.as_dict(), "files": written})
        return
    t = filled.template
    out.print(f"[bold]{t.title}[/bold] ({t.id} v{t.version}), {templates.period_words(filled.period)}")
    section = ""
    for c in filled.cells:
        if c.cell.section != section:
            section = c.cell.section
            out.print(f"\n[bold]{section}[/bold]")
        out.print(f"  {c.cell.label}: {c.shown}")
    for name, sha in written.items():
        out.print(f"wrote {out_dir}/{name} (sha256 {sha[:16]}...)")
