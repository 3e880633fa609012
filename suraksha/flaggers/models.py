"""Trusted flaggers and their notices.

A ``Flagger`` is an organisation (a child-rights NGO, a hotline, a commission, a DSA Art. 22 trusted
flagger) registered by an administrator, with its own API key (role ``flagger``). A ``Notice`` is what
it sends: things it names (``NoticeTarget``: a post URL, a platform id, or an uploaded file known only
by its hashes), a category, an explanation and its own reference. Each target that resolves to an item
is put in review (the item's open case, joined when one exists) at the flagger's priority; the
target's decision is the reviewer's. ``FlaggerMessage`` rows are the webhooks owed to the flagger (the
acknowledgement and the outcome), written in the transaction that caused them and sent by a job.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Boolean, Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from suraksha.db.base import Base, BigId, UTCDateTime, utcnow


class Designation(StrEnum):
    """On what footing the organisation flags."""

    DSA_ART22 = "dsa_art22"
    """Awarded trusted-flagger status by a Digital Services Coordinator (DSA Art. 22(2))."""
    STATUTORY = "statutory"
    """A body with a statutory remit (a child-rights or women's commission, a nodal agency)."""
    HOTLINE = "hotline"
    """A hotline (an INHOPE member, the IWF)."""
    PARTNER = "partner"
    """The platform's own partner programme: no designation by an authority."""


class FlaggerState(StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"
    """Its notices are refused (DSA Art. 22(6)-(7): status may be suspended or revoked)."""


class Flagger(Base):
    __tablename__ = "flaggers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    """Short name used on the command line and in logs (letters, digits, ``-``)."""
    organisation: Mapped[str] = mapped_column(String(300))
    country: Mapped[str] = mapped_column(String(2))
    """ISO 3166-1 alpha-2 code of where the organisation is established."""
    jurisdiction: Mapped[str] = mapped_column(String(10))
    """Whose clocks its notices run on (a jurisdiction file's code: IN, or IN-DL)."""
    designation: Mapped[str] = mapped_column(String(20))
    designated_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    designating_authority: Mapped[str] = mapped_column(String(300), default="")
    contacts: Mapped[str] = mapped_column(Text, default="")
    """One contact per line (a name and an address): the people we write to about its status."""
    expertise: Mapped[str] = mapped_column(String(500), default="")
    """Space-separated categories it is recognised for (csam, intimate_imagery, ...)."""
    priority: Mapped[int] = mapped_column(Integer, default=60)
    """The review priority of what its notices name (0-100; user reports are below, bank matches above)."""
    state: Mapped[str] = mapped_column(String(20), default=FlaggerState.ACTIVE, index=True)
    state_reason: Mapped[str] = mapped_column(Text, default="")
    state_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    api_key_id: Mapped[int] = mapped_column(ForeignKey("api_keys.id"), unique=True)
    webhook_url: Mapped[str | None] = mapped_column(Text, nullable=True)
    webhook_secret: Mapped[str] = mapped_column(Text, default="")
    """The secret its webhooks are signed with, sealed under the vault's key (base64 of the envelope)."""
    webhook_allow_private_network: Mapped[bool] = mapped_column(Boolean, default=False)
    status_review_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    """Set when its accuracy fell below ``flagger_min_accuracy``: a lead reviews its status."""
    status_review_reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class FlaggerUser(Base):
    """A console user who belongs to a flagger (its staff, role ``flagger``): they sign in to the console
    to send its notices and read them, and see nothing else. One flagger per user; an administrator
    links and unlinks them (``suraksha flaggers add-user``/``remove-user``, audited)."""

    __tablename__ = "flagger_users"

    user_id: Mapped[int] = mapped_column(ForeignKey("console_users.id", ondelete="CASCADE"), primary_key=True)
    flagger_id: Mapped[int] = mapped_column(ForeignKey("flaggers.id"), index=True)
    linked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class NoticeState(StrEnum):
    RECEIVED = "received"
    """Some things it names are still being asked of the platform."""
    IN_REVIEW = "in_review"
    DECIDED = "decided"
    """Every thing it names is decided or was not found."""


class NoticeOutcome(StrEnum):
    CONFIRMED = "confirmed"
    """A reviewer found a violation in at least one thing it names."""
    NOT_CONFIRMED = "not_confirmed"
    """Every thing found was decided as no violation."""
    NOT_FOUND = "not_found"
    """Nothing it names could be found (neither here nor on the platform)."""


class Notice(Base):
    __tablename__ = "flagger_notices"
    __table_args__ = (UniqueConstraint("flagger_id", "reference"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    flagger_id: Mapped[int] = mapped_column(ForeignKey("flaggers.id"), index=True)
    reference: Mapped[str] = mapped_column(String(200))
    """The flagger's own reference: a notice is sent once per reference (retries answer the first)."""
    digest: Mapped[str] = mapped_column(String(64))
    """SHA-256 of the notice as sent: the same reference with other content is a conflict."""
    category: Mapped[str] = mapped_column(String(60), index=True)
    explanation: Mapped[str] = mapped_column(Text)
    clock_kind: Mapped[str] = mapped_column(String(40))
    """The jurisdiction file's request kind its clocks follow (grievance, grievance_intimate_imagery)."""
    jurisdiction: Mapped[str] = mapped_column(String(10))
    state: Mapped[str] = mapped_column(String(20), default=NoticeState.RECEIVED, index=True)
    outcome: Mapped[str | None] = mapped_column(String(20), nullable=True, index=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    acknowledged_at: Mapped[datetime] = mapped_column(UTCDateTime)
    """When the acknowledgement was given (the answer to the POST, in the same transaction)."""
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class TargetKind(StrEnum):
    URL = "url"
    PLATFORM_ID = "platform_id"
    UPLOAD = "upload"


class TargetState(StrEnum):
    FETCHING = "fetching"
    """Not held here: asked of the platform (the ``flaggers.fetch`` job)."""
    IN_REVIEW = "in_review"
    DECIDED = "decided"
    NOT_FOUND = "not_found"


class NoticeTarget(Base):
    """One thing a notice names, what it resolved to, and what was decided about it."""

    __tablename__ = "flagger_notice_targets"
    __table_args__ = (UniqueConstraint("notice_id", "position"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    notice_id: Mapped[int] = mapped_column(ForeignKey("flagger_notices.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(20))
    value: Mapped[str] = mapped_column(Text)
    """The URL or platform id as named; for an upload, ``sha256:<hex>`` (its bytes are never kept)."""
    state: Mapped[str] = mapped_column(String(20), index=True)
    detail: Mapped[str] = mapped_column(Text, default="")
    item_id: Mapped[int | None] = mapped_column(ForeignKey("items.id"), nullable=True, index=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("review_cases.id"), nullable=True, index=True)
    joined_existing_case: Mapped[bool] = mapped_column(Boolean, default=False)
    violation: Mapped[str | None] = mapped_column(String(30), nullable=True)
    """What the reviewer found (a review ViolationCategory; ``benign``: no violation)."""
    actions: Mapped[str] = mapped_column(String(200), default="")
    review_decision_id: Mapped[int | None] = mapped_column(
        ForeignKey("review_decisions.id"), nullable=True, index=True
    )
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class MessageState(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"
    NO_ENDPOINT = "no_endpoint"
    """The flagger registered no webhook: it reads the status route instead."""


class FlaggerMessage(Base):
    """A webhook owed to a flagger: ``notice.acknowledged`` or ``notice.decided``, one of each per
    notice, its signed body fixed when written (every attempt sends the same bytes and delivery id)."""

    __tablename__ = "flagger_messages"
    __table_args__ = (UniqueConstraint("notice_id", "event"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    flagger_id: Mapped[int] = mapped_column(ForeignKey("flaggers.id"), index=True)
    notice_id: Mapped[int] = mapped_column(ForeignKey("flagger_notices.id"), index=True)
    event: Mapped[str] = mapped_column(String(40))
    delivery_id: Mapped[str] = mapped_column(String(64), unique=True)
    body: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(20), default=MessageState.PENDING, index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_status: Mapped[int | None] = mapped_column(Integer, nullable=True)
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class FlaggerAudit(StrEnum):
    """Audit actions of this area (``area:action``; stored as strings, never renamed)."""

    REGISTER = "flagger:register"
    SUSPEND = "flagger:suspend"
    REINSTATE = "flagger:reinstate"
    STATUS_REVIEW = "flagger:status_review"
    """Its accuracy fell below the configured level: its status is to be reviewed."""
    STATUS_REVIEW_CLEARED = "flagger:status_review_cleared"
    UPDATE = "flagger:update"
    NEW_KEY = "flagger:new_key"
    """Its API key replaced (the old one revoked), or its webhook secret."""
    NOTICE = "flagger:notice"
    USER_ADD = "flagger:user_add"
    """A console user linked to the flagger (its staff)."""
    USER_REMOVE = "flagger:user_remove"
