"""The account graph's tables.

The graph is stored as what each account carries, not as pairs of accounts: a ``NetworkKey`` is one
thing accounts can share (a file's SHA-256, a near-duplicate group of PDQ hashes, a payment handle, a
phone number, an upload address within a time window, a device id), and a ``NetworkLink`` says that
an account carries it, with which items and when. Two accounts are joined by an edge for every key
both carry; the edge's evidence is the key (kind, value, how many accounts share it) and each side's
link (first and last item, first and last seen). Storing links instead of pairs keeps a new item's
update to a few rows whatever the key's popularity, and a hub (a key carried by too many accounts to be
evidence: a carrier-grade NAT address, a meme) costs one row per account instead of a clique of pairs.

Clusters are the output of the last clustering run (``suraksha.network.clusters``): each keeps its id
across runs while most of its accounts stay together, so an investigation can hold on to it.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from suraksha.db.base import Base, BigId, UTCDateTime, utcnow


class KeyKind(StrEnum):
    """What accounts share. Identifier kinds are the entity kinds (``suraksha.rules.models.EntityKind``)
    stored as they are; these are the others."""

    MEDIA = "media"
    """The same file: its SHA-256 (MD5 where no SHA-256 is known)."""
    NEAR_MEDIA = "near_media"
    """A near-duplicate group: the PDQ hash of the group's first file; later files within the PDQ
    threshold of it join the group."""
    IP = "ip"
    """An upload address within one time window: ``address@window`` (``network_window_s``)."""
    DEVICE = "device"
    """A device id within one time window: ``id@window``."""


class NetworkKey(Base):
    """One thing accounts can share, and how many accounts carry it (what makes it a hub)."""

    __tablename__ = "network_keys"
    __table_args__ = (UniqueConstraint("kind", "value"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    kind: Mapped[str] = mapped_column(String(30))
    value: Mapped[str] = mapped_column(String(500))
    accounts: Mapped[int] = mapped_column(Integer, default=0)
    """Accounts that carry the key (one per ``NetworkLink``)."""
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class NetworkLink(Base):
    """An account carries a key: through which items (the first and the last), how many, and when."""

    __tablename__ = "network_links"
    __table_args__ = (UniqueConstraint("key_id", "account_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    key_id: Mapped[int] = mapped_column(ForeignKey("network_keys.id", ondelete="CASCADE"))
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    first_item_id: Mapped[int] = mapped_column(BigId)
    last_item_id: Mapped[int] = mapped_column(BigId)
    items: Mapped[int] = mapped_column(Integer, default=1)
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)


class NetworkCluster(Base):
    """A group of accounts that the last clustering run found together, scored and explained."""

    __tablename__ = "network_clusters"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    """Stable across runs while most of the cluster's accounts stay together (``clusters.carry_ids``)."""
    accounts: Mapped[int] = mapped_column(Integer)
    score: Mapped[float] = mapped_column(Float, default=0.0, index=True)
    suspected: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    """A suspected racket: score at or above ``network_racket_score``."""
    explanation: Mapped[str] = mapped_column(Text, default="{}")
    """JSON: each factor of the score with its figures (``scoring.Explanation``)."""
    first_found_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("network_runs.id"), nullable=True)
    dissolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True, index=True)
    """Set when a run no longer finds it (its accounts moved apart or into another cluster)."""


class NetworkClusterMember(Base):
    """An account's cluster in the last run: at most one each."""

    __tablename__ = "network_cluster_members"

    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True)
    cluster_id: Mapped[int] = mapped_column(ForeignKey("network_clusters.id", ondelete="CASCADE"), index=True)


class AlertKind(StrEnum):
    BAN_EVASION = "ban_evasion"
    """An account outside a suspected racket took up one of its payment handles or its media."""


class NetworkAlert(Base):
    """An account joining a known racket, and the review case it opened (once per racket and account)."""

    __tablename__ = "network_alerts"
    __table_args__ = (UniqueConstraint("kind", "cluster_id", "account_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    kind: Mapped[str] = mapped_column(String(30))
    cluster_id: Mapped[int] = mapped_column(ForeignKey("network_clusters.id", ondelete="CASCADE"), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"))
    key_id: Mapped[int] = mapped_column(ForeignKey("network_keys.id", ondelete="CASCADE"))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("review_cases.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class NetworkRun(Base):
    """One rebuild or clustering run: what it saw, how long it took."""

    __tablename__ = "network_runs"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    """``rebuild`` or ``cluster``."""
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    accounts: Mapped[int] = mapped_column(Integer, default=0)
    edges: Mapped[int] = mapped_column(Integer, default=0)
    clusters: Mapped[int] = mapped_column(Integer, default=0)
    suspected: Mapped[int] = mapped_column(Integer, default=0)
    seconds: Mapped[float] = mapped_column(Float, default=0.0)


# -- investigations ----------------------------------------------------------------------------------


class InvestigationState(StrEnum):
    OPEN = "open"
    HANDED_TO_POLICE = "handed_to_police"
    """The police referral was made; the investigation stays readable and may still be added to."""
    CLOSED = "closed"


class Investigation(Base):
    """A lead's investigation of a network: the accounts they hold together, with notes, a timeline,
    state and what was done from it (holds, actions, reports, one police referral)."""

    __tablename__ = "network_investigations"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    state: Mapped[str] = mapped_column(String(20), default=InvestigationState.OPEN, index=True)
    source: Mapped[str] = mapped_column(String(60))
    """Where it was opened from: ``cluster:ID`` or ``account:ID``."""
    cluster_id: Mapped[int | None] = mapped_column(
        ForeignKey("network_clusters.id", ondelete="SET NULL"), nullable=True, index=True
    )
    opened_by: Mapped[str] = mapped_column(String(200))
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    referral_id: Mapped[int | None] = mapped_column(ForeignKey("police_referrals.id"), nullable=True)
    """The one police referral for the whole network."""


class InvestigationAccount(Base):
    """An account in an investigation: who added it and why; removed ones stay, with who and why."""

    __tablename__ = "network_investigation_accounts"
    __table_args__ = (UniqueConstraint("investigation_id", "account_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    investigation_id: Mapped[int] = mapped_column(
        ForeignKey("network_investigations.id", ondelete="CASCADE"), index=True
    )
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    added_by: Mapped[str] = mapped_column(String(200))
    added_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    reason: Mapped[str] = mapped_column(Text, default="")
    removed_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    removed_reason: Mapped[str] = mapped_column(Text, default="")


class InvestigationEvent(Base):
    """One line of an investigation's timeline: a note, an account added or removed, a hold placed, an
    action proposed or approved, a report prepared, the referral, an export, a change of state."""

    __tablename__ = "network_investigation_events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    investigation_id: Mapped[int] = mapped_column(
        ForeignKey("network_investigations.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(30))
    text: Mapped[str] = mapped_column(Text, default="")
    details: Mapped[str] = mapped_column(Text, default="{}")
    """JSON: the ids involved."""


class InvestigationActionState(StrEnum):
    PENDING = "pending"
    """Proposed; waits for a second person."""
    APPROVED = "approved"
    """Approved by a second person and carried out."""
    REJECTED = "rejected"


class InvestigationAction(Base):
    """An action on every account of an investigation (suspend them, or remove their items), proposed by
    one lead and carried out only when a second person approves it (four eyes). The accounts are the
    ones in the investigation when it was proposed: the approver approves what was proposed."""

    __tablename__ = "network_investigation_actions"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    investigation_id: Mapped[int] = mapped_column(
        ForeignKey("network_investigations.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(Text)
    account_ids: Mapped[str] = mapped_column(Text)
    """Space-separated account ids, as proposed."""
    state: Mapped[str] = mapped_column(String(20), default=InvestigationActionState.PENDING, index=True)
    proposed_by: Mapped[str] = mapped_column(String(200))
    proposer_id: Mapped[int] = mapped_column(ForeignKey("console_users.id"))
    proposed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    approver_ref: Mapped[str] = mapped_column(String(200), default="")
    approver_id: Mapped[int | None] = mapped_column(ForeignKey("console_users.id"), nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    note: Mapped[str] = mapped_column(Text, default="")
    actions: Mapped[int] = mapped_column(Integer, default=0)
    """Platform actions written when it was carried out."""
