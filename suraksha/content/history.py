"""The day ledger of the statistics rollup, and the one call a writer of past-dated records makes.

Statistics (``suraksha.transparency``) keep per-day counts for each closed UTC day. A closed day's
counts are only right while no record lands in it afterwards; most writes are dated now, so they land
in a day not yet closed. A write dated in the past (an archive backfill importing items with their
original times, a late record) must call ``history_written`` in its own transaction with the times it
wrote: the days they fall in are marked dirty, statistics recompute them from the raw records, and the
next ``stats.rollup`` run rolls them again. The ledger lives here, below every area that writes
records, so any of them can call it without importing the statistics above them.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime
from enum import StrEnum

from sqlalchemy import Date, String
from sqlalchemy.orm import Mapped, Session, mapped_column

from suraksha.db.base import Base, UTCDateTime, utcnow
from suraksha.db.inserts import upsert_insert


class DayState(StrEnum):
    CLOSED = "closed"
    """Rolled up: its counts are read from the rollup."""
    DIRTY = "dirty"
    """A record landed in it after it was rolled (or before its first roll): counted from the raw
    records until the rollup job rolls it again."""


class StatsDay(Base):
    """One UTC day of the statistics rollup."""

    __tablename__ = "stats_days"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    state: Mapped[str] = mapped_column(String(10))
    rolled_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    dirtied_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


def utc_day(when: datetime) -> date:
    return when.astimezone(UTC).date()


def history_written(
    session: Session, times: Iterable[datetime | date], *, now: datetime | None = None
) -> int:
    """Mark dirty the UTC days of ``times`` (the times of records just written with past dates), in
    the caller's transaction; returns how many days were marked. Safe to call for any time, and never
    fails the caller's write because of a concurrent rollup: each day is upserted (a day not rolled
    yet gets a dirty row), and a rollup that counted a day before this write sees the mark changed and
    leaves the day dirty for its next run."""
    days = sorted({t if not isinstance(t, datetime) else utc_day(t) for t in times})
    if not days:
        return 0
    now = now or utcnow()
    rows = [{"day": day, "state": DayState.DIRTY.value, "dirtied_at": now} for day in days]
    upsert = upsert_insert(session, StatsDay)
    session.execute(
        upsert.on_conflict_do_update(
            index_elements=[StatsDay.__table__.c.day],
            set_={"state": upsert.excluded.state, "dirtied_at": upsert.excluded.dirtied_at},
        ),
        rows,
    )
    return len(days)
