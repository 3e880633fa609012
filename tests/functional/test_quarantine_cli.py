"""`suraksha bank quarantine list|release` on the default SQLite store: a quarantined entry is listed;
a reviewer cannot release it, a signed-in lead can (audited under the lead's pseudonym)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from argon2 import PasswordHasher
from argon2.profiles import CHEAPEST
from sqlalchemy import select
from typer.testing import CliRunner

from suraksha.access import users
from suraksha.app import Platform
from suraksha.audit import AuditEvent
from suraksha.banks.flood import FloodPolicy, count_and_check
from suraksha.banks.services import NewEntry
from suraksha.cli.main import app
from suraksha.signals.types import SignalKind

runner = CliRunner()
PASSWORD = "sable-quartz-meadow-42"


@pytest.fixture
def entry_id(monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setattr(users, "HASHER", PasswordHasher.from_parameters(CHEAPEST))
    platform = Platform()
    try:
        platform.bank_create("imported", actor="test", category="other")
        [added], _ = platform.bank_add_entries(
            "imported", [NewEntry(SignalKind.PDQ, "ab" * 32)], actor="test"
        )
        with platform.db.session() as session:
            users.create_user(session, "lead@example.org", ["lead"], PASSWORD, by="test")
            users.create_user(session, "rev@example.org", ["reviewer"], PASSWORD, by="test")
            held = count_and_check(
                session, [[added]] * 5, FloodPolicy(min_per_hour=5), datetime(2026, 12, 1, tzinfo=UTC)
            )
        assert held == {added}
        return added
    finally:
        platform.close()


def test_list_and_release(entry_id: int) -> None:
    listed = runner.invoke(app, ["bank", "quarantine", "list", "--json"])
    assert listed.exit_code == 0, listed.output
    [row] = json.loads(listed.output)
    assert row["entry_id"] == entry_id and row["bank"] == "imported" and row["matches"] == 5

    refused = runner.invoke(
        app,
        [
            "bank",
            "quarantine",
            "release",
            str(entry_id),
            "--note",
            "fine",
            "--user",
            "rev@example.org",
            "--password-stdin",
        ],
        input=PASSWORD + "\n",
    )
    assert refused.exit_code != 0
    released = runner.invoke(
        app,
        [
            "bank",
            "quarantine",
            "release",
            str(entry_id),
            "--note",
            "a real entry, checked",
            "--user",
            "lead@example.org",
            "--password-stdin",
        ],
        input=PASSWORD + "\n",
    )
    assert released.exit_code == 0, released.output
    assert "released" in released.output
    assert "no entry is quarantined" in runner.invoke(app, ["bank", "quarantine", "list"]).output
    again = runner.invoke(
        app,
        [
            "bank",
            "quarantine",
            "release",
            str(entry_id),
            "--note",
            "x",
            "--user",
            "lead@example.org",
            "--password-stdin",
        ],
        input=PASSWORD + "\n",
    )
    assert again.exit_code != 0 and "not quarantined" in again.output

    platform = Platform()
    try:
        with platform.db.reading() as session:
            [event] = session.scalars(
                select(AuditEvent).where(AuditEvent.action == "bank:quarantine_release")
            ).all()
            assert event.actor.startswith("user:") and event.subject == f"bank_entry:{entry_id}"
    finally:
        platform.close()
