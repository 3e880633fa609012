"""Storing the identifiers found in an item and its account's profile, once per identifier, linked to
every item and account that carries them."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Protocol, cast

from sqlalchemy import Table, select, tuple_
from sqlalchemy.orm import Session

from suraksha.content.entities import AccountEntity, Entity, ItemEntity
from suraksha.content.models import Item
from suraksha.db.base import utcnow
from suraksha.db.inserts import upsert_insert

_ENTITIES = cast(Table, Entity.__table__)
_ITEM_ENTITIES = cast(Table, ItemEntity.__table__)
_ACCOUNT_ENTITIES = cast(Table, AccountEntity.__table__)


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
    """Link each identifier to the item (with where it was found) and to the item's account: one
    statement per table for all of the item's identifiers (the pipeline's write transaction), each an
    upsert, so two workers meeting a new identifier at once both link to the one row."""
    if not found:
        return 0
    now = utcnow()
    keys = sorted({(entity.kind, stored_value(entity.value)) for entity in found})  # one lock order
    connection = session.connection()
    connection.execute(
        upsert_insert(session, Entity).on_conflict_do_nothing(
            index_elements=[_ENTITIES.c.kind, _ENTITIES.c.value]
        ),
        [{"kind": kind, "value": value, "first_seen_at": now} for kind, value in keys],
    )
    ids = {
        (kind, value): int(entity_id)
        for entity_id, kind, value in connection.execute(
            select(_ENTITIES.c.id, _ENTITIES.c.kind, _ENTITIES.c.value).where(
                tuple_(_ENTITIES.c.kind, _ENTITIES.c.value).in_(keys)
            )
        )
    }
    places = {
        (ids[entity.kind, stored_value(entity.value)], entity.field, entity.start): entity.end
        for entity in found
    }
    connection.execute(
        upsert_insert(session, ItemEntity).on_conflict_do_nothing(
            index_elements=[
                _ITEM_ENTITIES.c.item_id,
                _ITEM_ENTITIES.c.entity_id,
                _ITEM_ENTITIES.c.field,
                _ITEM_ENTITIES.c.start,
            ]
        ),
        [
            {"item_id": item.id, "entity_id": entity_id, "field": field, "start": start, "end": end}
            for (entity_id, field, start), end in sorted(places.items())
        ],
    )
    linked = sorted(set(ids.values()))
    upsert = upsert_insert(session, AccountEntity)
    connection.execute(
        upsert.on_conflict_do_update(
            index_elements=[_ACCOUNT_ENTITIES.c.account_id, _ACCOUNT_ENTITIES.c.entity_id],
            set_={
                "last_seen_at": upsert.excluded.last_seen_at,
                "items": _ACCOUNT_ENTITIES.c["items"] + 1,
            },
        ),
        [
            {
                "account_id": item.account_id,
                "entity_id": entity_id,
                "first_seen_at": now,
                "last_seen_at": now,
                "items": 1,
            }
            for entity_id in linked
        ],
    )
    return len(linked)
