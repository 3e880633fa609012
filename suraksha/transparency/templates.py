"""Regulators' templates: each a versioned definition (id, version, title, the legal source it follows,
and its cells, each with its definition over the statistics), filled by one generic renderer.

A cell's value comes from ``series()`` (the period as one bucket: the statistics every other reader
uses) or from a query of ``suraksha.transparency.measures`` (or of ``notices_appeals``: trusted
flaggers' notices, appeals) where the statistics lack the figure. A
field the template asks for and Suraksha holds no record of is ``NOT_COLLECTED`` and says so: unknown is
never zero. A time with no case to measure is ``None`` ("no case").

Changing what a cell means is a new ``version`` of its template: a figure published under one version is
reproduced by that version's definitions.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import StrEnum
from functools import cached_property

from sqlalchemy.orm import Session

from suraksha.errors import InvalidInput
from suraksha.reporting.pdf import Pages
from suraksha.transparency import measures, notices_appeals
from suraksha.transparency.series import Bucket, Granularity, series
from suraksha.transparency.statistics import Period, Spread, Statistics


class NotCollected(StrEnum):
    NOT_COLLECTED = "not collected"


NOT_COLLECTED = NotCollected.NOT_COLLECTED
CellValue = int | float | str | NotCollected | None


class PeriodKind(StrEnum):
    MONTH = "month"
    YEAR = "year"
    CUSTOM = "custom"


class Figures:
    """What a template's cells read for one period: the statistics (through ``series``) and the
    template-only measures, each computed once."""

    def __init__(self, session: Session, period: Period, *, organisation: str = "") -> None:
        self.session, self.period, self.organisation = session, period, organisation

    @cached_property
    def _total(self) -> Bucket:
        return series(self.session, self.period, Granularity.TOTAL)[0]

    @cached_property
    def stats(self) -> Statistics:
        return self._total.statistics

    @cached_property
    def removals(self) -> measures.Removals | None:
        """The distinct items removed, read from the rollup's days (None for a period that is not
        whole UTC days: then each figure is counted from the records)."""
        if not measures.whole_days(self.period):
            return None
        return measures.removals(self._total.tally, self.period)

    @cached_property
    def grievances_in(self) -> measures.Grievances:
        return measures.grievances(self.session, self.period, ("IN",))

    @cached_property
    def user_reports(self) -> dict[str, int]:
        if self.removals is not None:
            return self.removals.reports
        return measures.user_reports(self.session, self.period)

    @cached_property
    def reported_removed(self) -> dict[str, int]:
        if self.removals is not None:
            return self.removals.by_reporter
        return measures.reported_items_removed(self.session, self.period)

    @cached_property
    def removed_automated(self) -> dict[str, int]:
        if self.removals is not None:
            return self.removals.by_category[True]
        return measures.removed_by_category(self.session, self.period, automated=True)

    @cached_property
    def removed_by_people(self) -> dict[str, int]:
        if self.removals is not None:
            return self.removals.by_category[False]
        return measures.removed_by_category(self.session, self.period, automated=False)

    @cached_property
    def removed_items_automated(self) -> int:
        if self.removals is not None:
            return self.removals.by_tool[True]
        return measures.items_removed(self.session, self.period, automated=True)

    @cached_property
    def removed_items_by_people(self) -> int:
        if self.removals is not None:
            return self.removals.by_tool[False]
        return measures.items_removed(self.session, self.period, automated=False)

    @cached_property
    def eu_removal_orders(self) -> measures.Orders:
        kinds = ("blocking_order", "removal_notice", "court_order")
        return measures.orders(self.session, self.period, kinds, (*measures.EEA_STATES, "EU"))

    @cached_property
    def eu_information_orders(self) -> measures.Orders:
        kinds = ("data_disclosure", "emergency_disclosure", "preservation")
        return measures.orders(self.session, self.period, kinds, (*measures.EEA_STATES, "EU"))

    @cached_property
    def notice_times(self) -> Spread:
        return measures.notice_decision_times(self.session, self.period)

    @cached_property
    def noticed_removed(self) -> measures.NoticedRemoved:
        users = None if self.removals is None else self.removals.by_reporter["user"]
        return measures.noticed_items_removed(self.session, self.period, users_removed=users)

    @cached_property
    def flagger_notices(self) -> notices_appeals.NoticeFigures:
        return notices_appeals.notice_figures(self.session, self.period)

    @cached_property
    def appeals(self) -> notices_appeals.AppealFigures:
        return notices_appeals.appeal_figures(self.session, self.period)

    @cached_property
    def incidents(self) -> dict[str, measures.IncidentCounts]:
        return measures.reports_by_incident_type(self.session, self.period)


@dataclass(frozen=True)
class Cell:
    id: str
    section: str
    label: str
    definition: str
    value: Callable[[Figures], CellValue] | None
    """None: Suraksha holds no record of it (rendered "not collected")."""
    unit: str = "count"


@dataclass(frozen=True)
class Template:
    id: str
    version: str
    title: str
    source: str
    period_kind: PeriodKind
    formats: tuple[str, ...]
    cells: tuple[Cell, ...]

    def __post_init__(self) -> None:
        ids = [c.id for c in self.cells]
        if len(ids) != len(set(ids)):  # pragma: no cover - a definition error
            raise ValueError(f"template {self.id} names a cell twice")

    def summary(self) -> dict[str, object]:
        return {
            "id": self.id,
            "version": self.version,
            "title": self.title,
            "source": self.source,
            "period": self.period_kind.value,
            "formats": list(self.formats),
            "cells": len(self.cells),
            "not_collected": sum(1 for c in self.cells if c.value is None),
        }


@dataclass(frozen=True)
class FilledCell:
    cell: Cell
    value: CellValue

    @property
    def shown(self) -> str:
        if self.value is None:
            return "no case"
        if isinstance(self.value, float):
            return f"{self.value:g}"
        return str(self.value)


@dataclass(frozen=True)
class FilledTemplate:
    template: Template
    period: Period
    generated_at: datetime
    organisation: str
    cells: tuple[FilledCell, ...]

    def values(self) -> dict[str, CellValue]:
        return {c.cell.id: c.value for c in self.cells}

    def as_dict(self) -> dict[str, object]:
        return {
            "template": self.template.id,
            "version": self.template.version,
            "title": self.template.title,
            "source": self.template.source,
            "period_start": self.period.start.isoformat(),
            "period_end": self.period.end.isoformat(),
            "generated_at": self.generated_at.isoformat(),
            "organisation": self.organisation,
            "cells": [
                {
                    "id": c.cell.id,
                    "section": c.cell.section,
                    "label": c.cell.label,
                    "value": c.value.value if isinstance(c.value, NotCollected) else c.value,
                    "shown": c.shown,
                    "unit": c.cell.unit,
                    "definition": c.cell.definition,
                }
                for c in self.cells
            ],
        }


def fill(
    template: Template, session: Session, period: Period, *, organisation: str = "", now: datetime
) -> FilledTemplate:
    """Every cell of ``template`` for ``period``."""
    figures = Figures(session, period, organisation=organisation)
    cells = tuple(
        FilledCell(cell, NOT_COLLECTED if cell.value is None else cell.value(figures))
        for cell in template.cells
    )
    return FilledTemplate(template, period, now, organisation, cells)


CSV_HEADER = ("template", "version", "section", "cell", "label", "value", "unit", "definition")


def render_csv(filled: FilledTemplate) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    for c in filled.cells:
        writer.writerow(
            (
                filled.template.id,
                filled.template.version,
                c.cell.section,
                c.cell.id,
                c.cell.label,
                c.shown,
                c.cell.unit,
                c.cell.definition,
            )
        )
    return out.getvalue().encode("utf-8")


def render_pdf(filled: FilledTemplate) -> bytes:
    t = filled.template
    pdf = Pages(t.title, filled.generated_at)
    pdf.line(f"{filled.organisation or 'The platform'}. Period: {period_words(filled.period)}.")
    pdf.line(f"Prepared under {t.source}. Template {t.id} version {t.version}.")
    pdf.line(f"Generated from the platform's records on {filled.generated_at.isoformat(timespec='seconds')}.")
    section = ""
    for c in filled.cells:
        if c.cell.section != section:
            section = c.cell.section
            pdf.heading(section)
        pdf.line(f"{c.cell.label}: {c.shown}")
    pdf.new_page()
    pdf.heading("How each figure is counted")
    for c in filled.cells:
        pdf.bold(c.cell.label)
        pdf.line(c.cell.definition)
    return pdf.output()


RENDERERS: dict[str, Callable[[FilledTemplate], bytes]] = {"csv": render_csv, "pdf": render_pdf}


def period_words(period: Period) -> str:
    last = period.end.date().toordinal() - 1
    return f"{period.start.date().isoformat()} to {date.fromordinal(last).isoformat()}"


# Periods, validated as people give them.


def month_period(raw: str) -> Period:
    """``2026-11``: that calendar month in UTC."""
    try:
        year, month = (int(part) for part in raw.strip().split("-"))
        first = datetime(year, month, 1, tzinfo=UTC)
    except ValueError:
        raise InvalidInput(f"month {raw[:20]!r} is not a month such as 2026-11") from None
    end = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=UTC)
    return Period(first, end)


def year_period(year: int) -> Period:
    if not 1990 <= year <= 9998:
        raise InvalidInput(f"year {year} is not a calendar year such as 2025")
    return Period(datetime(year, 1, 1, tzinfo=UTC), datetime(year + 1, 1, 1, tzinfo=UTC))


def days_period(start: str, end: str) -> Period:
    """``--from`` and ``--to`` as dates, the last day included."""
    try:
        first, last = date.fromisoformat(start.strip()), date.fromisoformat(end.strip())
    except ValueError:
        raise InvalidInput(
            f"--from {start[:20]!r} and --to {end[:20]!r} must be dates such as 2025-01-01"
        ) from None
    if last < first:
        raise InvalidInput(f"the period starts ({first}) after it ends ({last})")
    return Period(
        datetime(first.year, first.month, first.day, tzinfo=UTC),
        datetime.fromordinal(last.toordinal() + 1).replace(tzinfo=UTC),
    )
