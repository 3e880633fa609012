"""`suraksha legal` end to end on the default SQLite store: a signed-in legal person receives the
police's request for the racket's accounts, sees its 72-hour clock, verifies and answers it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from argon2.profiles import CHEAPEST
from typer.testing import CliRunner

from suraksha.access import users
from suraksha.app import Platform
from suraksha.cli.main import app
from suraksha.content.models import Account, Item
from suraksha.vault.crypto import generate_signing_key_text

runner = CliRunner()
PASSWORD = "sable-quartz-meadow-42"


@pytest.fixture
def desk(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(users, "HASHER", PasswordHasher.from_parameters(CHEAPEST))
    monkeypatch.setenv("SURAKSHA_PLATFORM_PROFILE_URL", "https://example.org/u/{handle}")
    monkeypatch.setenv("SURAKSHA_VAULT_SIGNING_KEY", generate_signing_key_text())
    platform = Platform()
    try:
        with platform.db.session() as session:
            users.create_user(session, "legal@example.org", ["legal"], PASSWORD, by="test")
            users.create_user(session, "rev@example.org", ["reviewer"], PASSWORD, by="test")
            users.create_user(session, "counsel@example.org", ["legal"], PASSWORD, by="test")
            seller = Account(platform_account_id="acct-1", handle="@seller_one")
            session.add_all([seller, Account(platform_account_id="acct-2")])
            session.flush()
            session.add(
                Item(platform_item_id="post-1", payload_digest="0" * 64, kind="post", account_id=seller.id)
            )
    finally:
        platform.close()


def legal(email: str, *args: str) -> tuple[int, str]:
    result = runner.invoke(
        app,
        ["legal", *args, "--user", email, "--password-stdin"],
        input=PASSWORD + "\n",
        catch_exceptions=False,
    )
    return result.exit_code, result.output


def test_a_police_request_from_receipt_to_answer(desk: None) -> None:
    code, output = legal(
        "legal@example.org",
        "authority",
        "add",
        "--agency",
        "Delhi Police, IFSO",
        "--jurisdiction",
        "IN-DL",
        "--rank",
        "Inspector",
        "--verified-how",
        "called back",
        "--json",
    )
    assert code == 0, output
    authority = json.loads(output)["id"]
    code, output = legal(
        "legal@example.org",
        "receive",
        "--kind",
        "data_disclosure",
        "--jurisdiction",
        "IN-DL",
        "--authority",
        str(authority),
        "--reference",
        "FIR 123/2022",
        "--basis",
        "IT Rules r.3(1)(j)",
        "--received-at",
        "2022-09-20T10:00+05:30",
        "--account",
        "@seller_one",
        "--account",
        "https://example.org/u/seller_one",
        "--account",
        "@nobody",
        "--json",
    )
    assert code == 0, output
    received = json.loads(output)
    [clock] = received["clocks"]
    assert clock["step"] == "answer" and clock["due_at"] == "2022-09-23T04:30:00+00:00"  # 72 h after receipt
    assert [bool(s["account_id"]) for s in received["scope"]] == [True, True, False]

    code, output = legal("legal@example.org", "due", "--json")
    assert code == 0 and json.loads(output)[0]["state"] == "overdue"  # 2022 is long past
    code, output = legal("legal@example.org", "due")
    assert "OVERDUE" in output and f"#{received['id']}" in output

    request = str(received["id"])
    code, output = legal("legal@example.org", "preserve", request)
    assert code == 0 and "1 holds" in output, output
    assert legal("legal@example.org", "verify", request, "--how", "portal")[0] == 0
    code, output = legal("legal@example.org", "disclose", request, "--json")
    assert code == 0, output
    disclosure = str(json.loads(output)["id"])
    code, output = legal("legal@example.org", "disclosure", "approve", disclosure)
    assert code != 0 and "second person" in output
    assert legal("counsel@example.org", "disclosure", "approve", disclosure)[0] == 0
    code, output = legal("legal@example.org", "disclosure", "sent", disclosure, "--via", "IFSO portal")
    assert code == 0 and "sent" in output, output
    assert (
        legal("legal@example.org", "move", request, "answered", "--partly-because", "@nobody: none")[0] == 0
    )
    code, output = legal("legal@example.org", "show", request, "--json")
    shown = json.loads(output)
    assert shown["state"] == "partly_answered" and shown["clocks"][0]["state"] == "met_late"
    assert [e["event"] for e in shown["events"]] == [
        "received", "preserved", "state", "disclosure_drafted", "disclosure_approved", "answered", "state",
    ]  # fmt: skip
    assert len(shown["holds"]) == 1 and shown["holds"][0]["active"]


def test_only_the_legal_role_runs_the_desk(desk: None) -> None:
    code, output = legal("rev@example.org", "list")
    assert code != 0 and "legal:view" in output
    code, output = legal("legal@example.org", "receive", "--kind", "data_disclosure", "--jurisdiction", "FR")
    assert code != 0 and "no deadlines for data_disclosure in FR" in output
    code, output = legal(
        "legal@example.org",
        "receive",
        "--kind",
        "court_order",
        "--jurisdiction",
        "IN",
        "--received-at",
        "2022-09-20",
    )
    assert code != 0 and "has no offset" in output


def test_answer_the_commissions_questions_for_a_period(desk: None, tmp_path: Path) -> None:
    args = [
        "answer",
        "--from",
        "2018-09-01",
        "--to",
        "2030-09-20",
        "--item",
        "post-1",
        "--out",
        str(tmp_path / "r"),
    ]
    result = runner.invoke(
        app,
        [*args, "--user", "legal@example.org", "--password-stdin"],
        input=PASSWORD + "\n",
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    assert "5. How many such posts" in result.output
    assert {p.name for p in (tmp_path / "r").iterdir()} == {"reply.pdf", "reply.docx", "answer.json"}
    refused = runner.invoke(
        app,
        [*args[:5], "--user", "rev@example.org", "--password-stdin"],
        input=PASSWORD + "\n",
        catch_exceptions=False,
    )
    assert refused.exit_code != 0 and "legal:view" in refused.output
    bad = runner.invoke(
        app, ["answer", "--from", "2022-13-01", "--to", "2022-01-01", "--user", "x@example.org"]
    )
    assert bad.exit_code != 0 and "not a date" in bad.output
