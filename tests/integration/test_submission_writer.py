"""The intake writer (group commit): submissions that arrive together share a transaction; a batch that
loses a race with another transaction (a PostgreSQL deadlock, SQLite's lock wait running out) is run
again and its items are answered once, not refused."""

from __future__ import annotations

from concurrent.futures import Future
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from suraksha.content.models import Account, Item
from suraksha.db.engine import Database, is_transient
from suraksha.intake import batching
from suraksha.intake.schemas import ItemIn
from suraksha.intake.services import PROCESS_ITEM, Prepared, Submitted, prepare_item, submit_items
from suraksha.intake.store import MediaStore
from suraksha.vault.crypto import EnvelopeCipher, KeyEncryptionKey
from suraksha.worker.models import Job
from suraksha.worker.queue import enqueue, enqueue_many


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
    store = MediaStore(tmp_path / "media", EnvelopeCipher(KeyEncryptionKey.generate()))
    writer = batching.SubmissionWriter(db, store, max_media_bytes=10**6)
    real_one, real_all = batching.SubmissionWriter._submit, batching.SubmissionWriter._together
    failures = iter([True])

    def flaky(self: batching.SubmissionWriter, session: Any, prepared: Any) -> Any:
        if next(failures, False):  # the first attempt loses a deadlock, whichever way it writes
            raise OperationalError("INSERT", {}, _Deadlock())
        return real_one(self, session, prepared)

    def flaky_all(session: Any, batch: Any) -> Any:
        if next(failures, False):
            raise OperationalError("INSERT", {}, _Deadlock())
        return real_all(session, batch)

    monkeypatch.setattr(batching.SubmissionWriter, "_submit", flaky)
    monkeypatch.setattr(batching.SubmissionWriter, "_together", staticmethod(flaky_all))
    futures = [writer.submit(prepare_item(store, _item(n), max_media_bytes=10**6)) for n in range(5)]
    done = [f.result(timeout=30) for f in futures]
    writer.close()
    assert all(d.created for d in done)
    with db.reading() as session:
        assert session.scalar(select(func.count()).select_from(Item)) == 5


def test_a_batch_that_fails_together_is_written_item_by_item(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One statement per table for the whole batch, and when that fails (not a lost race), each item
    in a savepoint of its own: only the bad item is refused."""
    store = MediaStore(tmp_path / "media", EnvelopeCipher(KeyEncryptionKey.generate()))
    writer = batching.SubmissionWriter(db, store, max_media_bytes=10**6)
    real_one = batching.SubmissionWriter._submit

    def refuse_all(session: Any, batch: Any) -> Any:
        raise ValueError("one of these is bad")

    def refuse_one(self: batching.SubmissionWriter, session: Any, prepared: Any) -> Any:
        if prepared.item.platform_item_id == "w-2":
            raise ValueError("this one is bad")
        return real_one(self, session, prepared)

    monkeypatch.setattr(batching.SubmissionWriter, "_together", staticmethod(refuse_all))
    monkeypatch.setattr(batching.SubmissionWriter, "_submit", refuse_one)
    prepared = [prepare_item(store, _item(n), max_media_bytes=10**6) for n in range(5)]
    pending = [(p, Future()) for p in prepared]  # type: ignore[var-annotated]
    writer._write(pending)
    assert [type(f.exception()).__name__ if f.exception() else "ok" for _p, f in pending] == [
        "ok",
        "ok",
        "ValueError",
        "ok",
        "ok",
    ]
    with db.reading() as session:
        assert session.scalar(select(func.count()).select_from(Item)) == 4


def _prepared(store: MediaStore, platform_id: str, account: dict[str, Any], text: str = "hello") -> Prepared:
    item = ItemIn.model_validate(
        {"platform_item_id": platform_id, "kind": "post", "account": account, "text": text}
    )
    return prepare_item(store, item, max_media_bytes=10**6)


def test_submit_items_answers_each_item_as_submit_item_would(db: Database, tmp_path: Path) -> None:
    store = MediaStore(tmp_path / "media", EnvelopeCipher(KeyEncryptionKey.generate()))
    with db.session() as session:
        earlier = submit_items(session, [_prepared(store, "old", {"platform_id": "a-1", "handle": "first"})])
    assert isinstance(earlier[0], Submitted) and earlier[0].created
    batch = [
        _prepared(store, "n-1", {"platform_id": "a-1", "handle": "second"}),
        _prepared(store, "old", {"platform_id": "a-1", "handle": "first"}),  # same payload again
        _prepared(store, "old", {"platform_id": "a-1", "handle": "first"}, text="edited"),  # different
        _prepared(store, "n-2", {"platform_id": "a-2", "created_at": "2020-01-01T00:00:00Z"}),
        _prepared(store, "n-1", {"platform_id": "a-1", "handle": "second"}),  # repeated in the batch
        _prepared(store, "n-3", {"platform_id": "a-1", "handle": "third"}),  # a-1 as last described
        _prepared(store, "n-1", {"platform_id": "a-1"}, text="other"),  # repeated, different payload
    ]
    with db.session() as session:
        outcomes = submit_items(session, batch)
    kinds = [o.created if isinstance(o, Submitted) else type(o).__name__ for o in outcomes]
    assert kinds == [True, False, "Conflict", True, False, True, "Conflict"]
    first, again, repeat = outcomes[0], outcomes[1], outcomes[4]
    assert isinstance(first, Submitted) and isinstance(again, Submitted) and isinstance(repeat, Submitted)
    assert again.item_id == earlier[0].item_id and repeat.item_id == first.item_id
    with db.reading() as session:
        assert session.scalar(select(func.count()).select_from(Item)) == 4
        jobs = session.scalars(select(Job.dedupe_key).where(Job.kind == PROCESS_ITEM)).all()
        assert sorted(jobs) == sorted(f"item:{i}" for i in session.scalars(select(Item.id)))
        accounts = {a.platform_account_id: a for a in session.scalars(select(Account))}
        assert accounts["a-1"].handle == "third"
        assert accounts["a-2"].platform_created_at is not None
    with db.session() as session:  # a later description without a creation time keeps it
        submit_items(session, [_prepared(store, "n-4", {"platform_id": "a-2", "handle": "later"})])
    with db.reading() as session:
        account = session.scalar(select(Account).where(Account.platform_account_id == "a-2"))
        assert account is not None and account.handle == "later" and account.platform_created_at is not None


def test_enqueue_many_writes_each_key_once(db: Database) -> None:
    with db.session() as session:
        existing = enqueue(session, "test.job", {"n": 0}, key="k-0")
    with db.session() as session:
        ids = enqueue_many(
            session, "test.job", [({"n": 0}, "k-0"), ({"n": 1}, "k-1"), ({"n": 2}, "k-2"), ({"n": 1}, "k-1")]
        )
    assert existing is not None
    assert ids[0] is None and ids[3] is None and ids[1] is not None and ids[2] is not None
    with db.reading() as session:
        rows = {
            r.dedupe_key: r.id
            for r in session.execute(select(Job.dedupe_key, Job.id).where(Job.kind == "test.job"))
        }
    assert rows == {"k-0": existing, "k-1": ids[1], "k-2": ids[2]}
