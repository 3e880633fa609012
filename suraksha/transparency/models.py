"""The statistics rollup: per-day counts and per-day time histograms of closed UTC days.

Written only by ``suraksha.transparency.rollup`` from the raw records (never by the write path), and
checked against them by ``verify``. Which days are closed is the ledger (``suraksha.content.history``).
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import BigInteger, Boolean, Date, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from suraksha.db.base import Base, BigId

CELL_COLUMNS = (
    "day",
    "measure",
    "category",
    "source",
    "kind",
    "automated",
    "decided_by",
    "policy",
    "country",
    "backfilled",
)


class StatsDayCount(Base):
    """How many of ``measure`` happened on ``day`` with these dimensions ('' where one does not apply)."""

    __tablename__ = "stats_day_counts"
    __table_args__ = (
        UniqueConstraint(
            "day",
            "measure",
            "category",
            "source",
            "kind",
            "automated",
            "decided_by",
            "policy",
            "country",
            "backfilled",
            name="uq_stats_day_counts_cell",
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    day: Mapped[date] = mapped_column(Date, index=True)
    measure: Mapped[str] = mapped_column(String(40))
    category: Mapped[str] = mapped_column(String(60), default="")
    source: Mapped[str] = mapped_column(String(60), default="")
    kind: Mapped[str] = mapped_column(String(20), default="")
    automated: Mapped[bool] = mapped_column(Boolean, default=False)
    decided_by: Mapped[str] = mapped_column(String(20), default="")
    policy: Mapped[str] = mapped_column(String(200), default="")
    country: Mapped[str] = mapped_column(String(40), default="")
    backfilled: Mapped[bool] = mapped_column(Boolean, default=False)
    value: Mapped[int] = mapped_column(BigInteger)


class StatsDayTime(Base):
    """How many of a time measure keyed to ``day`` fell in histogram ``bucket``
    (``suraksha.transparency.tally.time_bucket``: log-scale, about 1 % wide)."""

    __tablename__ = "stats_day_times"
    __table_args__ = (UniqueConstraint("day", "measure", "bucket", name="uq_stats_day_times_cell"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    day: Mapped[date] = mapped_column(Date, index=True)
    measure: Mapped[str] = mapped_column(String(40))
    bucket: Mapped[int] = mapped_column(Integer)
    count: Mapped[int] = mapped_column(BigInteger)
