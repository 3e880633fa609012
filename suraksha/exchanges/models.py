"""Exchanges, what each holds of its list, and its fetch runs.

An ``Exchange`` keeps one bank in sync with one list upstream (NCMEC's hash sharing, a file, the static
sample). Its ``checkpoint`` says how far the bank has the list; it is written in the same transaction
as the entries of the page it follows, so a fetch killed at any point resumes from the last page that
committed, with nothing lost and nothing twice. ``ExchangeEntry`` rows are the exchange's own record of
each upstream record (key and signal type -> the bank entry it put there), so that a removal or change
upstream finds what to disable or replace. Credentials are never stored here: they come from the
environment or the secrets file (``suraksha.exchanges.credentials``).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from suraksha.db.base import Base, BigId, UTCDateTime, utcnow


class ExchangeApi(StrEnum):
    """Which python-threatexchange client the exchange speaks through."""

    NCMEC = "ncmec"
    """NCMEC's hash sharing API (``NCMECSignalExchangeAPI``): incremental, deletions as tombstones."""
    STATIC_SAMPLE = "static_sample"
    """The example signals python-threatexchange ships (``StaticSampleSignalExchangeAPI``): a snapshot."""
    FILE = "file"
    """A local file of ``TYPE VALUE`` lines (``LocalFileSignalExchangeAPI``): a snapshot, read in pages."""
    STOPNCII = "stopncii"
    """StopNCII.org's hash API (``StopNCIISignalExchangeAPI``): incremental, withdrawn hashes removed."""
    TAT = "tat"
    """Tech Against Terrorism's hash list (``TATSignalExchangeAPI``): incremental, deletions flagged."""
    THREATEXCHANGE = "threatexchange"
    """Meta's ThreatExchange, one privacy group's ``/threat_updates`` (``FBThreatExchangeSignalExchangeAPI``):
    incremental, deletions flagged."""


class Trust(StrEnum):
    """What a match on an entry this exchange holds may lead to."""

    AUTO_ACTION = "auto_action"
    REVIEW = "review"


class RunState(StrEnum):
    RUNNING = "running"
    DONE = "done"
    """Caught up with the list."""
    PARTIAL = "partial"
    """Stopped at the time budget with pages still to fetch; the next run goes on from the checkpoint."""
    FAILED = "failed"


class Exchange(Base):
    __tablename__ = "exchanges"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    api: Mapped[str] = mapped_column(String(30))
    bank_id: Mapped[int] = mapped_column(ForeignKey("banks.id"), index=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    settings: Mapped[str] = mapped_column(Text, default="{}")
    """JSON object of the API's own settings (never credentials): ``url`` and ``environment`` for
    NCMEC, ``path`` and ``signal_type`` for a file."""
    trust: Mapped[str] = mapped_column(String(20), default=Trust.REVIEW)
    checkpoint: Mapped[str | None] = mapped_column(Text, nullable=True)
    """JSON: the client's checkpoint after the last page that committed; None before the first."""
    checkpoint_version: Mapped[int] = mapped_column(Integer, default=0)
    """Bumped with every page: a fetch writes a page only on the version it started from, so two
    fetches of one exchange at once (the worker and ``fetch-now``) never both write."""
    generation: Mapped[int] = mapped_column(Integer, default=0)
    """Snapshot lists: the pass over the list in progress. Records not seen by the end of a pass are
    removed (``ExchangeEntry.seen_generation``)."""
    next_fetch_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    """Fetches failed in a row: the next waits exchange_backoff_base_s * 2^(failures-1), capped."""
    last_error: Mapped[str] = mapped_column(Text, default="")
    last_success_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(200), default="")


class ExchangeEntry(Base):
    """One signal of one upstream record, and the bank entry it stands for (while not removed)."""

    __tablename__ = "exchange_entries"
    __table_args__ = (UniqueConstraint("exchange_id", "upstream_key", "signal_type"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    exchange_id: Mapped[int] = mapped_column(ForeignKey("exchanges.id", ondelete="CASCADE"))
    upstream_key: Mapped[str] = mapped_column(String(300))
    """The client's key for the record (NCMEC: ``member-id``; snapshot lists: ``type:value``)."""
    signal_type: Mapped[str] = mapped_column(String(20))
    value_digest: Mapped[str] = mapped_column(String(64))
    bank_entry_id: Mapped[int] = mapped_column(ForeignKey("bank_entries.id", ondelete="CASCADE"), index=True)
    detail: Mapped[str] = mapped_column(Text, default="")
    """What upstream says of it beyond the hash (NCMEC: member and classification), as JSON."""
    removed: Mapped[bool] = mapped_column(Boolean, default=False)
    seen_generation: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ExchangeFetchRun(Base):
    __tablename__ = "exchange_fetch_runs"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    exchange_id: Mapped[int] = mapped_column(ForeignKey("exchanges.id", ondelete="CASCADE"), index=True)
    state: Mapped[str] = mapped_column(String(20), default=RunState.RUNNING)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    pages: Mapped[int] = mapped_column(Integer, default=0)
    added: Mapped[int] = mapped_column(Integer, default=0)
    updated: Mapped[int] = mapped_column(Integer, default=0)
    removed: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str] = mapped_column(Text, default="")
    by: Mapped[str] = mapped_column(String(200), default="")
