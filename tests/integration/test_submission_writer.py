"""The intake writer (group commit): submissions that arrive together share a transaction; a batch that
loses a race with another transaction (a PostgreSQL deadlock, SQLite's lock wait running out) is run
again and its items are answered once, not refused."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from suraksha.db.engine import Database, is_transient
from suraksha.intake import batching
from suraksha.intake.models import Item
from suraksha.intake.schemas import ItemIn
from suraksha.intake.services import prepare_item
from suraksha.intake.store import MediaStore


class _Deadlock(Exception):
    sqlstate = "40P01"


def _item(n: int) -> ItemIn:
    return ItemIn.model_validate(
        {"platform_item_id": f"w-{n}", "kind": "post", "account": {"platform_id": "a-1"}, "text": "hello"}
    )


def test_is_transient_knows_lost_races() -> None:
    assert is_transient(OperationalError("UPDATE", {}, _Deadlock()))
    assert not is_transient(OperationalError("UPDATE", {}, ValueError("no such table")))
    assert not is_transient(ValueError("plain"))


def test_a_batch_that_lost_a_race_is_written_again(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = MediaStore(tmp_path / "media")
    writer = batching.SubmissionWriter(db, store, max_media_bytes=10**6)
    real = batching.SubmissionWriter._submit
    failures = iter([True])

    def flaky(self: batching.SubmissionWriter, session: Any, prepared: Any) -> Any:
        if next(failures, False):  # the first item of the first attempt loses a deadlock
            raise OperationalError("INSERT", {}, _Deadlock())
        return real(self, session, prepared)

    monkeypatch.setattr(batching.SubmissionWriter, "_submit", flaky)
    futures = [writer.submit(prepare_item(store, _item(n), max_media_bytes=10**6)) for n in range(5)]
    done = [f.result(timeout=30) for f in futures]
    writer.close()
    assert all(d.created for d in done)
    with db.reading() as session:
        assert session.scalar(select(func.count()).select_from(Item)) == 5
