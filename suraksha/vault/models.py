"""The evidence vault's rows: encrypted blobs, preservations (what was kept for one decision), the files
of a preservation, and the holds that keep them.

A blob is content-addressed: one row per plaintext SHA-256, however many preservations name it. Its
bytes live in the storage backend under ``object_name``; the row holds the wrapped data key and the id
of the KEK that wraps it. Rows are never deleted: a purged blob keeps its row (digest, size, when and
why it was purged) so the custody record stays whole.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, ForeignKey, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from suraksha.db.base import Base, BigId, UTCDateTime, utcnow


class VaultAudit(StrEnum):
    """Audit actions of the vault (``suraksha.audit``); evidence reads use ``evidence:access``."""

    PRESERVE = "vault:preserve"
    ENRICH = "vault:enrich"
    HOLD_PLACE = "vault:hold_place"
    HOLD_EXTEND = "vault:hold_extend"
    HOLD_RELEASE = "vault:hold_release"
    PURGE = "vault:purge"
    DELETE_REQUEST = "vault:delete_on_request"
    KEY_ROTATE = "vault:key_rotate"
    MEDIA_SEAL = "vault:media_seal"
    EXPORT = "export:create"
    ACCESS = "evidence:access"


class PreservationState(StrEnum):
    PENDING = "pending"
    """Asked for (row and job written with the decision); nothing copied yet."""
    PRESERVED = "preserved"
    """Everything the platform gave us is in the vault."""
    INCOMPLETE = "incomplete"
    """Preserved, but some media bytes were not available (reasons in ``missing``)."""


class FileRole(StrEnum):
    MEDIA = "media"
    SNAPSHOT = "snapshot"
    """item, account, decision, upload IP/port, device id and timestamps as JSON"""
    ENRICHMENT = "enrichment"
    """what the platform's enrichment endpoint answered (emails, IP logs, linked accounts)"""


class HoldBasis(StrEnum):
    """Legal bases with built-in periods; deployments may configure others (setting vault_hold_periods)."""

    CYBERTIPLINE_REPORT = "cybertipline_report"
    """18 USC 2258A(h) as amended by the REPORT Act (2024): 1 year from the report."""
    INDIA_IT_RULES_3_1_G = "india_it_rules_3_1_g"
    """IT (Intermediary Guidelines) Rules 2021, r. 3(1)(g): 180 days after removal."""
    LAW_ENFORCEMENT_REQUEST = "law_enforcement_request"
    """A preservation request from law enforcement: 90 days, extendable."""
    NETWORK_INVESTIGATION = "network_investigation"
    """A lead's investigation of a network of accounts, kept for the police: 180 days, extendable (as
    long as IT Rules r. 3(1)(g) keeps removed content; configurable like every period)."""


class EvidenceBlob(Base):
    __tablename__ = "vault_blobs"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    """SHA-256 of the plaintext."""
    size: Mapped[int] = mapped_column(BigInteger)
    """Plaintext bytes."""
    object_name: Mapped[str] = mapped_column(String(100), default="")
    """Name in the storage backend; empty once the object is deleted."""
    key_id: Mapped[str] = mapped_column(String(40), index=True)
    wrapped_key: Mapped[bytes] = mapped_column(LargeBinary(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    purged_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True, index=True)
    purge_reason: Mapped[str] = mapped_column(String(200), default="")


class Preservation(Base):
    """What was preserved for one decision (idempotent: one row per decision)."""

    __tablename__ = "vault_preservations"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    decision_id: Mapped[int] = mapped_column(ForeignKey("decisions.id"), unique=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    state: Mapped[str] = mapped_column(String(20), default=PreservationState.PENDING, index=True)
    missing: Mapped[str] = mapped_column(Text, default="")
    """Why some media could not be preserved, one line per file."""
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    preserved_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    enriched_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    files: Mapped[list[PreservedFile]] = relationship(order_by="PreservedFile.id")
    holds: Mapped[list[PreservationHold]] = relationship(order_by="PreservationHold.id")


class PreservedFile(Base):
    __tablename__ = "vault_preserved_files"
    __table_args__ = (UniqueConstraint("preservation_id", "name"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    preservation_id: Mapped[int] = mapped_column(ForeignKey("vault_preservations.id"), index=True)
    blob_id: Mapped[int] = mapped_column(ForeignKey("vault_blobs.id"), index=True)
    role: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(200))
    """Its name in an export package, e.g. ``media-0.jpg``, ``snapshot.json``."""
    media_id: Mapped[int | None] = mapped_column(Integer, nullable=True)

    blob: Mapped[EvidenceBlob] = relationship()


class PreservationHold(Base):
    """Keeps a preservation's blobs from being purged until ``expires_at`` (unless released)."""

    __tablename__ = "vault_holds"
    __table_args__ = (UniqueConstraint("preservation_id", "basis", "reference"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    preservation_id: Mapped[int] = mapped_column(ForeignKey("vault_preservations.id"), index=True)
    basis: Mapped[str] = mapped_column(String(60))
    jurisdiction: Mapped[str] = mapped_column(String(10), default="")
    reference: Mapped[str] = mapped_column(String(200), default="")
    """What the hold is for: a CyberTipline reportId, a request or case number, a decision id."""
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    extensions: Mapped[int] = mapped_column(Integer, default=0)
    placed_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    release_reason: Mapped[str] = mapped_column(Text, default="")
