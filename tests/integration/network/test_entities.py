"""Identifiers stored once per value and linked to every item and account that carries them."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from suraksha.content.entities import AccountEntity, Entity, ItemEntity
from suraksha.content.models import Account, Item
from suraksha.content.services import record_entities
from suraksha.db import Database


@dataclass(frozen=True)
class Found:
    kind: str
    value: str
    field: str = "text"
    start: int = 0
    end: int = 1


def _item(db: Database, number: int, account: str = "acct") -> int:
    with db.session() as session:
        owner = session.scalar(select(Account).where(Account.platform_account_id == account))
        if owner is None:
            owner = Account(platform_account_id=account)
            session.add(owner)
            session.flush()
        item = Item(
            platform_item_id=f"post-{number}", payload_digest="0" * 64, kind="post", account_id=owner.id
        )
        session.add(item)
        session.flush()
        return item.id


def _record(db: Database, item_id: int, *found: Found) -> int:
    with db.session() as session:
        item = session.get(Item, item_id)
        assert item is not None
        return record_entities(session, item, found)


def test_a_long_identifier_is_one_entity_however_often_it_is_seen(db: Database) -> None:
    """An identifier longer than the stored column is looked up by the form it is stored in: the second
    post carrying the same long link joins the first one's entity instead of failing on the unique key."""
    long_link = "https://example.org/join?ref=" + "a" * 900
    first, second = _item(db, 1), _item(db, 2, account="other")
    assert _record(db, first, Found("link", long_link)) == 1
    assert _record(db, second, Found("link", long_link)) == 1
    with db.session() as session:
        [entity] = session.scalars(select(Entity)).all()
        assert len(entity.value) <= 500 and entity.value.startswith("https://example.org/join?ref=aaa")
        assert session.scalar(select(func.count()).select_from(ItemEntity)) == 2
        assert session.scalar(select(func.count()).select_from(AccountEntity)) == 2


def test_long_identifiers_that_share_a_beginning_stay_apart(db: Database) -> None:
    """Two long links alike in their first 500 characters are different identifiers: cutting both to
    the same prefix would link accounts that share nothing."""
    prefix = "https://example.org/pay?to=" + "b" * 600
    item = _item(db, 1)
    assert _record(db, item, Found("link", prefix + "1", start=0), Found("link", prefix + "2", start=5)) == 2
    with db.session() as session:
        values = sorted(session.scalars(select(Entity.value)))
        assert len(values) == 2 and values[0] != values[1] and all(len(v) <= 500 for v in values)


def test_a_short_identifier_is_stored_as_it_is(db: Database) -> None:
    item = _item(db, 1)
    _record(db, item, Found("upi", "racket@upi"))
    with db.session() as session:
        assert session.scalars(select(Entity.value)).all() == ["racket@upi"]
