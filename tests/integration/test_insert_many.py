"""``insert_many``: the driver's executemany with SQLAlchemy's bind processors, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from suraksha.banks import services
from suraksha.banks.models import BankChange, BankEntry
from suraksha.db import Database, utcnow
from suraksha.db.inserts import insert_many


def test_rows_read_back_as_the_orm_wrote_them(db: Database) -> None:
    now = utcnow()
    later = now + timedelta(seconds=5)
    with db.session() as s:
        bank = services.create_bank(s, "known")
        columns = ("created_at", "kind", "bank_id", "entry_id")  # not the table's order
        insert_many(
            s, BankChange, columns, [(now, "entry_added", bank.id, 7), (later, "entry_added", bank.id, None)]
        )
    with db.reading() as s:
        rows = list(s.execute(select(BankChange.created_at, BankChange.entry_id).order_by(BankChange.id)))
    assert rows == [(now, 7), (later, None)]


def test_conflicting_rows_are_skipped_and_the_rest_inserted(db: Database) -> None:
    with db.session() as s:
        bank = services.create_bank(s, "known")
        columns = services.ENTRY_INSERT_COLUMNS
        row = (bank.id, "md5", "a" * 32, "d1", None, "exchange", "x", "", utcnow(), True, "", 0, 0)
        insert_many(
            s, BankEntry, columns, [row], skip_conflicts_on=("bank_id", "signal_type", "value_digest")
        )
        again = [row, (*row[:2], "b" * 32, "d2", *row[4:])]
        insert_many(
            s, BankEntry, columns, again, skip_conflicts_on=("bank_id", "signal_type", "value_digest")
        )
    with db.reading() as s:
        found = list(s.execute(select(BankEntry.value_digest, BankEntry.enabled).order_by(BankEntry.id)))
    assert found == [("d1", True), ("d2", True)]


def test_no_rows_is_nothing(db: Database) -> None:
    with db.session() as s:
        insert_many(s, BankChange, ("bank_id",), [])
        assert s.scalar(select(BankChange.id)) is None
