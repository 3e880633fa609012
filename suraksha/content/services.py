"""Storing the identifiers found in an item and its account's profile, once per identifier, linked to
every item and account that carries them."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from suraksha.content.entities import AccountEntity, Entity, ItemEntity
from suraksha.content.models import Item
from suraksha.db.base import utcnow


class FoundEntity(Protocol):
    @property
    def kind(self) -> str: ...
    @property
    def value(self) -> str: ...
    @property
    def field(self) -> str: ...
    @property
    def start(self) -> int: ...
    @property
    def end(self) -> int: ...


VALUE_CHARS = 500
"""Length of ``Entity.value``."""


def stored_value(value: str) -> str:
    """The form an identifier is stored and looked up in: itself when it fits the column; else its
    beginning and the SHA-256 of the whole value. Never a bare cut: two long links alike in their first
    500 characters are different identifiers, and one cut would link accounts that share nothing."""
    if len(value) <= VALUE_CHARS:
        return value
    suffix = "...sha256:" + hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()
    return value[: VALUE_CHARS - len(suffix)] + suffix


def entity_for(session: Session, kind: str, value: str) -> Entity:
    stored = stored_value(value)
    row = session.scalar(select(Entity).where(Entity.kind == kind, Entity.value == stored))
    if row is None:
        row = Entity(kind=kind, value=stored)
        session.add(row)
        session.flush()
    return row


def record_entities(session: Session, item: Item, found: Sequence[FoundEntity]) -> int:
    """Link each identifier to the item (with where it was found) and to the item's account."""
    now = utcnow()
    linked: set[int] = set()
    for entity in found:
        row = entity_for(session, entity.kind, entity.value)
        session.add(
            ItemEntity(
                item_id=item.id, entity_id=row.id, field=entity.field, start=entity.start, end=entity.end
            )
        )
        if row.id in linked:
            continue
        linked.add(row.id)
        link = session.scalar(
            select(AccountEntity).where(
                AccountEntity.account_id == item.account_id, AccountEntity.entity_id == row.id
            )
        )
        if link is None:
            session.add(
                AccountEntity(
                    account_id=item.account_id, entity_id=row.id, first_seen_at=now, last_seen_at=now, items=1
                )
            )
        else:
            link.last_seen_at = now
            link.items += 1
    return len(linked)
