"""The statistics rollup: an incremental aggregation over closed UTC days, checked against the records.

The write path pays nothing: a decision, an action or a report is written as before, and the scheduled
job ``stats.rollup`` later counts each complete UTC day (older than ``stats_rollup_lag_s``, so records
that arrive a little late still land in an open day) from the raw records, with the very code the raw
path uses (``tally.count_records``), and stores its cells (``stats_day_counts``, ``stats_day_times``)
and the day's row in the ledger (``stats_days``, closed). A write dated in a closed day marks the day
dirty (``suraksha.content.history.history_written``); dirty days are counted from the raw records
until the job rolls them again.

``verify`` recomputes every closed day of a period from the raw records and compares them cell by
cell; ``repair`` rolls again the days that differ (and the audit log says so).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    Table,
    and_,
    case,
    delete,
    func,
    insert,
    literal_column,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Session

from suraksha import audit
from suraksha.audit import AuditAction
from suraksha.content.history import DayState, StatsDay
from suraksha.db import Database, utcnow
from suraksha.db.inserts import upsert_insert
from suraksha.transparency.models import StatsDayCount, StatsDayTime
from suraksha.transparency.statistics import Period
from suraksha.transparency.tally import (
    DIMENSIONS,
    Cell,
    Tally,
    count_records,
    day_start,
    days_between,
    earliest_record,
    utc_day,
)

log = logging.getLogger(__name__)

ROLLUP_JOB = "stats.rollup"
DAYS_PER_TRANSACTION = 31
"""Days rolled (or checked) in one transaction: a month of records counted at once, then committed."""


def last_closable_day(now: datetime, lag: timedelta) -> date:
    """The last day a rollup at ``now`` may close: it ended at least ``lag`` ago."""
    return utc_day(now - lag) - timedelta(days=1)


def pending_days(session: Session, *, now: datetime, lag: timedelta) -> list[date]:
    """Days the rollup should roll now: complete days not yet in the ledger (from the earliest record
    on) and dirty days, oldest first."""
    last = last_closable_day(now, lag)
    earliest = earliest_record(session)
    ledger = dict(session.execute(select(StatsDay.day, StatsDay.state).where(StatsDay.day <= last)).all())
    pending = {day for day, state in ledger.items() if state == DayState.DIRTY}
    if earliest is not None:
        pending.update(
            d for d in days_between(utc_day(earliest), last + timedelta(days=1)) if d not in ledger
        )
    return sorted(pending)


def runs(days: Iterable[date], *, longest: int | None = DAYS_PER_TRANSACTION) -> Iterator[list[date]]:
    """Consecutive days grouped, at most ``longest`` to a group."""
    run: list[date] = []
    for day in sorted(days):
        if run and (day != run[-1] + timedelta(days=1) or (longest is not None and len(run) >= longest)):
            yield run
            run = []
        run.append(day)
    if run:
        yield run


def days_period(run: list[date]) -> Period:
    return Period(day_start(run[0]), day_start(run[-1] + timedelta(days=1)))


NOT_IN_LEDGER = "not in the ledger"


@dataclass(frozen=True)
class CountedDays:
    """Days counted from the raw records, with the ledger's marks as they were before counting."""

    run: list[date]
    marks: dict[date, datetime | str | None]
    """Each day's ``dirtied_at`` before counting (``NOT_IN_LEDGER`` for a day without a row)."""
    tally: Tally


def count_days(session: Session, run: list[date]) -> CountedDays:
    """Read the ledger's marks of consecutive days ``run``, then count them from the raw records
    (reads only: a read transaction will do)."""
    marks: dict[date, datetime | str | None] = dict.fromkeys(run, NOT_IN_LEDGER)
    for day, dirtied in session.execute(
        select(StatsDay.day, StatsDay.dirtied_at).where(StatsDay.day.in_(run))
    ):
        marks[day] = dirtied
    return CountedDays(run, marks, count_records(session, days_period(run)))


def store_days(session: Session, counted: CountedDays, *, now: datetime) -> int:
    """Store counted days' cells and close each day whose ledger mark is still the one read before
    counting; returns how many were closed. A day marked dirty since (a backfill wrote into it after
    it was counted: ``history_written``) stays dirty, its cells unused until the next run: a day is
    never closed on counts that miss a write."""
    run = counted.run
    session.execute(delete(StatsDayCount).where(StatsDayCount.day.in_(run)))
    session.execute(delete(StatsDayTime).where(StatsDayTime.day.in_(run)))
    counts = [
        {"day": day, **{d: getattr(cell, d) for d in DIMENSIONS}, "measure": cell.measure, "value": value}
        for (day, cell), value in counted.tally.counts.items()
        if value
    ]
    times = [
        {
            "day": day,
            "measure": measure,
            "bucket": bucket,
            "count": count,
            "peak_ms": counted.tally.peaks.get((day, measure, bucket), 0),
        }
        for (day, measure, bucket), count in counted.tally.times.items()
        if count
    ]
    if counts:
        session.execute(insert(cast(Table, StatsDayCount.__table__)), counts)  # Core: no ORM bulk path
    if times:
        session.execute(insert(cast(Table, StatsDayTime.__table__)), times)
    closed = 0
    new = [day for day in run if counted.marks[day] == NOT_IN_LEDGER]
    if new:
        fresh = upsert_insert(session, StatsDay).on_conflict_do_nothing(
            index_elements=[StatsDay.__table__.c.day]
        )
        rows = [{"day": day, "state": DayState.CLOSED.value, "rolled_at": now} for day in new]
        closed += len(session.execute(fresh.values(rows).returning(StatsDay.__table__.c.day)).all())
    for day in run:
        dirtied = counted.marks[day]
        if dirtied == NOT_IN_LEDGER:
            continue
        same_mark = StatsDay.dirtied_at.is_(None) if dirtied is None else StatsDay.dirtied_at == dirtied
        result = session.execute(
            update(StatsDay)
            .where(StatsDay.day == day, same_mark)
            .values(state=DayState.CLOSED, rolled_at=now)
            .execution_options(synchronize_session=False)
        )
        closed += result.rowcount or 0  # type: ignore[attr-defined]
    return closed


def roll_days(session: Session, run: list[date], *, now: datetime) -> int:
    """Count consecutive ``run`` days and store them as closed, in one transaction (a repair)."""
    return store_days(session, count_days(session, run), now=now)


def closed_days(session: Session, first: date, end: date) -> set[date]:
    """The closed days from ``first`` up to, not including, ``end``."""
    return set(
        session.scalars(
            select(StatsDay.day).where(
                StatsDay.day >= first, StatsDay.day < end, StatsDay.state == DayState.CLOSED
            )
        )
    )


def stored(session: Session, days: Iterable[date], *, by_day: bool) -> Tally:
    """The rollup's cells of ``days`` (closed days, as the caller read the ledger): per day, or all
    summed under the first day. The days are asked for as ranges of consecutive days, so the
    database sums them by the day index without a join to the ledger."""
    wanted = sorted(set(days))
    tally = Tally()
    if not wanted:
        return tally
    spans = [(run[0], run[-1] + timedelta(days=1)) for run in runs(wanted, longest=None)]

    def within(column: Any) -> ColumnElement[bool]:
        return or_(*(and_(column >= first, column < end) for first, end in spans))

    columns = [getattr(StatsDayCount, d) for d in DIMENSIONS]
    keys = [StatsDayCount.day] if by_day else []
    for row in session.execute(
        select(*keys, StatsDayCount.measure, *columns, func.sum(StatsDayCount.value))
        .where(within(StatsDayCount.day))
        .group_by(*keys, StatsDayCount.measure, *columns)
    ):
        values = list(row)
        day = values.pop(0) if by_day else wanted[0]
        tally.counts[day, _cell(values[0], values[1:-1])] += int(values[-1])
    time_keys = [StatsDayTime.day] if by_day else []
    for row in session.execute(
        select(
            *time_keys,
            StatsDayTime.measure,
            StatsDayTime.bucket,
            func.sum(StatsDayTime.count),
            func.max(StatsDayTime.peak_ms),
        )
        .where(within(StatsDayTime.day))
        .group_by(*time_keys, StatsDayTime.measure, StatsDayTime.bucket)
    ):
        values = list(row)
        day = values.pop(0) if by_day else wanted[0]
        measure, bucket, total, peak = values
        tally.times[day, measure, int(bucket)] += int(total)
        tally.peak((day, measure, int(bucket)), int(peak))
    return tally


def _cell(measure: str, dimensions: Sequence[Any]) -> Cell:
    """A cell from a row's dimensions, in ``DIMENSIONS`` order (the flags as booleans)."""
    given = dict(zip(DIMENSIONS, dimensions, strict=True))
    given["automated"], given["backfilled"] = bool(given["automated"]), bool(given["backfilled"])
    return Cell(measure, **given)


MAX_GROUP_SPANS = 400
"""Ranges of days one summing query names (a CASE branch each); more are summed a group at a time."""


def stored_groups(session: Session, groups: Sequence[Iterable[date]]) -> list[Tally]:
    """The rollup's cells summed over each group of days (the closed days of each bucket), on
    PostgreSQL in one query per table: a CASE names the group of each row's day, and the database sums
    by it. Each tally is keyed under its group's first day."""
    spans: list[tuple[int, date, date]] = []
    firsts: list[date | None] = []
    for index, days in enumerate(groups):
        wanted = sorted(set(days))
        firsts.append(wanted[0] if wanted else None)
        spans.extend((index, run[0], run[-1] + timedelta(days=1)) for run in runs(wanted, longest=None))
    tallies = [Tally() for _ in groups]
    if not spans:
        return tallies
    if len(spans) > MAX_GROUP_SPANS or session.get_bind().dialect.name == "sqlite":
        # SQLite answers in-process (no round trip to save) and sums a range by the day index faster
        # than it evaluates the CASE for every row: 0.17-0.34 s against 0.44-0.55 s for 48 months of
        # 200,000 decisions (benchmarks/stats.py); PostgreSQL saves 96 round trips.
        return [stored(session, days, by_day=False) for days in groups]
    low, high = min(s[1] for s in spans), max(s[2] for s in spans)

    def group_of(column: Any) -> Any:
        return case(*((and_(column >= a, column < b), i) for i, a, b in spans), else_=-1).label("grp")

    by_group: ColumnElement[Any] = literal_column("grp")
    columns = [getattr(StatsDayCount, d) for d in DIMENSIONS]
    for row in session.execute(
        select(group_of(StatsDayCount.day), StatsDayCount.measure, *columns, func.sum(StatsDayCount.value))
        .where(StatsDayCount.day >= low, StatsDayCount.day < high)
        .group_by(by_group, StatsDayCount.measure, *columns)
    ):
        index, measure, *dimensions, total = row
        first = firsts[index] if index >= 0 else None
        if first is None:
            continue  # a day of the range that is not closed (dirty): counted from the raw records
        tallies[index].counts[first, _cell(measure, dimensions)] += int(total)
    for index, measure, bucket, total, peak in session.execute(
        select(
            group_of(StatsDayTime.day),
            StatsDayTime.measure,
            StatsDayTime.bucket,
            func.sum(StatsDayTime.count),
            func.max(StatsDayTime.peak_ms),
        )
        .where(StatsDayTime.day >= low, StatsDayTime.day < high)
        .group_by(by_group, StatsDayTime.measure, StatsDayTime.bucket)
    ):
        first = firsts[index] if index >= 0 else None
        if first is not None:
            tallies[index].times[first, measure, int(bucket)] += int(total)
            tallies[index].peak((first, measure, int(bucket)), int(peak))
    return tallies


@dataclass(frozen=True)
class Difference:
    day: date
    cell: str
    stored: int
    recomputed: int

    def as_dict(self) -> dict[str, object]:
        return {
            "day": self.day.isoformat(),
            "cell": self.cell,
            "stored": self.stored,
            "recomputed": self.recomputed,
        }


@dataclass
class Check:
    """What ``verify`` found: the closed days it recomputed, and each cell that differed."""

    days_checked: int = 0
    differences: list[Difference] = field(default_factory=list)
    repaired: list[date] = field(default_factory=list)

    @property
    def agrees(self) -> bool:
        return not self.differences

    @property
    def days_differing(self) -> list[date]:
        return sorted({d.day for d in self.differences})

    def as_dict(self) -> dict[str, object]:
        return {
            "agrees": self.agrees,
            "days_checked": self.days_checked,
            "days_differing": [d.isoformat() for d in self.days_differing],
            "differences": [d.as_dict() for d in self.differences],
            "repaired": [d.isoformat() for d in self.repaired],
        }


def _cell_name(cell: Cell) -> str:
    dims = [f"{d}={getattr(cell, d)}" for d in DIMENSIONS if getattr(cell, d) not in ("", False)]
    return " ".join([cell.measure, *dims])


def compare(stored_tally: Tally, recomputed: Tally) -> list[Difference]:
    """Every cell (count or time bucket) whose stored value is not the recomputed one."""
    found: list[Difference] = []
    for key in sorted(set(stored_tally.counts) | set(recomputed.counts)):
        a, b = stored_tally.counts.get(key, 0), recomputed.counts.get(key, 0)
        if a != b:
            found.append(Difference(key[0], _cell_name(key[1]), a, b))
    for tkey in sorted(set(stored_tally.times) | set(recomputed.times)):
        a, b = stored_tally.times.get(tkey, 0), recomputed.times.get(tkey, 0)
        if a != b:
            found.append(Difference(tkey[0], f"{tkey[1]} bucket={tkey[2]}", a, b))
        a, b = stored_tally.peaks.get(tkey, 0), recomputed.peaks.get(tkey, 0)
        if a != b:
            found.append(Difference(tkey[0], f"{tkey[1]} bucket={tkey[2]} longest ms", a, b))
    return found


def check_days(session: Session, run: list[date]) -> list[Difference]:
    """Recompute consecutive closed days ``run`` from the raw records and compare with the rollup
    (reads only: a read transaction will do)."""
    recomputed = count_records(session, days_period(run)).only(run)
    return compare(stored(session, run, by_day=True), recomputed)


def finish_check(
    session: Session,
    check: Check,
    checked: list[date],
    period: Period,
    *,
    repair: bool,
    actor: str,
    now: datetime,
) -> None:
    """Record when ``checked`` days were checked; with ``repair``, roll again each day that differed and
    record it in the audit log (the days, and the first cells that differed)."""
    for run in runs(checked):
        session.execute(
            update(StatsDay)
            .where(StatsDay.day.in_(run))
            .values(checked_at=now)
            .execution_options(synchronize_session=False)
        )
    if repair and check.differences:
        for run in runs(check.days_differing):
            roll_days(session, run, now=now)
        check.repaired = check.days_differing
        audit.record(
            session,
            actor,
            AuditAction.STATS_REPAIR,
            subject=f"{period.start.date()}..{period.end.date()}",
            details={
                "days": [d.isoformat() for d in check.repaired],
                "cells": len(check.differences),
                "first": [d.as_dict() for d in check.differences[:20]],
            },
        )
    log.info(
        "event=stats.check days=%d differing=%d repaired=%d",
        check.days_checked,
        len(check.days_differing),
        len(check.repaired),
    )


def closed_runs(session: Session, period: Period) -> list[list[date]]:
    """The closed days of ``period`` (every day it touches), in runs of consecutive days."""
    first = utc_day(period.start)
    end = utc_day(period.end - timedelta(microseconds=1)) + timedelta(days=1)
    return list(runs(closed_days(session, first, end)))


Progress = Callable[[int, int], None]
"""Called with (days done, days in all) as work goes on."""


def roll(db: Database, *, now: datetime, lag: timedelta, progress: Progress | None = None) -> RollResult:
    """Close every complete day older than ``lag`` not yet rolled, and roll dirty days again, a month
    of days at a time: counted in a read transaction (on SQLite the write path never waits on the
    counting), then stored in a short write transaction. A day a backfill wrote into meanwhile stays
    dirty for the next run."""
    with db.reading() as session:
        pending = pending_days(session, now=now, lag=lag)
    result = RollResult(pending=len(pending))
    done = 0
    for run in runs(pending):
        with db.reading() as session:
            counted = count_days(session, run)
        with db.session() as session:
            result.closed += store_days(session, counted, now=now)
        done += len(run)
        if progress is not None:
            progress(done, len(pending))
    result.left_dirty = result.pending - result.closed
    log.info(
        "event=stats.rollup pending=%d closed=%d left_dirty=%d",
        result.pending,
        result.closed,
        result.left_dirty,
    )
    return result


@dataclass
class RollResult:
    pending: int = 0
    closed: int = 0
    left_dirty: int = 0
    """Days written into while they were being counted: rolled again next run."""

    def as_dict(self) -> dict[str, int]:
        return {"pending": self.pending, "closed": self.closed, "left_dirty": self.left_dirty}


def verify(
    session: Session,
    period: Period,
    *,
    repair: bool = False,
    actor: str = "system:stats",
    now: datetime | None = None,
    progress: Progress | None = None,
) -> Check:
    """Recompute every closed day of ``period`` from the raw records and compare it with the rollup,
    cell by cell, in ``session``. With ``repair``, roll again each day that differs and record it in
    the audit log (what differed, so the repair can be accounted for). ``Platform.stats_check`` runs
    the same steps with a read transaction a month, so a long check holds no write lock."""
    now = now or utcnow()
    check = Check()
    day_runs = closed_runs(session, period)
    total = sum(len(r) for r in day_runs)
    for run in day_runs:
        check.differences.extend(check_days(session, run))
        check.days_checked += len(run)
        if progress is not None:
            progress(check.days_checked, total)
    finish_check(
        session, check, [d for r in day_runs for d in r], period, repair=repair, actor=actor, now=now
    )
    return check
