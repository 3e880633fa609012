"""Review: cases waiting for a person, the human views of their media, reviewers' decisions with their
four-eyes approvals, and reviewers' display preferences.

One open case per item: ``ReviewCase.open_item_id`` holds the item id while the case is not decided
and NULL once it is, under a unique constraint (several NULLs are allowed on SQLite and PostgreSQL
alike), so a second case for an item with an open one cannot be written even by two racing writers.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from suraksha.db.base import Base, BigId, UTCDateTime, utcnow


class CaseState(StrEnum):
    OPEN = "open"
    CLAIMED = "claimed"
    AWAITING_APPROVAL = "awaiting_approval"
    """Decided by one reviewer; the consequential part waits for a second (four eyes)."""
    DECIDED = "decided"
    ESCALATED = "escalated"
    """Sent to a lead: only someone holding ``decision:approve`` may claim it."""


OPEN_STATES = (CaseState.OPEN, CaseState.CLAIMED, CaseState.ESCALATED, CaseState.AWAITING_APPROVAL)


class CaseSource(StrEnum):
    """Why the item is in a queue."""

    AUTOMATED_MATCH = "automated_match"
    RULE = "rule"
    CLASSIFIER = "classifier"
    USER_REPORT = "user_report"
    TRUSTED_FLAGGER = "trusted_flagger"
    NOT_CHECKED = "not_checked"
    ACTION_FAILED = "action_failed"
    """The platform said it could not carry out an action (suraksha.enforcement.acknowledgements)."""
    BAN_EVASION = "ban_evasion"
    """An account took up a suspected racket's payment handle or media (suraksha.network.alerts)."""
    APPEAL = "appeal"
    """The user appealed a decision (suraksha.appeals): a person who did not make it decides again."""


class ViolationCategory(StrEnum):
    """What a reviewer found."""

    CSAM = "csam"
    INTIMATE_IMAGERY = "intimate_imagery"
    """Intimate imagery shared without consent."""
    SEXUAL_VIOLENCE = "sexual_violence"
    SALE_OR_SOLICITATION = "sale_or_solicitation"
    BENIGN = "benign"
    """No violation: a false positive."""


class IndustryClassification(StrEnum):
    """The industry classification scheme (A: prepubescent, B: pubescent; 1: sex act, 2: lascivious
    exhibition), given only by a reviewer who saw the file."""

    A1 = "A1"
    A2 = "A2"
    B1 = "B1"
    B2 = "B2"


class ApprovalState(StrEnum):
    NOT_NEEDED = "not_needed"
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class ReviewCase(Base):
    __tablename__ = "review_cases"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), index=True)
    open_item_id: Mapped[int | None] = mapped_column(BigId, unique=True, nullable=True)
    """``item_id`` while the case is not decided, else NULL: one open case per item (module docstring)."""
    decision_id: Mapped[int | None] = mapped_column(ForeignKey("decisions.id"), nullable=True, index=True)
    """The (automated) decision that opened the case."""
    category: Mapped[str] = mapped_column(String(60), default="", index=True)
    """Bank or rule category (``csam`` when from a CSAM bank): decides who may reveal its media."""
    source: Mapped[str] = mapped_column(String(30), index=True)
    priority: Mapped[int] = mapped_column(Integer, default=0, index=True)
    detected_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    """When the item reached us: the SLA clock runs from here."""
    state: Mapped[str] = mapped_column(String(20), default=CaseState.OPEN, index=True)
    claimed_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("console_users.id"), nullable=True, index=True
    )
    claim_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    escalation_note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class HumanView(Base):
    """One reveal of one media file by one person: the only ground on which a report may say the file
    was viewed by the provider (``fileViewedByEsp``)."""

    __tablename__ = "human_views"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("console_users.id"), index=True)
    media_id: Mapped[int] = mapped_column(ForeignKey("item_media.id"), index=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), index=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("review_cases.id"), nullable=True, index=True)
    category: Mapped[str] = mapped_column(String(60), default="")
    """The case's category at the time: what the exposure budget counts against."""
    exif_viewed: Mapped[bool] = mapped_column(Boolean, default=False)
    viewed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    seconds: Mapped[int | None] = mapped_column(Integer, nullable=True)
    """How long the media stayed revealed, recorded when it is hidden again (``end_reveal``)."""


class ReviewDecision(Base):
    """What a reviewer decided about a case. ``decision_id`` is the enforcement decision that carries
    its actions (written when the decision is recorded; consequential actions are added to it only once
    a second person approves)."""

    __tablename__ = "review_decisions"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("review_cases.id"), index=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), index=True)
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("console_users.id"), index=True)
    reviewer_ref: Mapped[str] = mapped_column(String(16))
    """The reviewer's pseudonym (what exports and reports name)."""
    violation: Mapped[str] = mapped_column(String(30))
    industry_classification: Mapped[str | None] = mapped_column(String(2), nullable=True)
    """A1/A2/B1/B2, for CSAM only."""
    actions: Mapped[str] = mapped_column(String(200), default="")
    """Space-separated ActionKind values the reviewer chose."""
    countries: Mapped[str] = mapped_column(String(500), default="")
    """Space-separated ISO 3166-1 alpha-2 codes, for withhold."""
    report_to_clearinghouse: Mapped[bool] = mapped_column(Boolean, default=False)
    child_at_immediate_risk: Mapped[bool] = mapped_column(Boolean, default=False)
    allow_list: Mapped[bool] = mapped_column(Boolean, default=False)
    """False positive: the file hashes were added to the allow-list bank, the matched entries disabled."""
    note: Mapped[str] = mapped_column(Text, default="")
    approval_state: Mapped[str] = mapped_column(String(20), default=ApprovalState.NOT_NEEDED, index=True)
    approver_id: Mapped[int | None] = mapped_column(ForeignKey("console_users.id"), nullable=True)
    approver_ref: Mapped[str] = mapped_column(String(16), default="")
    approval_note: Mapped[str] = mapped_column(Text, default="")
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    decision_id: Mapped[int | None] = mapped_column(ForeignKey("decisions.id"), nullable=True, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class ReviewerPreference(Base):
    """A reviewer's own display choices; NULL means the organisation default (settings)."""

    __tablename__ = "reviewer_preferences"

    user_id: Mapped[int] = mapped_column(ForeignKey("console_users.id", ondelete="CASCADE"), primary_key=True)
    blur: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    greyscale: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
