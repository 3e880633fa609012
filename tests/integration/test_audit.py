"""The audit log on real SQLite and PostgreSQL: appends chain, tampering in the database is caught,
concurrent writers never fork the chain, and the audited change commits with its audit row."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError
from typer.testing import CliRunner

from suraksha.access.services import create_api_key, revoke_api_key
from suraksha.admin.models import KillSwitch
from suraksha.admin.services import set_switch
from suraksha.audit import GENESIS, AuditAction, AuditEvent, event_hash, head, record, tail, verify
from suraksha.cli.audit import app as audit_app
from suraksha.db import Database

runner = CliRunner()


def append(db: Database, n: int, actor: str = "system") -> None:
    for i in range(n):
        with db.session() as s:
            record(s, actor, AuditAction.CONFIG_CHANGE, f"setting:{i}", {"i": i, "note": "ünïcode"})


@contextmanager
def guard_off(db: Database, conn: Connection, operation: str) -> Iterator[None]:
    """What an attacker with DDL rights does first: switch off the append-only trigger."""
    if db.dialect == "postgresql":
        conn.execute(text("ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only"))
        try:
            yield
        finally:  # the PostgreSQL test database is shared by the tests that follow
            conn.execute(text("ALTER TABLE audit_events ENABLE TRIGGER audit_events_append_only"))
    else:
        conn.execute(text(f"DROP TRIGGER IF EXISTS audit_events_no_{operation}"))
        yield


def test_appends_chain_and_verify(db: Database) -> None:
    with db.reading() as s:
        assert verify(s).as_dict() == {
            "ok": True,
            "count": 0,
            "head_id": None,
            "head_hash": None,
            "broken_id": None,
            "reason": "",
        }
    append(db, 5)
    with db.reading() as s:
        result = verify(s)
        rows = tail(s, 3)
        newest = head(s)
        first = s.get(AuditEvent, 1)
        third = s.get(AuditEvent, 3)
    assert result.ok and result.count == 5 and result.head_id == 5
    assert newest is not None and result.head_hash == newest.hash
    assert [r.id for r in rows] == [3, 4, 5] and third is not None and rows[1].prev_hash == third.hash
    assert first is not None and first.prev_hash == GENESIS
    # the documented format, recomputed by hand
    assert first.details == '{"i":0,"note":"\\u00fcn\\u00efcode"}'
    assert first.hash == event_hash(
        id=1,
        at=first.at,
        actor="system",
        action="config:change",
        subject="setting:0",
        details=first.details,
        prev_hash=GENESIS,
    )


def test_edited_row_is_refused_then_detected(db: Database) -> None:
    append(db, 5)
    update = text("UPDATE audit_events SET details = :d WHERE id = 3").bindparams(d='{"i":99}')
    with pytest.raises(DBAPIError, match="append-only"), db.engine.begin() as conn:
        conn.execute(update)
    with db.engine.begin() as conn, guard_off(db, conn, "update"):
        conn.execute(update)
    with db.reading() as s:
        result = verify(s)
    assert not result.ok and result.broken_id == 3 and "edited" in result.reason
    assert result.head_id == 2 and result.count == 3


def test_edited_row_with_recomputed_hash_breaks_the_next_link(db: Database) -> None:
    append(db, 4)
    with db.reading() as s:
        row = s.get(AuditEvent, 2)
        assert row is not None
        forged = event_hash(
            id=2,
            at=row.at,
            actor="cli:mallory",
            action=row.action,
            subject=row.subject,
            details=row.details,
            prev_hash=row.prev_hash,
        )
    with db.engine.begin() as conn, guard_off(db, conn, "update"):
        conn.execute(
            text("UPDATE audit_events SET actor = 'cli:mallory', hash = :h WHERE id = 2"), {"h": forged}
        )
    with db.reading() as s:
        result = verify(s)
    assert not result.ok and result.broken_id == 3 and "prev_hash" in result.reason


def test_deleted_rows_are_refused_then_detected(db: Database) -> None:
    append(db, 6)
    with db.reading() as s:
        exported = verify(s).head_hash
    delete = text("DELETE FROM audit_events WHERE id = 3")
    with pytest.raises(DBAPIError, match="append-only"), db.engine.begin() as conn:
        conn.execute(delete)
    with db.engine.begin() as conn, guard_off(db, conn, "delete"):
        conn.execute(delete)
        conn.execute(text("DELETE FROM audit_events WHERE id = 6"))  # the newest row, too
    with db.reading() as s:
        result = verify(s)
    assert not result.ok and result.broken_id == 4 and "row(s) 3 missing" in result.reason
    # the newest row's deletion alone is only visible against an exported head hash
    with db.engine.begin() as conn, guard_off(db, conn, "delete"):
        conn.execute(text("DELETE FROM audit_events WHERE id >= 3"))
    with db.reading() as s:
        assert verify(s).ok
        truncated = verify(s, expect=exported)
    assert not truncated.ok and "not in the chain" in truncated.reason


def test_concurrent_writers_keep_one_chain(db: Database) -> None:
    """Four writers, 50 appends each, all at once: one chain, 1..200, no fork, no lost append."""
    writers, per_writer = 4, 50
    start = threading.Barrier(writers)
    errors: list[BaseException] = []

    def write(name: str) -> None:
        try:
            start.wait()
            append(db, per_writer, actor=f"system:{name}")
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(f"w{i}",)) for i in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with db.reading() as s:
        result = verify(s)
    assert result.ok and result.count == writers * per_writer and result.head_id == writers * per_writer


def fail_after_switch(db: Database) -> None:
    with db.session() as s:
        set_switch(s, KillSwitch.PAUSE_DELIVERY, True, by="cli:lead")
        raise RuntimeError("the unit of work fails after the change")


def test_audited_changes_commit_with_their_audit_rows(db: Database) -> None:
    with db.session() as s:
        set_switch(s, KillSwitch.READ_ONLY, True, by="cli:lead", reason="drill")
        create_api_key(s, "ops", ["read"], by="cli:lead")
    with db.session() as s:
        revoke_api_key(s, "ops", by="user:r-17")
        revoke_api_key(s, "ops", by="user:r-17")  # already revoked: no change, no row
    with pytest.raises(RuntimeError, match="fails"):
        fail_after_switch(db)
    with db.reading() as s:
        rows = tail(s, 10)
        assert verify(s).ok
    assert [(r.id, r.actor, r.action, r.subject) for r in rows] == [
        (1, "cli:lead", "switch:set", "switch:read_only"),
        (2, "cli:lead", "config:change", "apikey:ops"),
        (3, "user:r-17", "config:change", "apikey:ops"),
    ]
    assert json.loads(rows[0].details) == {"enabled": True, "was": False, "reason": "drill"}
    assert json.loads(rows[2].details)["change"] == "apikey.revoke"
    assert "sk_" not in rows[1].details  # the key's secret never reaches the log


def test_cli_verify_tail_head(db: Database, database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SURAKSHA_DATABASE_URL", database_url)
    append(db, 3)
    result = runner.invoke(audit_app, ["verify", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["count"] == 3
    head_hash = runner.invoke(audit_app, ["head"]).stdout.strip()
    assert len(head_hash) == 64
    assert runner.invoke(audit_app, ["verify", "--expect", head_hash]).exit_code == 0
    tail_rows = json.loads(runner.invoke(audit_app, ["tail", "-n", "2", "--json"]).stdout)
    assert [r["id"] for r in tail_rows] == [2, 3] and tail_rows[1]["hash"] == head_hash
    with db.engine.begin() as conn, guard_off(db, conn, "update"):
        conn.execute(text("UPDATE audit_events SET subject = 'setting:x' WHERE id = 2"))
    result = runner.invoke(audit_app, ["verify", "--json"])
    assert result.exit_code == 1
    assert json.loads(result.stdout)["broken_id"] == 2
    assert runner.invoke(audit_app, ["verify"]).exit_code == 1
