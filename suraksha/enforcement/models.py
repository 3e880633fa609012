"""Decisions (what was decided about an item, by what, why, automated or not), the actions they
call for, and their delivery to the host platform.

Actions are idempotent by construction: one row per (decision, kind, target), so a decision applied
twice (a worker killed after committing, then the job retried) creates nothing new. Deliveries carry
a stable id the platform dedupes on, the same across retries.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from suraksha.db.base import Base, BigId, UTCDateTime, utcnow


class Verdict(StrEnum):
    VIOLATION = "violation"
    REVIEW = "review"
    """Needs a person: rule or classifier hits, unconfirmed matches."""
    CLEAN = "clean"
    NOT_CHECKED = "not_checked"
    """Some media could not be checked (fetch, decode or time limit): never called clean."""
    LEGAL_ORDER = "legal_order"
    """Acted on because an authority ordered it (a blocking order, a removal notice, a preservation
    request), not because of what we found: the decision names the request (``decided_by_ref``)."""


class DecidedBy(StrEnum):
    POLICY = "policy"
    REVIEWER = "reviewer"
    LEGAL = "legal"
    """The legal desk, carrying out an authority's request (``decided_by_ref``: legal_request:ID)."""


class ActionKind(StrEnum):
    REMOVE = "remove"
    RESTRICT = "restrict"
    SUSPEND = "suspend"
    WITHHOLD = "withhold"
    """Withhold in the listed countries only."""
    RESTORE = "restore"
    PRESERVE = "preserve"
    """Open a preservation hold on the evidence (acted on by the vault, not the platform)."""
    REPORT = "report"
    """Queue a clearinghouse report for human confirmation (acted on by reporting)."""


class ActionTarget(StrEnum):
    ITEM = "item"
    ACCOUNT = "account"


class ActionState(StrEnum):
    PENDING = "pending"
    """Written; delivery not yet attempted or paused by a kill switch."""
    DELIVERED = "delivered"
    """The platform's webhook receiver took it (2xx); not yet confirmed carried out."""
    DONE = "done"
    """The platform confirmed it carried the action out (an acknowledgement)."""
    FAILED = "failed"
    """The platform could not carry it out (an acknowledgement, with its reason in
    ``state_reason``), or refused the delivery for good."""
    INTERNAL = "internal"
    """Not for the platform (preserve, report): carried out inside Suraksha."""
    ALREADY_TAKEN = "already_taken"
    """The same action (kind, target, countries) is still in force from an earlier decision: recorded
    for this decision, never sent again (``state_reason`` names the one in force)."""


UNCONFIRMED_STATES = frozenset({ActionState.PENDING, ActionState.DELIVERED})
"""Sent (or to be sent) to the platform, not yet acknowledged either way."""


class Decision(Base):
    __tablename__ = "decisions"
    __table_args__ = (
        # the legal desk's decisions only (a few among millions): the regulators' templates find the
        # removals made on grievances from them, and the write path of the others pays nothing
        Index(
            "ix_decisions_legal_ref",
            "decided_by_ref",
            postgresql_where=text("decided_by = 'legal'"),
            sqlite_where=text("decided_by = 'legal'"),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), index=True)
    verdict: Mapped[str] = mapped_column(String(20))
    category: Mapped[str] = mapped_column(String(60), default="")
    automated: Mapped[bool] = mapped_column(Boolean)
    decided_by: Mapped[str] = mapped_column(String(20))
    decided_by_ref: Mapped[str] = mapped_column(String(200), default="")
    """Policy rule name and version, or the reviewer's pseudonym."""
    basis: Mapped[str] = mapped_column(Text, default="[]")
    """JSON list of what decided: bank entries with distances, rule hits with pack versions."""
    reason: Mapped[str] = mapped_column(Text, default="")
    priority: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

    actions: Mapped[list[Action]] = relationship(back_populates="decision", order_by="Action.id")


class Action(Base):
    __tablename__ = "actions"
    __table_args__ = (UniqueConstraint("decision_id", "kind", "target"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    """Also the cursor of the pull feed: ids only grow."""
    decision_id: Mapped[int] = mapped_column(ForeignKey("decisions.id"), index=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    target: Mapped[str] = mapped_column(String(20))
    countries: Mapped[str] = mapped_column(String(500), default="")
    """Space-separated ISO 3166-1 alpha-2 codes, for withhold."""
    automated: Mapped[bool] = mapped_column(Boolean)
    state: Mapped[str] = mapped_column(String(20), default=ActionState.PENDING, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    """Indexed: statistics count a period's actions by it (``suraksha.transparency.tally``)."""
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    """When the platform said it was done or had failed (``state`` done or failed)."""
    state_reason: Mapped[str] = mapped_column(Text, default="")
    """Why it is in its state: the platform's reason for a failure, or the action already in force."""

    decision: Mapped[Decision] = relationship(back_populates="actions")


class Delivery(Base):
    """One webhook delivery of one action; ``delivery_id`` is what the platform dedupes on."""

    __tablename__ = "deliveries"
    __table_args__ = (UniqueConstraint("action_id", "endpoint"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    delivery_id: Mapped[str] = mapped_column(String(64), unique=True)
    action_id: Mapped[int] = mapped_column(ForeignKey("actions.id"), index=True)
    endpoint: Mapped[str] = mapped_column(String(100))
    body: Mapped[str] = mapped_column(Text, default="")
    """The signed JSON, fixed at creation: every attempt sends the same bytes."""
    state: Mapped[str] = mapped_column(String(20), default=ActionState.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_status: Mapped[int | None] = mapped_column(Integer, nullable=True)
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class NoticeKind(StrEnum):
    ACTION = "action"
    """A statement of reasons for an action on the user's content or account."""
    APPEAL_OUTCOME = "appeal_outcome"
    """The outcome of the user's appeal (upheld, or reversed and restored)."""


class NoticeState(StrEnum):
    PENDING = "pending"
    """Written; the ``notice.send`` job has not looked at it yet."""
    WITHHELD = "withheld"
    """Not to be told to the user (``withheld_reason``): a gag, an investigation, a tip-off risk."""
    READY = "ready"
    """In the pull feed; not yet taken by the webhook receiver (or no webhook is configured)."""
    DELIVERED = "delivered"
    """The platform's webhook receiver took it (2xx)."""


class WithheldReason(StrEnum):
    CONFIDENTIALITY = "confidentiality"
    """A confidentiality order (gag) of the legal desk covers the item or the account."""
    PRESERVATION = "preservation"
    """An open preservation request: an investigation is going on."""
    TIP_OFF = "tip_off"
    """The decision's category is one where telling would tip off the offender
    (``notice_withhold_categories``); a person releases it."""


class UserNotice(Base):
    """What the platform is to tell the user about an action on their content or account (or about
    their appeal): the statement of reasons to the user, delivered by webhook and the pull feed unless
    withheld for a recorded reason (``suraksha.enforcement.user_notices``)."""

    __tablename__ = "user_notices"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    key: Mapped[str] = mapped_column(String(100), unique=True)
    """What it is about, once: ``action:ID`` or ``appeal:ID``."""
    kind: Mapped[str] = mapped_column(String(20))
    decision_id: Mapped[int] = mapped_column(ForeignKey("decisions.id"), index=True)
    action_id: Mapped[int | None] = mapped_column(ForeignKey("actions.id"), nullable=True, index=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    body: Mapped[str] = mapped_column(Text, default="")
    """The statement as JSON (fixed when the notice is first prepared); the appeal's outcome from the
    start."""
    state: Mapped[str] = mapped_column(String(20), default=NoticeState.PENDING, index=True)
    withheld_reason: Mapped[str] = mapped_column(String(30), default="")
    withheld_ref: Mapped[str] = mapped_column(String(200), default="")
    """What withholds it: ``legal_request:ID``, or the category."""
    withheld_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    released_by: Mapped[str] = mapped_column(String(200), default="")
    release_note: Mapped[str] = mapped_column(Text, default="")
    delivery_id: Mapped[str] = mapped_column(String(64), default="")
    """The id the platform dedupes on, fixed with the body: every attempt sends the same bytes."""
    signed_body: Mapped[str] = mapped_column(Text, default="")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    ready_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class UserNoticeFeed(Base):
    """The pull feed's order: one row when a notice becomes ready (a released notice joins the end),
    its id the cursor."""

    __tablename__ = "user_notice_feed"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    notice_id: Mapped[int] = mapped_column(ForeignKey("user_notices.id"), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
