"""Bank and BankEntry tables."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from suraksha.db.base import Base, UTCDateTime, utcnow


class BankCategory(StrEnum):
    CSAM = "csam"
    NCII = "ncii"
    SEXUAL_VIOLENCE = "sexual_violence"
    TERRORISM = "terrorism"
    OTHER = "other"


class BankKind(StrEnum):
    BLOCK = "block"
    """Matches are findings."""
    ALLOW = "allow"
    """Matches suppress findings: benign images that third-party lists mis-hash."""


class EntrySource(StrEnum):
    MANUAL = "manual"
    FILE = "file"
    EXCHANGE = "exchange"


class Bank(Base):
    __tablename__ = "banks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    category: Mapped[str] = mapped_column(String(40), default=BankCategory.OTHER)
    kind: Mapped[str] = mapped_column(String(10), default=BankKind.BLOCK)
    pdq_threshold: Mapped[int] = mapped_column(Integer, default=31)
    vpdq_query_percent: Mapped[float] = mapped_column(Float, default=80.0)
    vpdq_target_percent: Mapped[float] = mapped_column(Float, default=0.0)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    enabled_ratio: Mapped[float] = mapped_column(Float, default=1.0, server_default="1.0")
    """HMA's ``matching_enabled_ratio``, stored and returned as set; a bank with a ratio above 0 is
    enabled and matches every lookup (no coin flip, docs/api.md)."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    entries: Mapped[list[BankEntry]] = relationship(
        back_populates="bank", cascade="all, delete-orphan", passive_deletes=True
    )


class BankEntry(Base):
    """One known signal in a bank.

    ``value_digest`` (SHA-256 of ``signal_type:value``) carries the uniqueness constraint because a
    vPDQ value (a frame list) is too long for a B-tree index on PostgreSQL.
    """

    __tablename__ = "bank_entries"
    __table_args__ = (
        UniqueConstraint("bank_id", "signal_type", "value_digest"),
        # Only the entries disabled for a time (a few among millions): every index follower asks, every
        # second, which of them came back; without it each refresh read the whole table (1.2-1.5 s at
        # 10M entries, so a follower fell behind the feed).
        Index(
            "ix_bank_entries_disabled_until",
            "disabled_until",
            postgresql_where=text("disabled_until IS NOT NULL"),
            sqlite_where=text("disabled_until IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    bank_id: Mapped[int] = mapped_column(ForeignKey("banks.id", ondelete="CASCADE"), index=True)
    signal_type: Mapped[str] = mapped_column(String(20), index=True)
    value: Mapped[str] = mapped_column(Text)
    value_digest: Mapped[str] = mapped_column(String(64))
    quality: Mapped[int | None] = mapped_column(Integer, nullable=True)
    source: Mapped[str] = mapped_column(String(20), default=EntrySource.MANUAL)
    source_ref: Mapped[str] = mapped_column(String(500), default="")
    note: Mapped[str] = mapped_column(Text, default="")
    added_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    disabled_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    """When set on a disabled entry, the entry comes back by itself at that time."""
    disabled_reason: Mapped[str] = mapped_column(Text, default="")
    content_id: Mapped[str | None] = mapped_column(String(255), nullable=True)
    """HMA content metadata, as given when the content was added: the caller's id, URI and JSON."""
    content_uri: Mapped[str | None] = mapped_column(String(2048), nullable=True)
    content_json: Mapped[str | None] = mapped_column(Text, nullable=True)
    confirm_count: Mapped[int] = mapped_column(Integer, default=0)
    deconfirm_count: Mapped[int] = mapped_column(Integer, default=0)

    bank: Mapped[Bank] = relationship(back_populates="entries")

    def is_active(self, now: datetime) -> bool:
        if self.enabled:
            return True
        return self.disabled_until is not None and self.disabled_until <= now


class BankChangeKind(StrEnum):
    ENTRY_ADDED = "entry_added"
    ENTRY_ENABLED = "entry_enabled"
    ENTRY_DISABLED = "entry_disabled"
    BANK_CHANGED = "bank_changed"
    """Bank-wide: enabled, disabled, or its threshold changed. Followers reload the bank's entries."""


class BankChange(Base):
    """The change feed match indexes follow: one row per change, written in the same transaction as the
    change (outbox), so an index in any process, on any machine, can catch up from the database alone.

    Writers take a lock on this table before inserting (PostgreSQL), so ids are issued in commit order
    and a follower that has seen id N has seen every change up to N.
    """

    __tablename__ = "bank_changes"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    bank_id: Mapped[int] = mapped_column(Integer, index=True)
    entry_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    kind: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class EntryMatchCount(Base):
    """How many items matched one bank entry in one time bucket (``suraksha.banks.flood`` counts them to
    find an entry that suddenly matches far more than entries usually do)."""

    __tablename__ = "bank_entry_match_counts"

    entry_id: Mapped[int] = mapped_column(
        ForeignKey("bank_entries.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    bucket: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False, index=True)
    """Start of the bucket, seconds since the epoch (UTC)."""
    matches: Mapped[int] = mapped_column(Integer, default=0)


class EntryQuarantine(Base):
    """A flood quarantine of one bank entry: while ``active``, its matches go to review, never to an
    automated action. A lead releases it (``suraksha bank quarantine release``)."""

    __tablename__ = "bank_entry_quarantines"
    __table_args__ = (UniqueConstraint("entry_id", "active"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("bank_entries.id", ondelete="CASCADE"), index=True)
    active: Mapped[bool | None] = mapped_column(Boolean, nullable=True, default=True)
    """True while it holds, NULL once released (so an entry has at most one active quarantine: NULLs
    never collide in the unique constraint)."""
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    matches: Mapped[int] = mapped_column(Integer, default=0)
    """Matches in the window when it started."""
    rate_per_hour: Mapped[float] = mapped_column(Float, default=0.0)
    threshold_per_hour: Mapped[float] = mapped_column(Float, default=0.0)
    typical_per_hour: Mapped[float] = mapped_column(Float, default=0.0)
    """The typical entry's rate it was compared with (the mean of the other entries that matched)."""
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    released_by: Mapped[str] = mapped_column(String(200), default="")
    release_note: Mapped[str] = mapped_column(Text, default="")
