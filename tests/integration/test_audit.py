"""The audit log on real SQLite and PostgreSQL: appends chain, tampering in the database is caught,
concurrent writers never fork the chain, and the audited change commits with its audit row. Anchored:
a chain rewritten in SQL (triggers off, a reveal deleted, every later hash recomputed) still verifies
on its own, and fails against its checkpoint."""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import Connection, select, text
from sqlalchemy.exc import DBAPIError
from typer.testing import CliRunner

from suraksha import audit
from suraksha.access.services import create_api_key, revoke_api_key
from suraksha.admin.models import KillSwitch
from suraksha.admin.services import set_switch
from suraksha.app import AUDIT_CHECKPOINT_JOB, Platform
from suraksha.audit import (
    GENESIS,
    AuditAction,
    AuditEvent,
    CheckpointFile,
    event_hash,
    head,
    record,
    tail,
    verify,
    write_checkpoint,
)
from suraksha.cli.audit import app as audit_app
from suraksha.db import Database
from suraksha.errors import InvalidInput
from suraksha.settings import Settings
from suraksha.worker.policy import WorkerConfig
from suraksha.worker.runner import run_worker

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
            "checkpoint_id": None,
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


# -- checkpoints: the chain anchored outside the database --------------------------------------------

KEY = audit.new_signing_key_text()


def checkpoints(tmp_path: Path, key: str | None = KEY) -> CheckpointFile:
    return CheckpointFile(tmp_path / "checkpoints.jsonl", audit.signing_key_from_text(key) if key else None)


def reveal(db: Database) -> None:
    with db.session() as s:
        record(s, "user:reviewer-7", AuditAction.MEDIA_REVEAL, "media:42", {"case": 9})


def delete_reveal_and_recompute(db: Database) -> None:
    """What someone with write access to the database does: switch the guard off, delete the reveal,
    and write every later row again, renumbered, with hashes recomputed, so the chain holds."""
    with db.engine.begin() as conn, guard_off(db, conn, "delete"):
        rows = conn.execute(select(AuditEvent.__table__).order_by(AuditEvent.id)).mappings().all()
        [gone] = [r["id"] for r in rows if r["action"] == AuditAction.MEDIA_REVEAL]
        conn.execute(text("DELETE FROM audit_events WHERE id >= :id"), {"id": gone})
        previous = next(r["hash"] for r in rows if r["id"] == gone - 1)
        for new_id, row in enumerate((r for r in rows if r["id"] > gone), start=gone):
            fields = {k: row[k] for k in ("at", "actor", "action", "subject", "details")}
            digest = event_hash(id=new_id, prev_hash=previous, **fields)
            conn.execute(
                AuditEvent.__table__.insert().values(id=new_id, prev_hash=previous, hash=digest, **fields)
            )
            previous = digest


def test_a_rewritten_chain_verifies_alone_and_fails_against_its_checkpoint(
    db: Database, tmp_path: Path
) -> None:
    append(db, 3)
    reveal(db)
    append(db, 2)
    anchors = checkpoints(tmp_path)
    with db.reading() as s:
        made = write_checkpoint(s, anchors)
    assert made is not None and made.head_id == 6 and made.signature
    delete_reveal_and_recompute(db)
    with db.reading() as s:
        alone = verify(s)
        anchored = verify(s, checkpoints=anchors.read())
    assert alone.ok and alone.count == 5  # the unkeyed chain cannot tell
    assert not anchored.ok and anchored.checkpoint_id == 6
    assert "newest rows were deleted" in anchored.reason


def test_a_rewrite_that_keeps_the_row_count_is_caught_too(db: Database, tmp_path: Path) -> None:
    append(db, 2)
    reveal(db)
    append(db, 2)
    anchors = checkpoints(tmp_path)
    with db.reading() as s:
        write_checkpoint(s, anchors)
    delete_reveal_and_recompute(db)
    append(db, 1)  # the chain is as long as it was at the checkpoint again
    with db.reading() as s:
        assert verify(s).ok
        anchored = verify(s, checkpoints=anchors.read())
    assert not anchored.ok and anchored.broken_id == 5 and "checkpointed" in anchored.reason


def test_forged_or_altered_checkpoints_are_refused(db: Database, tmp_path: Path) -> None:
    append(db, 2)
    anchors = checkpoints(tmp_path)
    with db.reading() as s:
        made = write_checkpoint(s, anchors)
    assert made is not None
    lines = anchors.path.read_text().splitlines()
    altered = json.loads(lines[0]) | {"head_hash": "0" * 64}
    anchors.path.write_text(json.dumps(altered) + "\n")
    with pytest.raises(InvalidInput, match="does not verify"):
        anchors.read()
    forger = audit.signing_key_from_text(audit.new_signing_key_text())
    forged = audit.Checkpoint(made.head_id, "1" * 64, made.at, made.key_id)
    signature = base64.b64encode(forger.sign(forged.signed_bytes())).decode()
    anchors.path.write_text(json.dumps(json.loads(forged.line()) | {"signature": signature}) + "\n")
    with pytest.raises(InvalidInput, match="does not verify"):
        anchors.read()
    anchors.path.write_text("not a checkpoint\n")
    with pytest.raises(InvalidInput, match="line 1 is not an audit checkpoint"):
        anchors.read()


def test_a_broken_chain_is_never_checkpointed(db: Database, tmp_path: Path) -> None:
    append(db, 3)
    with db.engine.begin() as conn, guard_off(db, conn, "update"):
        conn.execute(text("UPDATE audit_events SET subject = 'x' WHERE id = 2"))
    anchors = checkpoints(tmp_path)
    with db.reading() as s, pytest.raises(InvalidInput, match="not checkpointed"):
        write_checkpoint(s, anchors)
    assert not anchors.path.exists()


def test_an_unmoved_head_is_not_checkpointed_twice_and_an_empty_log_not_at_all(
    db: Database, tmp_path: Path
) -> None:
    anchors = checkpoints(tmp_path, key=None)
    with db.reading() as s:
        assert write_checkpoint(s, anchors) is None
    append(db, 1)
    with db.reading() as s:
        first = write_checkpoint(s, anchors)
        again = write_checkpoint(s, anchors)
    assert first == again and first is not None and first.signature == ""
    assert len(anchors.path.read_text().splitlines()) == 1
    assert anchors.path.stat().st_mode & 0o777 == 0o600


def test_the_worker_checkpoints_on_its_schedule(db: Database, database_url: str, tmp_path: Path) -> None:
    """(``db``: emptied after the test, on PostgreSQL.)"""
    settings = Settings.load(
        {
            "database_url": database_url,
            "data_dir": str(tmp_path / "data"),
            "audit_signing_key": KEY,
            "audit_checkpoint_every_s": 3600.0,
        }
    )
    platform = Platform(settings)
    try:
        append(platform.db, 3)
        registry = platform.job_handlers(platform.bank_index())
        assert registry.schedules[AUDIT_CHECKPOINT_JOB] == 3600.0  # beside the other scheduled kinds
        run_worker(
            platform.db,
            registry,
            kinds=[AUDIT_CHECKPOINT_JOB],
            config=WorkerConfig(poll_interval_s=0.05),
            until_drained=True,
            install_signal_handlers=False,
        )
        [made] = platform.audit_checkpoints.read()
        assert made.head_id == 3 and made.signature
        assert platform.audit_checkpoints.path == tmp_path / "data" / "audit-checkpoints.jsonl"
        assert platform.audit_verify().ok
        delete_reveal_and_recompute_tail(platform.db)
        assert platform.audit_verify(checkpoints=False).ok
        assert not platform.audit_verify().ok
    finally:
        platform.close()


def delete_reveal_and_recompute_tail(db: Database) -> None:
    reveal(db)
    delete_reveal_and_recompute(db)
    with db.engine.begin() as conn, guard_off(db, conn, "delete"):
        conn.execute(text("DELETE FROM audit_events WHERE id = 3"))


def test_cli_checkpoint_and_verify(
    db: Database, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SURAKSHA_DATABASE_URL", database_url)
    monkeypatch.setenv("SURAKSHA_AUDIT_SIGNING_KEY", KEY)
    monkeypatch.setenv("SURAKSHA_AUDIT_CHECKPOINT_FILE", str(tmp_path / "anchor" / "cp.jsonl"))
    append(db, 2)
    reveal(db)
    append(db, 1)
    made = runner.invoke(audit_app, ["checkpoint", "--json"])
    assert made.exit_code == 0, made.output
    assert json.loads(made.stdout)["head_id"] == 4 and json.loads(made.stdout)["signature"]
    assert runner.invoke(audit_app, ["verify"]).exit_code == 0
    delete_reveal_and_recompute(db)
    assert runner.invoke(audit_app, ["verify", "--no-checkpoints"]).exit_code == 0
    broken = runner.invoke(audit_app, ["verify", "--json"])
    assert broken.exit_code == 1 and json.loads(broken.stdout)["checkpoint_id"] == 4
    refused = runner.invoke(audit_app, ["checkpoint"])
    assert refused.exit_code != 0 and "not checkpointed" in refused.output
    key = runner.invoke(audit_app, ["keygen"]).stdout.strip()
    assert len(base64.b64decode(key)) == 32
