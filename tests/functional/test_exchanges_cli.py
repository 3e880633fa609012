"""`suraksha exchange` end to end, on SQLite and PostgreSQL, against the NCMEC hash sharing stand-in in
its own process over real HTTP (`suraksha hashsharing-sim`): create, list, show, fetch-now, status,
disable, enable, delete; credentials never printed; and a fetch killed with SIGKILL in the middle,
then resumed, holds exactly the list: nothing lost, nothing twice."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from suraksha.app import Platform
from suraksha.audit import AuditEvent
from suraksha.banks.models import BankChange, BankChangeKind, BankEntry
from suraksha.cli.main import app
from suraksha.exchanges.models import ExchangeEntry, ExchangeFetchRun
from suraksha.testing.database import truncate_all

runner = CliRunner()
USER, PASSWORD = "tester", "sim-only-password-c41d"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def cli(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args), catch_exceptions=False)
    return result.exit_code, result.output


def _start_sim(*options: str) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "suraksha", "hashsharing-sim", "--port", str(port), *options],
        env={**os.environ, "SURAKSHA_HASHSHARING_SIM_CREDENTIALS": f"{USER}:{PASSWORD}"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return process, f"http://127.0.0.1:{port}"
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                output = process.stdout.read().decode() if process.stdout else ""
                process.kill()
                raise AssertionError(f"the stand-in did not start: {output}") from None
            time.sleep(0.1)


@pytest.fixture
def store(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("SURAKSHA_DATABASE_URL", database_url)
    monkeypatch.setenv("SURAKSHA_EXCHANGE_NC_CREDENTIALS", f"{USER}:{PASSWORD}")
    monkeypatch.setenv("COLUMNS", "200")
    yield database_url
    p = Platform()
    try:
        if p.db.dialect == "postgresql":
            truncate_all(p.db)
    finally:
        p.close()


@pytest.fixture
def sim() -> Iterator[str]:
    process, url = _start_sim("--seed", "150", "--page-size", "40")
    try:
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_create_list_fetch_show_status_and_delete(store: str, sim: str) -> None:
    assert cli("bank", "create", "known", "--category", "csam")[0] == 0
    code, output = cli(
        "exchange", "create", "nc", "--api", "ncmec", "--bank", "known", "--setting", f"url={sim}"
    )
    assert code == 0, output
    assert "credentials SURAKSHA_EXCHANGE_NC_CREDENTIALS" in output
    code, output = cli(
        "exchange", "create", "nc2", "--api", "ncmec", "--bank", "known", "--setting", f"password={PASSWORD}"
    )
    assert code == 2 and "credentials never go" in output and PASSWORD not in output

    code, output = cli("exchange", "fetch-now", "nc", "--json")
    assert code == 0, output
    fetched = json.loads(output)
    assert (fetched["state"], fetched["added"]) == ("done", 150)
    code, output = cli("exchange", "list", "--json")
    [listed] = json.loads(output)
    assert (listed["name"], listed["bank"], listed["entries"], listed["trust"]) == (
        "nc",
        "known",
        150,
        "review",
    )
    code, output = cli("exchange", "status", "--json")
    assert code == 0 and json.loads(output)[0]["failures"] == 0
    code, human = cli("exchange", "show", "nc")
    assert code == 0 and "done" in human
    code, listing = cli("exchange", "list")
    for text in (output, human, listing):
        assert PASSWORD not in text

    assert cli("exchange", "disable", "nc")[0] == 0
    assert json.loads(cli("exchange", "show", "nc", "--json")[1])["enabled"] is False
    assert cli("exchange", "enable", "nc")[0] == 0
    code, output = cli("exchange", "fetch-now", "nc")
    assert code == 0 and "done" in output

    os.environ["SURAKSHA_EXCHANGE_NC_CREDENTIALS"] = f"{USER}:not-{PASSWORD}"  # restored by monkeypatch
    time.sleep(2)  # a time range the next fetch asks for
    code, output = cli("exchange", "fetch-now", "nc")
    assert code == 2 and "401" in output and PASSWORD not in output
    code, output = cli("exchange", "status")
    assert code == 1 and "FAILING" in output and PASSWORD not in output

    assert cli("exchange", "delete", "nc", "--yes")[0] == 0
    assert json.loads(cli("exchange", "list", "--json")[1]) == []
    code, output = cli("bank", "show", "known", "--json")
    assert code == 0, output  # the entries it put there stay


@pytest.mark.slow
def test_sigkill_in_the_middle_of_a_fetch_then_resume(store: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Killed while pages are committed together (three of the stand-in's pages a transaction)."""
    monkeypatch.setenv("SURAKSHA_EXCHANGE_COMMIT_ENTRIES", "60")
    process, url = _start_sim("--seed", "400", "--page-size", "20", "--page-delay", "0.15")
    try:
        assert cli("bank", "create", "known", "--category", "csam")[0] == 0
        assert (
            cli("exchange", "create", "nc", "--api", "ncmec", "--bank", "known", "--setting", f"url={url}")[0]
            == 0
        )
        fetch = subprocess.Popen(
            [sys.executable, "-m", "suraksha", "exchange", "fetch-now", "nc"],
            env=dict(os.environ),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        p = Platform()
        try:
            deadline = time.monotonic() + 120
            while True:
                with p.db.reading() as session:
                    held = session.scalar(select(func.count()).select_from(BankEntry)) or 0
                if held >= 100 or fetch.poll() is not None or time.monotonic() > deadline:
                    break
                time.sleep(0.05)
            assert fetch.poll() is None, "the fetch ended before it could be killed"
            os.kill(fetch.pid, signal.SIGKILL)
            fetch.wait(timeout=10)
            with p.db.reading() as session:
                killed_at = session.scalar(select(func.count()).select_from(BankEntry)) or 0
            assert 100 <= killed_at < 400

            code, output = cli("exchange", "fetch-now", "nc", "--json")
            assert code == 0, output
            assert json.loads(output)["state"] == "done"
            with p.db.reading() as session:
                assert session.scalar(select(func.count()).select_from(BankEntry)) == 400
                assert session.scalar(select(func.count()).select_from(ExchangeEntry)) == 400
                added = list(
                    session.scalars(
                        select(BankChange.entry_id).where(BankChange.kind == BankChangeKind.ENTRY_ADDED)
                    )
                )
                runs = list(session.scalars(select(ExchangeFetchRun).order_by(ExchangeFetchRun.id)))
            assert len(added) == len(set(added)) == 400
            assert runs[0].state == "failed" and "interrupted" in runs[0].error
            assert runs[0].added + runs[1].added == 400
        finally:
            p.close()
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_set_changes_trust_and_settings(store: str, tmp_path: Path) -> None:
    """``exchange set``: the trust, one setting (the others kept), the settings whole; refused
    settings change nothing; each change an audit row with the old and new values."""
    first, second = tmp_path / "one.txt", tmp_path / "two.txt"
    assert cli("bank", "create", "partner")[0] == 0
    code, output = cli(
        "exchange", "create", "partner-list", "--api", "file", "--bank", "partner",
        "--setting", f"path={first}", "--setting", "page_size=5",
    )  # fmt: skip
    assert code == 0, output
    assert cli("exchange", "set", "partner-list")[0] != 0  # nothing to change
    code, output = cli("exchange", "set", "partner-list", "--trust", "auto_action", "--json")
    assert code == 0 and json.loads(output)["trust"] == "auto_action", output
    code, output = cli("exchange", "set", "partner-list", "--setting", f"path={second}", "--json")
    assert code == 0 and json.loads(output)["settings"] == {"path": str(second), "page_size": 5}, output
    assert cli("exchange", "set", "partner-list", "--setting", "password=x")[0] != 0
    code, output = cli("exchange", "set", "partner-list", "--settings-json", json.dumps({"path": str(first)}))
    assert code == 0, output
    shown = json.loads(cli("exchange", "show", "partner-list", "--json")[1])
    assert shown["settings"] == {"path": str(first)} and shown["trust"] == "auto_action"
    p = Platform()
    try:
        with p.db.reading() as session:
            rows = [
                json.loads(r.details)
                for r in session.scalars(select(AuditEvent).where(AuditEvent.action == "exchange:change"))
            ]
    finally:
        p.close()
    updates = [r for r in rows if r["change"] == "update"]
    assert [sorted(u)[1] for u in updates] == ["trust", "settings", "settings"]
    assert updates[0]["trust"] == {"from": "review", "to": "auto_action"}
