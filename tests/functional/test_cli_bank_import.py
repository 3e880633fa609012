"""``suraksha bank import``: the size limit holds for files that do not say their size (a pipe,
``/dev/zero``), and an import leaves an audit row as a console import does."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from typer.testing import CliRunner

from suraksha import audit
from suraksha.cli.common import EXIT_ERROR
from suraksha.cli.main import app
from suraksha.db import open_database
from suraksha.settings import Settings

runner = CliRunner()
LIMIT = 64 * 1024
MEMORY_CAP = 1536 * 1024 * 1024
"""Address space of the import process: far more than it needs, far less than an unbounded read takes."""


def run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args), catch_exceptions=False)
    return result.exit_code, result.output


CAPPED_CLI = (
    "import resource, runpy, sys\n"
    f"resource.setrlimit(resource.RLIMIT_AS, ({MEMORY_CAP}, {MEMORY_CAP}))\n"
    "sys.argv = ['suraksha', *sys.argv[1:]]\n"
    "runpy.run_module('suraksha', run_name='__main__')\n"
)
"""The CLI under a memory cap, set in the child itself (no ``preexec_fn``: the test has threads)."""


def import_in_subprocess(path: str) -> subprocess.CompletedProcess[str]:
    """``bank import`` in its own process under a memory cap, so that an unbounded read fails the test
    instead of filling the machine."""
    env = {**os.environ, "SURAKSHA_IMPORT_MAX_BYTES": str(LIMIT)}
    return subprocess.run(
        [sys.executable, "-c", CAPPED_CLI, "bank", "import", "known", path],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture
def bank() -> str:
    assert run("bank", "create", "known")[0] == 0
    return "known"


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="needs /dev/zero")
def test_import_of_an_endless_device_stops_at_the_limit(bank: str) -> None:
    done = import_in_subprocess("/dev/zero")
    assert done.returncode == EXIT_ERROR, done.stderr[-2000:]
    assert "over the import limit" in done.stderr and "import_max_bytes" in done.stderr
    assert "Traceback" not in done.stderr


def test_import_from_a_pipe_stops_at_the_limit(bank: str, tmp_path: Path) -> None:
    """A FIFO has no size to look at: the bytes are counted as they are read."""
    fifo = tmp_path / "list.fifo"
    os.mkfifo(fifo)
    line = b"0123456789abcdef0123456789abcdef\n"
    written: list[int] = []

    def feed() -> None:
        sent = 0
        try:
            with fifo.open("wb") as pipe:
                while sent < 64 * 1024 * 1024:
                    pipe.write(line * 1024)
                    sent += len(line) * 1024
        except BrokenPipeError:
            pass  # the reader stopped reading: what should happen
        written.append(sent)

    writer = threading.Thread(target=feed, daemon=True)
    writer.start()
    done = import_in_subprocess(str(fifo))
    writer.join(timeout=30)
    assert done.returncode == EXIT_ERROR, done.stderr[-2000:]
    assert "over the import limit" in done.stderr
    assert written and written[0] < 64 * 1024 * 1024  # the reader gave up long before the end


def test_cli_import_writes_the_audit_row_a_console_import_writes(bank: str, tmp_path: Path) -> None:
    listing = tmp_path / "list.txt"
    listing.write_text("0123456789abcdef0123456789abcdef\n", encoding="utf-8")
    code, output = run("bank", "import", "known", str(listing))
    assert code == 0, output
    database = open_database(Settings.load().resolved_database_url)
    try:
        with database.session() as session:
            rows = [audit.event_dict(row) for row in audit.tail(session, 5)]
    finally:
        database.dispose()
    imports = [r for r in rows if r["action"] == audit.AuditAction.BANK_CHANGE]
    [row] = [r for r in imports if r["details"]["change"] == "bank.import"]  # the bank's creation has its own
    assert row["subject"] == "bank:known" and row["actor"].startswith("cli:")
    assert row["details"] == {"change": "bank.import", "added": 1, "rejected": 0, "file": "list.txt"}
    assert json.dumps(row["details"])  # the same shape as the console's row (web/console/banks.py)


def test_a_failed_import_writes_no_audit_row(bank: str, tmp_path: Path) -> None:
    listing = tmp_path / "bad.txt"
    listing.write_text("not a hash\n", encoding="utf-8")
    assert run("bank", "import", "known", str(listing))[0] == EXIT_ERROR
    database = open_database(Settings.load().resolved_database_url)
    try:
        with database.session() as session:
            changes = [
                json.loads(row.details)["change"]
                for row in audit.tail(session, 5)
                if row.action == audit.AuditAction.BANK_CHANGE
            ]
    finally:
        database.dispose()
    assert changes == ["bank.create"]  # the fixture's; the failed import wrote none
