"""An appeal of a decision, lodged by the host platform on its user's behalf, and the rules, lists and
classifiers flagged as often wrong by the appeals they lose."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from suraksha.db.base import Base, BigId, UTCDateTime, utcnow


class AppealState(StrEnum):
    OPEN = "open"
    """In the appeals queue: a person who did not make the decision looks at it again."""
    AWAITING_APPROVAL = "awaiting_approval"
    """A csam decision's reversal, waiting for a second person (four eyes)."""
    UPHELD = "upheld"
    REVERSED = "reversed"
    """The decision was wrong: what it did is restored."""


DECIDED_STATES = (AppealState.UPHELD, AppealState.REVERSED)


class Appeal(Base):
    __tablename__ = "appeals"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    external_id: Mapped[str] = mapped_column(String(200), unique=True)
    """The platform's id for the appeal: the same id again is the same appeal (idempotent)."""
    request_digest: Mapped[str] = mapped_column(String(64))
    """SHA-256 of what was lodged: the same id with different content is a conflict, not a retry."""
    decision_id: Mapped[int] = mapped_column(ForeignKey("decisions.id"), unique=True)
    """One appeal per decision."""
    action_id: Mapped[int | None] = mapped_column(ForeignKey("actions.id"), nullable=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    statement: Mapped[str] = mapped_column(Text, default="")
    """The user's own words."""
    jurisdiction: Mapped[str] = mapped_column(String(10))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    state: Mapped[str] = mapped_column(String(20), default=AppealState.OPEN, index=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("review_cases.id"), nullable=True, index=True)
    lodged_by: Mapped[str] = mapped_column(String(200))
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("console_users.id"), nullable=True)
    decided_by_ref: Mapped[str] = mapped_column(String(16), default="")
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    """When the outcome took effect (after the second approval, where one is needed)."""
    proposed_outcome: Mapped[str] = mapped_column(String(20), default="")
    note: Mapped[str] = mapped_column(Text, default="")
    """The reviewer's reasons: the user is told them."""
    approver_id: Mapped[int | None] = mapped_column(ForeignKey("console_users.id"), nullable=True)
    approver_ref: Mapped[str] = mapped_column(String(16), default="")
    approval_note: Mapped[str] = mapped_column(Text, default="")
    reversal_decision_id: Mapped[int | None] = mapped_column(ForeignKey("decisions.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ReversalFlag(Base):
    """A rule, list or classifier whose decisions are often reversed on appeal: flagged once (with an
    audit row) when it crosses ``appeal_flag_threshold`` over at least ``appeal_flag_min_count``
    appeals, cleared when it falls back."""

    __tablename__ = "reversal_flags"

    key: Mapped[str] = mapped_column(String(300), primary_key=True)
    """``bank:NAME``, ``rule:PACK/RULE``, ``classifier:NAME`` or ``policy:REF``."""
    dimension: Mapped[str] = mapped_column(String(20))
    appealed: Mapped[int] = mapped_column(Integer)
    reversed: Mapped[int] = mapped_column(Integer)
    rate: Mapped[float] = mapped_column(Float)
    flagged_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
