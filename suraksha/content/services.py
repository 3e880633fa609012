"""Storing the identifiers found in an item and its account's profile, once per identifier, linked to
every item and account that carries them."""

from __future__ import annotations

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


def entity_for(session: Session, kind: str, value: str) -> Entity:
    row = session.scalar(select(Entity).where(Entity.kind == kind, Entity.value == value))
    if row is None:
        row = Entity(kind=kind, value=value[:500])
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
