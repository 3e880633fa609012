"""``suraksha vault``: list, holds, open (signed-in legal user), export, verify-package, purge, rotate-key."""

from __future__ import annotations

import hashlib
import json
import os
import stat
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from suraksha.access.models import ConsoleUser
from suraksha.app import Platform
from suraksha.audit import AuditEvent
from suraksha.cli.vault import app as vault_app
from suraksha.db import Database
from suraksha.intake.pipeline import Pipeline
from suraksha.permissions import Role
from suraksha.vault import crypto
from suraksha.vault.models import PreservationHold
from suraksha.vault.services import EvidenceVault, preserve
from tests.integration.vault.support import PASSWORD, REPOST, legal_user, matched_item

runner = CliRunner()
KEK = crypto.KeyEncryptionKey.generate()
SIGNING = crypto.generate_signing_key_text()
VERIFY = crypto.verify_key_text(crypto.signing_key_from_text(SIGNING))


def run(*args: str, stdin: str | None = None) -> tuple[int, str]:
    result = runner.invoke(vault_app, list(args), input=stdin, catch_exceptions=False)
    return result.exit_code, result.output


@pytest.fixture
def vault(database_url: str, monkeypatch: pytest.MonkeyPatch) -> EvidenceVault:
    monkeypatch.setenv("SURAKSHA_DATABASE_URL", database_url)
    monkeypatch.setenv("SURAKSHA_VAULT_KEK", KEK.to_text())
    monkeypatch.setenv("SURAKSHA_VAULT_SIGNING_KEY", SIGNING)
    return Platform().vault


@pytest.fixture
def preserved(pipeline: Pipeline, vault: EvidenceVault, db: Database) -> int:
    _, decision_id = matched_item(pipeline)
    pid = preserve(db, vault, decision_id)
    assert pid is not None
    legal_user(db)
    legal_user(db, "lead@example.org", Role.LEAD)
    return pid


def test_list_show_and_holds(preserved: int) -> None:
    code, output = run("list", "--json")
    assert code == 0
    [row] = json.loads(output)
    assert row["id"] == preserved and row["holds"][0]["basis"] == "india_it_rules_3_1_g"
    code, output = run(
        "hold", "place", "--preservation", str(preserved), "--basis", "law_enforcement_request",
        "--reference", "FIR 1", "--json",
    )  # fmt: skip
    assert code == 0
    [hold] = json.loads(output)
    assert hold["jurisdiction"] == "IN" and hold["days_left"] in (89, 90)
    code, output = run("hold", "extend", str(hold["id"]), "--reason", "renewed", "--json")
    assert code == 0 and json.loads(output)[0]["extensions"] == 1
    code, output = run("hold", "place", "--basis", "nope", "--reference", "x", "--item", "999")
    assert code == 2 and "error" in output


def test_open_export_and_verify(preserved: int, tmp_path: Path) -> None:
    sha = hashlib.sha256(REPOST).hexdigest()
    target = tmp_path / "opened.jpg"
    args = ("open", sha, "--out", str(target), "--reason", "case 1", "--password-stdin")
    code, output = run(*args, "--user", "lead@example.org", stdin=PASSWORD + "\n")
    assert code == 2 and "legal role" in output and not target.exists()
    previous = os.umask(0o000)  # decrypted evidence is never readable by others, whatever the umask
    try:
        code, _ = run(*args, "--user", "legal@example.org", stdin=PASSWORD + "\n")
    finally:
        os.umask(previous)
    assert code == 0 and target.read_bytes() == REPOST
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    package = tmp_path / "case.zip"
    code, output = run(
        "export", "--preservation", str(preserved), "--out", str(package), "--user", "legal@example.org",
        "--reason", "police referral", "--password-stdin", "--json", stdin=PASSWORD + "\n",
    )  # fmt: skip
    assert code == 0, output
    code, output = run("verify-package", str(package), "--public-key", VERIFY, "--json")
    assert code == 0 and json.loads(output)["ok"]
    data = bytearray(package.read_bytes())
    data[len(data) // 2] ^= 0x10
    package.write_bytes(bytes(data))
    code, output = run("verify-package", str(package), "--public-key", VERIFY)
    assert code == 1 and "NOT valid" in output


def test_purge_and_rotate(preserved: int, monkeypatch: pytest.MonkeyPatch) -> None:
    code, output = run("purge", "--dry-run", "--json")
    assert code == 0 and json.loads(output)["purged"] == 0
    code, output = run("rotate-key")
    assert code == 2 and "SURAKSHA_VAULT_KEK_PREVIOUS" in output
    new = crypto.KeyEncryptionKey.generate()
    monkeypatch.setenv("SURAKSHA_VAULT_KEK", new.to_text())
    monkeypatch.setenv("SURAKSHA_VAULT_KEK_PREVIOUS", KEK.to_text())
    code, output = run("rotate-key", "--json")
    assert code == 0 and json.loads(output)["rewrapped"] == 2
    assert json.loads(output)["media"]["rewrapped"] == 1  # the reviewers' copy carries its own key
    assert KEK.to_text() not in output and new.to_text() not in output
    monkeypatch.delenv("SURAKSHA_VAULT_KEK_PREVIOUS")  # the old key destroyed: everything still opens
    sha = hashlib.sha256(REPOST).hexdigest()
    assert Platform().media_store.get(sha) == REPOST
    code, output = run("seal-media", "--json")
    assert code == 0 and json.loads(output) == {
        "files": 1,
        "sealed": 0,
        "rewrapped": 0,
        "destroyed": 0,
        "strays": 0,
    }
    monkeypatch.delenv("SURAKSHA_VAULT_KEK")
    code, output = run("seal-media")
    assert code == 2 and "SURAKSHA_VAULT_KEK" in output


def test_keygen_prints_usable_keys() -> None:
    code, output = run("keygen", "--json")
    assert code == 0
    keys = json.loads(output)
    assert crypto.KeyEncryptionKey.from_text(keys["SURAKSHA_VAULT_KEK"]).key_id == keys["kek_id"]


def test_ending_a_hold_early_takes_a_signed_in_legal_person_and_counsel_for_a_statutory_one(
    preserved: int, db: Database
) -> None:
    """`vault hold release` used to release any hold, a CyberTipline report's year included, for anyone
    with a shell; `vault purge` then destroyed the evidence."""
    code, output = run(
        "hold", "place", "--preservation", str(preserved), "--basis", "cybertipline_report",
        "--reference", "ncmec:77", "--jurisdiction", "US", "--json",
    )  # fmt: skip
    assert code == 0
    hold = str(json.loads(output)[0]["id"])
    release = ("hold", "release", hold, "--reason", "case closed", "--password-stdin", "--json")
    code, output = run("hold", "release", hold, "--reason", "case closed")
    assert code == 2 and "--user" in output  # nobody in particular releases nothing
    code, output = run(*release, "--user", "lead@example.org", stdin=PASSWORD + "\n")
    assert code == 2 and "legal role" in output
    code, output = run(*release, "--user", "legal@example.org", stdin="wrong password\n")
    assert code == 2 and "wrong email or password" in output
    code, output = run(*release, "--user", "legal@example.org", stdin=PASSWORD + "\n")
    assert code == 2 and "--override-statutory" in " ".join(output.split())
    with db.reading() as session:
        row = session.get(PreservationHold, int(hold))
        assert row is not None and row.released_at is None
    code, output = run(*release, "--override-statutory", "--user", "legal@example.org", stdin=PASSWORD + "\n")
    assert code == 0 and json.loads(output)[0]["released_at"] is not None
    with db.reading() as session:
        [event] = session.scalars(select(AuditEvent).where(AuditEvent.action == "vault:hold_release")).all()
        legal = session.scalars(select(ConsoleUser).where(ConsoleUser.email == "legal@example.org")).one()
        assert event.actor == f"user:{legal.pseudonym}"
        assert json.loads(event.details)["override_statutory"] is True


def test_items_are_named_the_way_people_name_them(
    preserved: int, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """--item takes the platform's item id, a post URL or ``#id``, never a bare row id only we know."""
    from suraksha.content.models import Item

    monkeypatch.setenv("SURAKSHA_PLATFORM_ITEM_URL", "https://social.example/p/{item_id}")
    with db.reading() as session:
        own = session.scalars(select(Item.id).where(Item.platform_item_id == "p1")).one()
    for ref in ("p1", f"#{own}", "https://social.example/p/p1"):
        code, output = run("list", "--item", ref, "--json")
        assert code == 0, output
        assert [r["id"] for r in json.loads(output)] == [preserved], ref
    code, output = run("list")
    assert f"#{own}" in output  # what the listing shows is what --item takes
    code, output = run(
        "hold",
        "place",
        "--item",
        "p1",
        "--basis",
        "law_enforcement_request",
        "--reference",
        "FIR 7",
        "--json",
    )
    assert code == 0, output
    assert [h["preservation_id"] for h in json.loads(output)] == [preserved]
    code, output = run("list", "--item", "no-such-post")
    assert code == 2 and "platform item id, post URL or #id" in " ".join(output.split())
