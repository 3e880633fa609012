"""`suraksha network investigate` end to end on the default SQLite store: a lead opens an investigation
from the planted racket's cluster, writes a note, preserves it, proposes suspending every account (the
same lead cannot approve it, a second lead does), exports it signed (and `verify-export` fails once a
byte changes) and makes the one referral."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from argon2.profiles import CHEAPEST

from suraksha.access import users
from suraksha.app import Platform
from suraksha.vault import crypto
from tests.functional.test_network_cli import PASSWORD, graph, network

__all__ = ["graph"]


def test_a_lead_runs_an_investigation_from_the_command_line(
    graph: None,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    key = crypto.generate_signing_key_text()
    monkeypatch.setenv("SURAKSHA_VAULT_SIGNING_KEY", key)
    monkeypatch.setattr(users, "HASHER", PasswordHasher.from_parameters(CHEAPEST))
    platform = Platform()
    with platform.db.session() as session:
        users.create_user(session, "second@example.org", ["lead"], PASSWORD, by="test")
    platform.close()
    code, output = network("clusters", "--run", "--json")
    assert code == 0, output
    cluster = json.loads(output)[0]["id"]
    code, output = network(
        "investigate",
        "open",
        "--title",
        "Two tills",
        "--cluster",
        str(cluster),
        "--json",
        user="rev@example.org",
    )
    assert code == 2 and "network:investigate" in output
    code, output = network(
        "investigate",
        "open",
        "--title",
        "Two tills",
        "--cluster",
        str(cluster),
        "--json",
        user="lead@example.org",
    )
    assert code == 0, output
    opened = json.loads(output)
    ident = str(opened["id"])
    assert opened["accounts"] >= 10
    assert network("investigate", "note", ident, "Same channel in every bio", user="lead@example.org")[0] == 0
    code, output = network("investigate", "preserve", ident, "--json", user="lead@example.org")
    assert code == 0 and json.loads(output)["holds"] >= 10, output
    code, output = network(
        "investigate", "act", ident, "suspend", "--reason", "sellers", "--json", user="lead@example.org"
    )
    assert code == 0, output
    action = str(json.loads(output)["id"])
    code, output = network("investigate", "approve", action, user="lead@example.org")
    assert code == 2 and "four eyes" in output
    code, output = network("investigate", "approve", action, "--json", user="second@example.org")
    assert code == 0 and json.loads(output)["state"] == "approved", output
    code, output = network("investigate", "show", ident, "--json", user="lead@example.org")
    shown = json.loads(output)
    assert [t["kind"] for t in shown["timeline"] if t["kind"] != "item"] == [
        "opened",
        "note",
        "preserved",
        "action_proposed",
        "action_approved",
    ]
    package = tmp_path / "network.zip"
    code, output = network(
        "investigate", "export", ident, "-o", str(package), "--reason", "analysts", user="lead@example.org"
    )
    assert code == 0, output
    public = crypto.verify_key_text(crypto.signing_key_from_text(key))
    assert network("verify-export", str(package), "--public-key", public)[0] == 0
    data = bytearray(package.read_bytes())
    data[data.index(b"shop.one@okaxis")] = ord("S")
    tampered = tmp_path / "tampered.zip"
    tampered.write_bytes(bytes(data))
    code, output = network("verify-export", str(tampered), "--public-key", public)
    assert code == 1 and "NOT valid" in output
    code, output = network(
        "investigate",
        "refer",
        ident,
        "--jurisdiction",
        "IN",
        "--agency",
        "Cyber Cell",
        "--json",
        user="lead@example.org",
    )
    assert code == 0, output
    code, output = network(
        "investigate",
        "refer",
        ident,
        "--jurisdiction",
        "IN",
        "--agency",
        "Cyber Cell",
        user="lead@example.org",
    )
    assert code == 2 and "one referral" in output
