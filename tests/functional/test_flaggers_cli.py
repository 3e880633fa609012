"""`suraksha flaggers` end to end on the default SQLite store: an administrator registers a child-rights
NGO (its key and secret printed once), lists and shows it, suspends and reinstates it, and a lead reads
its notices and accuracy."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from suraksha.app import Platform
from suraksha.cli.main import app
from suraksha.errors import Forbidden
from suraksha.flaggers.schemas import NoticeIn

runner = CliRunner()


def cli(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["flaggers", *args], catch_exceptions=False)
    return result.exit_code, result.output


def test_register_list_show_suspend_and_read_notices() -> None:
    code, output = cli(
        "add",
        "bal-suraksha",
        "--organisation",
        "Bal Suraksha Trust (DEMO)",
        "--country",
        "IN",
        "--designation",
        "statutory",
        "--contact",
        "Helpline desk <desk@example.org>",
        "--expertise",
        "csam",
        "--priority",
        "70",
        "--json",
    )
    assert code == 0, output
    shown = json.loads(output)
    assert shown["api_key"].startswith("sk_") and shown["webhook_secret"]
    code, output = cli("add", "x", "--organisation", "X", "--country", "IE", "--designation", "dsa_art22")
    assert code == 2 and "designating authority" in output
    platform = Platform()
    try:
        prefix = shown["api_key"].split("_")[1]
        body = {
            "reference": "BST-1",
            "category": "csam",
            "explanation": "benign test",
            "targets": [{"platform_id": "nothing-here"}],
        }
        platform.notice_submit(prefix, NoticeIn.model_validate(body))
    finally:
        platform.close()
    code, output = cli("list")
    assert code == 0 and "name" in output  # the table (its width is the test terminal's)
    code, output = cli("list", "--json")
    (listed,) = json.loads(output)
    assert listed["designation"] == "statutory" and listed["accuracy"]["notices"] == 1
    code, output = cli("show", "bal-suraksha", "--json")
    assert json.loads(output)["accuracy"]["notices"] == 1
    code, output = cli("notices", "bal-suraksha", "--json")
    (listed_notice,) = json.loads(output)
    assert listed_notice["reference"] == "BST-1"
    assert listed_notice["state"] == "received"  # its post is being asked of the platform
    assert listed_notice["webhooks"] == {"notice.acknowledged": "no_endpoint"}  # no webhook_url given
    code, output = cli("due", "--json")
    assert [(d["reference"], d["step"], d["state"]) for d in json.loads(output)] == [
        ("BST-1", "answer", "running")
    ]
    code, output = cli("due", "--within", "24h")
    assert code == 0 and "no notice is waiting" in output
    code, output = cli("due", "--within", "soon")
    assert code == 2
    code, output = cli("suspend", "bal-suraksha", "--reason", "designation under review")
    assert code == 0 and "suspended" in output
    code, output = cli("suspend", "bal-suraksha", "--reason", "again")
    assert code == 2 and "already" in output
    code, output = cli("reinstate", "bal-suraksha", "--reason", "review done")
    assert code == 0
    code, output = cli("update", "bal-suraksha", "--priority", "75", "--webhook-url", "https://ngo.example/h")
    assert code == 0, output
    code, output = cli("update", "bal-suraksha", "--priority", "75", "--webhook-url", "https://ngo.example/h")
    assert code == 2 and "nothing to change" in output
    code, output = cli("new-key", "bal-suraksha", "--json")
    renewed = json.loads(output)["api_key"]
    assert renewed != shown["api_key"]
    platform = Platform()
    try:
        with pytest.raises(Forbidden):  # the old key belongs to no flagger any more (and is revoked)
            platform.notice_submit(prefix, NoticeIn.model_validate({**body, "reference": "BST-2"}))
        again, created = platform.notice_submit(renewed.split("_")[1], NoticeIn.model_validate(body))
        assert not created and again["reference"] == "BST-1"  # the same flagger's notice
    finally:
        platform.close()
    code, output = cli("new-secret", "bal-suraksha", "--json")
    assert code == 0 and json.loads(output)["webhook_secret"] != shown["webhook_secret"]
    code, output = cli("show", "bal-suraksha", "--json")
    assert json.loads(output)["priority"] == 75
    code, output = cli("show", "nobody")
    assert code == 2 and "no flagger" in output
    code, output = cli("clear-review", "bal-suraksha", "--note", "n/a")
    assert code == 2 and "not marked" in output


def test_console_users_are_linked_and_unlinked() -> None:
    code, output = cli("add", "ngo", "--organisation", "NGO", "--country", "IN", "--designation", "partner")
    assert code == 0, output
    made = runner.invoke(
        app,
        ["user", "create", "desk@ngo.example", "--role", "flagger", "--password-stdin"],
        input="tidal-oak-lantern-91\n",
        catch_exceptions=False,
    )
    assert made.exit_code == 0, made.output
    mixed = runner.invoke(
        app,
        ["user", "create", "x@ngo.example", "--role", "flagger", "--role", "lead", "--password-stdin"],
        input="tidal-oak-lantern-91\n",
        catch_exceptions=False,
    )
    assert mixed.exit_code != 0 and "goes alone" in mixed.output
    code, output = cli("users", "ngo")
    assert code == 0 and "no console user belongs" in output
    code, output = cli("add-user", "ngo", "desk@ngo.example", "--json")
    assert code == 0, output
    assert json.loads(output)["email"] == "desk@ngo.example"
    code, output = cli("add-user", "ngo", "desk@ngo.example")
    assert code != 0 and "already" in output
    code, output = cli("users", "ngo", "--json")
    assert [u["email"] for u in json.loads(output)] == ["desk@ngo.example"]
    code, output = cli("remove-user", "ngo", "desk@ngo.example")
    assert code == 0 and "no longer belongs" in output
    code, output = cli("remove-user", "ngo", "desk@ngo.example")
    assert code != 0 and "does not belong" in output
