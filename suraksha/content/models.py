"""What the host platform sends us: accounts, items (posts, messages, profiles, comments) and their
media, and what the pipeline found in them (hash matches, rule hits)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from suraksha.db.base import Base, BigId, UTCDateTime, utcnow


class ItemKind(StrEnum):
    POST = "post"
    MESSAGE = "message"
    PROFILE = "profile"
    COMMENT = "comment"


class ItemState(StrEnum):
    QUEUED = "queued"
    SCANNED = "scanned"
    DECIDED = "decided"
    ACTIONED = "actioned"
    ERROR = "error"


class MediaState(StrEnum):
    PENDING = "pending"
    HASHED = "hashed"
    NOT_CHECKED = "not_checked"
    """Fetch or decode failed, or timed out: never treated as clean (the reason is in ``error``)."""


class ReporterKind(StrEnum):
    USER = "user"
    TRUSTED_FLAGGER = "trusted_flagger"


class Account(Base):
    """An account on the host platform, as last described to us."""

    __tablename__ = "accounts"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    platform_account_id: Mapped[str] = mapped_column(String(200), unique=True)
    handle: Mapped[str] = mapped_column(String(200), default="")
    display_name: Mapped[str] = mapped_column(String(500), default="")
    bio: Mapped[str] = mapped_column(Text, default="")
    platform_created_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    suspended_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class Item(Base):
    """One submission. ``payload_digest`` makes submission idempotent: the same platform item id with
    the same payload is the same item; with a different payload it is a conflict."""

    __tablename__ = "items"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    platform_item_id: Mapped[str] = mapped_column(String(200), unique=True)
    payload_digest: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(20))
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    text: Mapped[str] = mapped_column(Text, default="")
    state: Mapped[str] = mapped_column(String(20), default=ItemState.QUEUED, index=True)
    error: Mapped[str] = mapped_column(Text, default="")
    posted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    upload_ip: Mapped[str | None] = mapped_column(String(45), nullable=True)
    upload_port: Mapped[int | None] = mapped_column(Integer, nullable=True)
    device_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    reporter_kind: Mapped[str | None] = mapped_column(String(20), nullable=True)
    reporter_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    report_reason: Mapped[str] = mapped_column(Text, default="")
    backfilled: Mapped[bool] = mapped_column(Boolean, default=False)
    """Imported by the archive backfill with its original times (statistics count it and say so)."""

    account: Mapped[Account] = relationship()
    media: Mapped[list[ItemMedia]] = relationship(
        back_populates="item", order_by="ItemMedia.position", cascade="all, delete-orphan"
    )


class ItemMedia(Base):
    """One media file of an item: uploaded bytes (kept content-addressed under the data folder) or a
    URL we fetch; then its signals."""

    __tablename__ = "item_media"
    __table_args__ = (UniqueConstraint("item_id", "position"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    url: Mapped[str | None] = mapped_column(Text, nullable=True)
    declared_type: Mapped[str] = mapped_column(String(100), default="")
    state: Mapped[str] = mapped_column(String(20), default=MediaState.PENDING)
    error: Mapped[str] = mapped_column(Text, default="")
    size: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    media_format: Mapped[str | None] = mapped_column(String(20), nullable=True)
    md5: Mapped[str | None] = mapped_column(String(32), nullable=True, index=True)
    sha256: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    pdq: Mapped[str | None] = mapped_column(String(64), nullable=True)
    pdq_quality: Mapped[int | None] = mapped_column(Integer, nullable=True)
    vpdq_frames: Mapped[int | None] = mapped_column(Integer, nullable=True)

    item: Mapped[Item] = relationship(back_populates="media")


class ItemMatch(Base):
    """A bank hit on one media file, as the index answered it (suppressed hits are kept too)."""

    __tablename__ = "item_matches"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"), index=True)
    media_id: Mapped[int] = mapped_column(ForeignKey("item_media.id", ondelete="CASCADE"), index=True)
    bank_name: Mapped[str] = mapped_column(String(100))
    bank_category: Mapped[str] = mapped_column(String(40))
    entry_id: Mapped[int] = mapped_column(Integer, index=True)
    signal_type: Mapped[str] = mapped_column(String(20))
    distance: Mapped[int | None] = mapped_column(Integer, nullable=True)
    rotation: Mapped[str | None] = mapped_column(String(20), nullable=True)
    suppressed: Mapped[bool] = mapped_column(Boolean, default=False)


class ItemRuleHit(Base):
    """A text-rule hit: which pack and version, which rule, in which field, where (original text)."""

    __tablename__ = "item_rule_hits"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"), index=True)
    pack: Mapped[str] = mapped_column(String(100))
    pack_version: Mapped[str] = mapped_column(String(40))
    rule_id: Mapped[str] = mapped_column(String(100))
    category: Mapped[str] = mapped_column(String(60))
    priority: Mapped[int] = mapped_column(Integer, default=0)
    field: Mapped[str] = mapped_column(String(40))
    start: Mapped[int] = mapped_column(Integer)
    end: Mapped[int] = mapped_column(Integer)
    matched: Mapped[str] = mapped_column(Text)
