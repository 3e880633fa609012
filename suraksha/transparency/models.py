"""The accountability area's tables.

**Statements of reasons** (DSA Art. 17, sent to the Transparency Database under Art. 24(5)): one row
per platform action that owes one, recording what was sent and what came back.

A statement moves ``pending -> submitting -> submitted`` (the database's ``uuid``), or to ``refused``
(the API rejected it: a person must look, ``error`` says why) or ``failed`` (retries ran out). The body
is fixed when the row is written, so every attempt sends the same statement with the same ``puid``;
``submitting`` is written and committed before the call, and an attempt after a lost answer is
recognised by the API's "identifier not unique" reply, which carries the statement already stored.

**The statistics rollup**: per-day counts and per-day time histograms of closed UTC days.

Written only by ``suraksha.transparency.rollup`` from the raw records (never by the write path), and
checked against them by ``verify``. Which days are closed is the ledger (``suraksha.content.history``).
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import BigInteger, Boolean, Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from suraksha.db.base import Base, BigId, UTCDateTime, utcnow
from suraksha.transparency.tally import DIMENSIONS


class StatementState(StrEnum):
    PENDING = "pending"
    SUBMITTING = "submitting"
    """Intent recorded: the call is (or was) under way; its outcome is not known here yet."""
    SUBMITTED = "submitted"
    REFUSED = "refused"
    """The API refused the statement (422 other than a repeated puid): retrying the same body cannot help."""
    FAILED = "failed"
    """Retries ran out (server errors, timeouts, a refused token)."""


OPEN_STATES = (StatementState.PENDING, StatementState.SUBMITTING)


class StatementOfReasons(Base):
    __tablename__ = "statements_of_reasons"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    action_id: Mapped[int] = mapped_column(ForeignKey("actions.id"), unique=True)
    """One statement per action: a second recording of the same action writes nothing."""
    decision_id: Mapped[int] = mapped_column(ForeignKey("decisions.id"), index=True)
    puid: Mapped[str] = mapped_column(String(500), unique=True)
    state: Mapped[str] = mapped_column(String(20), default=StatementState.PENDING, index=True)
    body: Mapped[str] = mapped_column(Text)
    """The statement as JSON, fixed when written."""
    uuid: Mapped[str | None] = mapped_column(String(64), nullable=True)
    """The Transparency Database's id of the stored statement."""
    error: Mapped[str] = mapped_column(Text, default="")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class StatsDayCount(Base):
    """How many of ``measure`` happened on ``day`` with these dimensions ('' where one does not apply)."""

    __tablename__ = "stats_day_counts"
    __table_args__ = (UniqueConstraint("day", "measure", *DIMENSIONS, name="uq_stats_day_counts_cell"),)

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
    since: Mapped[str] = mapped_column(String(10), default="", server_default="")
    """Removal measures: the day of the item's previous removal (``suraksha.transparency.tally``)."""
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
    peak_ms: Mapped[int] = mapped_column(BigInteger, default=0)
    """The longest of those durations, in milliseconds (what a percentile in this bucket reports)."""
