"""The legal desk's rows: the authorities that send requests, the requests with their scope, and the
timeline of each request (every state change with who, when and why; also in the audit log).

Times that start and stop clocks (received, acknowledged, acted, answered) are columns of the request:
the clocks themselves are computed from them and the jurisdiction files (``suraksha.legal.clocks``),
never stored, so a corrected period applies to every open request at once.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from suraksha.db.base import Base, BigId, UTCDateTime, utcnow


class LegalAudit(StrEnum):
    """Audit actions of the legal desk (``suraksha.audit``)."""

    AUTHORITY_ADD = "legal:authority_add"
    DISCLOSURE_DRAFT = "legal:disclosure_draft"
    DISCLOSURE_APPROVE = "legal:disclosure_approve"
    DISCLOSURE_SEND = "legal:disclosure_send"
    RECEIVE = "legal:receive"
    STATE = "legal:state"
    SCOPE = "legal:scope"


class RequestState(StrEnum):
    RECEIVED = "received"
    VERIFIED = "verified"
    REJECTED = "rejected"
    """Not acted on, with the reason (wrong rank, no legal basis, out of jurisdiction...)."""
    IN_PROGRESS = "in_progress"
    ANSWERED = "answered"
    PARTLY_ANSWERED = "partly_answered"
    """Answered in part, with why the rest was not (``state_reason``)."""
    CLOSED = "closed"


OPEN_STATES = frozenset(
    {RequestState.RECEIVED, RequestState.VERIFIED, RequestState.IN_PROGRESS, RequestState.PARTLY_ANSWERED}
)

TRANSITIONS: dict[RequestState, frozenset[RequestState]] = {
    RequestState.RECEIVED: frozenset({RequestState.VERIFIED, RequestState.REJECTED}),
    RequestState.VERIFIED: frozenset(
        {RequestState.IN_PROGRESS, RequestState.ANSWERED, RequestState.PARTLY_ANSWERED}
    ),
    RequestState.IN_PROGRESS: frozenset({RequestState.ANSWERED, RequestState.PARTLY_ANSWERED}),
    RequestState.PARTLY_ANSWERED: frozenset(
        {RequestState.IN_PROGRESS, RequestState.ANSWERED, RequestState.CLOSED}
    ),
    RequestState.ANSWERED: frozenset({RequestState.CLOSED}),
    RequestState.REJECTED: frozenset({RequestState.CLOSED}),
    RequestState.CLOSED: frozenset(),
}
"""Where a request may go next; ``withdraw`` (the authority takes it back) closes any open request."""


class RejectReason(StrEnum):
    WRONG_RANK = "wrong_rank"
    NO_LEGAL_BASIS = "no_legal_basis"
    OUT_OF_JURISDICTION = "out_of_jurisdiction"
    NOT_VERIFIED = "not_verified"
    """The sender could not be verified as the authority it claims to be."""
    OVERBROAD = "overbroad"
    OTHER = "other"


class Channel(StrEnum):
    EMAIL = "email"
    PORTAL = "portal"
    """A law-enforcement portal of the platform's (forwarded through the API)."""
    POST = "post"
    IN_PERSON = "in_person"
    API = "api"
    OTHER = "other"


class ScopeKind(StrEnum):
    ACCOUNT = "account"
    ITEM = "item"
    URL = "url"
    DATE_RANGE = "date_range"


class LegalAuthority(Base):
    """An authority that sends requests: an agency and, where the rules ask for one (a removal notice
    under IT Rules r.3(1)(d) names an officer of a set rank), the officer, with how they were verified."""

    __tablename__ = "legal_authorities"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    agency: Mapped[str] = mapped_column(String(200))
    unit: Mapped[str] = mapped_column(String(200), default="")
    officer: Mapped[str] = mapped_column(String(200), default="")
    rank: Mapped[str] = mapped_column(String(100), default="")
    jurisdiction: Mapped[str] = mapped_column(String(10), index=True)
    """ISO 3166 code, optionally with its subdivision (IN, IN-DL, US, US-CA), or EU."""
    contact: Mapped[str] = mapped_column(String(300), default="")
    verified_how: Mapped[str] = mapped_column(Text, default="")
    """How the desk knows the authority is who it says (a call back on a published number, a portal)."""
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class LegalRequest(Base):
    """One request from an authority (or a user's grievance), with its clocks' start and stop times."""

    __tablename__ = "legal_requests"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    kind: Mapped[str] = mapped_column(String(40), index=True)
    jurisdiction: Mapped[str] = mapped_column(String(10))
    authority_id: Mapped[int | None] = mapped_column(ForeignKey("legal_authorities.id"), nullable=True)
    reference: Mapped[str] = mapped_column(String(200), default="")
    """The sender's own number (FIR, notice or order number)."""
    external_id: Mapped[str | None] = mapped_column(String(200), unique=True, nullable=True)
    """The platform's id for it when forwarded through the API: the same id twice is the same request."""
    legal_basis: Mapped[str] = mapped_column(String(300), default="")
    channel: Mapped[str] = mapped_column(String(20))
    summary: Mapped[str] = mapped_column(Text, default="")
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    stated_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    """The deadline the request itself states, where the jurisdiction's rule lets it set the clock."""
    confidential: Mapped[bool] = mapped_column(Boolean, default=False)
    """A gag: no notice to the user while it holds (blocking orders are confidential by rule)."""
    confidential_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    state: Mapped[str] = mapped_column(String(20), default=RequestState.RECEIVED, index=True)
    state_reason: Mapped[str] = mapped_column(Text, default="")
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    acted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    authority: Mapped[LegalAuthority | None] = relationship()
    scope: Mapped[list[LegalRequestScope]] = relationship(
        back_populates="request", order_by="LegalRequestScope.id", cascade="all, delete-orphan"
    )
    events: Mapped[list[LegalRequestEvent]] = relationship(
        back_populates="request", order_by="LegalRequestEvent.id", cascade="all, delete-orphan"
    )


class LegalRequestScope(Base):
    """One thing a request names, as it named it, and what we found it to be (an account, an item)."""

    __tablename__ = "legal_request_scope"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("legal_requests.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    value: Mapped[str] = mapped_column(Text, default="")
    """As the request named it: a handle, a platform id, a URL."""
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"), nullable=True, index=True)
    item_id: Mapped[int | None] = mapped_column(ForeignKey("items.id"), nullable=True, index=True)
    not_found: Mapped[str] = mapped_column(Text, default="")
    """Why it could not be resolved (no such account...): named in the answer, never dropped."""
    from_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    to_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    request: Mapped[LegalRequest] = relationship(back_populates="scope")


class LegalRequestEvent(Base):
    """The request's timeline: received, each state change, scope resolved, notes."""

    __tablename__ = "legal_request_events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("legal_requests.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(200))
    event: Mapped[str] = mapped_column(String(40))
    from_state: Mapped[str] = mapped_column(String(20), default="")
    to_state: Mapped[str] = mapped_column(String(20), default="")
    note: Mapped[str] = mapped_column(Text, default="")

    request: Mapped[LegalRequest] = relationship(back_populates="events")


class DisclosureState(StrEnum):
    DRAFTED = "drafted"
    APPROVED = "approved"
    """A second person checked it: it may leave."""
    SENT = "sent"


class LegalDisclosure(Base):
    """A disclosure package for a request: what the authority is given (account and item facts, the
    signed evidence package of what was preserved, the jurisdiction's certificate), drafted by one
    person, approved by another before it leaves, and listed per request."""

    __tablename__ = "legal_disclosures"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("legal_requests.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20), default="disclosure")
    """``disclosure`` (data for an authority) or ``reply`` (the answer to a commission's notice)."""
    state: Mapped[str] = mapped_column(String(20), default=DisclosureState.DRAFTED)
    package_path: Mapped[str] = mapped_column(Text, default="")
    pdf_sha256: Mapped[str] = mapped_column(String(64), default="")
    evidence_manifest_sha256: Mapped[str] = mapped_column(String(64), default="")
    accounts: Mapped[int] = mapped_column(Integer, default=0)
    items: Mapped[int] = mapped_column(Integer, default=0)
    drafted_by: Mapped[str] = mapped_column(String(200))
    drafted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    approved_by: Mapped[str] = mapped_column(String(200), default="")
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    sent_via: Mapped[str] = mapped_column(String(300), default="")


class LegalClockAlert(Base):
    """One warning sent about one clock (a share of its time passed, or overdue): each is sent once."""

    __tablename__ = "legal_clock_alerts"
    __table_args__ = (UniqueConstraint("request_id", "step", "level"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("legal_requests.id", ondelete="CASCADE"), index=True)
    step: Mapped[str] = mapped_column(String(20))
    level: Mapped[str] = mapped_column(String(20))
    """``warn:0.5`` (half the time gone), ``overdue``."""
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime)
