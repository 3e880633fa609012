"""Identifiers found in items and bios (payment handles, phones, contact links, wallets), stored once
and linked to every item and account that carries them: the racket investigation joins on these."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from suraksha.db.base import Base, BigId, UTCDateTime, utcnow


class Entity(Base):
    __tablename__ = "entities"
    __table_args__ = (UniqueConstraint("kind", "value"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    kind: Mapped[str] = mapped_column(String(30))
    value: Mapped[str] = mapped_column(String(500))
    """Canonical form (E.164 phone, lower-case UPI id...), so the same identifier joins across accounts."""
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ItemEntity(Base):
    __tablename__ = "item_entities"
    __table_args__ = (UniqueConstraint("item_id", "entity_id", "field", "start"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"), index=True)
    entity_id: Mapped[int] = mapped_column(ForeignKey("entities.id"), index=True)
    field: Mapped[str] = mapped_column(String(40))
    start: Mapped[int] = mapped_column(Integer)
    end: Mapped[int] = mapped_column(Integer)


class AccountEntity(Base):
    __tablename__ = "account_entities"
    __table_args__ = (UniqueConstraint("account_id", "entity_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    entity_id: Mapped[int] = mapped_column(ForeignKey("entities.id"), index=True)
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    items: Mapped[int] = mapped_column(Integer, default=0)
