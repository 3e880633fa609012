"""``suraksha apikey`` and ``suraksha serve`` (SQLite, in the test's own data folder)."""

from __future__ import annotations

import json
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI
from typer.testing import CliRunner

from suraksha.access.services import verify_api_key
from suraksha.app import Platform
from suraksha.cli.main import app
from suraksha.errors import Unauthenticated

runner = CliRunner()


def run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args), catch_exceptions=False)
    return result.exit_code, result.output


def test_apikey_create_list_revoke() -> None:
    code, output = run("apikey", "create", "platform", "--role", "ingest", "--role", "read", "--json")
    assert code == 0
    created = json.loads(output)
    assert created["roles"] == ["ingest", "read"] and created["key"].startswith(f"sk_{created['prefix']}_")
    platform = Platform()
    try:
        with platform.db.session() as session:
            assert verify_api_key(session, created["key"]).name == "platform"

        code, output = run("apikey", "list", "--json")
        [listed] = json.loads(output)
        assert listed["name"] == "platform" and listed["revoked_at"] is None
        assert created["key"] not in output and "key" not in listed

        code, output = run("apikey", "create", "platform", "--role", "read")
        assert code == 2 and "already exists" in output
        code, output = run("apikey", "create", "other", "--role", "superuser")
        assert code == 2 and "superuser" in output

        assert run("apikey", "revoke", "platform")[0] == 0
        with platform.db.session() as session, pytest.raises(Unauthenticated, match="revoked"):
            verify_api_key(session, created["key"])
        code, output = run("apikey", "revoke", "nobody")
        assert code == 2 and "no API key named 'nobody'" in output
    finally:
        platform.close()


def test_human_output_shows_the_key_once() -> None:
    code, output = run("apikey", "create", "ops", "--role", "admin")
    [key] = [line for line in output.splitlines() if line.startswith("sk_")]
    assert code == 0 and "created API key ops" in output
    code, output = run("apikey", "list")
    secret = key.split("_", 2)[2]  # the secret itself may contain "_"
    assert code == 0 and "ops" in output and key not in output and secret[:10] not in output


def test_serve_refuses_to_start_without_a_key(monkeypatch: pytest.MonkeyPatch) -> None:
    started: list[Any] = []
    monkeypatch.setattr(uvicorn, "run", lambda *args, **kwargs: started.append((args, kwargs)))
    code, output = run("serve")
    assert code == 2 and "suraksha apikey create" in output and not started

    assert run("apikey", "create", "ops", "--role", "admin")[0] == 0
    code, output = run("serve", "--host", "127.0.0.1", "--port", "8123")
    assert code == 0, output
    [(args, kwargs)] = started
    assert isinstance(args[0], FastAPI) and kwargs["port"] == 8123 and kwargs["access_log"] is False
