"""A newcomer's way from a clone to a report NCMEC's simulator accepted, with the commands of
docs/reporting.md ("Try it") as written: the demo's approved reports, the simulator over real HTTP
(its own process, finding the schema in the test data), the schema fetched from it, a worker that
sends the reports; and what the simulator says when it finds no schema."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from suraksha.cli.main import app

runner = CliRunner()
USER, PASSWORD = "demo", "demo-only-password"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def suraksha(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args), catch_exceptions=False)
    return result.exit_code, result.output


@pytest.fixture
def simulator(testdata: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """``suraksha ncmec-sim --port PORT`` in its own process, no --xsd: it finds the test data's copy."""
    port = _free_port()
    monkeypatch.setenv("SURAKSHA_NCMEC_USERNAME", USER)
    monkeypatch.setenv("SURAKSHA_NCMEC_PASSWORD", PASSWORD)
    process = subprocess.Popen(
        [sys.executable, "-m", "suraksha", "ncmec-sim", "--port", str(port)],
        env={**os.environ, "SURAKSHA_TESTDATA": str(testdata)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    output = process.stdout.read().decode() if process.stdout else ""
                    raise AssertionError(f"the simulator did not start: {output}") from None
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}/ispws"
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.mark.slow
def test_the_demos_reports_reach_the_simulator(
    simulator: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SURAKSHA_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("COLUMNS", "200")
    code, output = suraksha("demo", "--no-serve")
    assert code == 0, output
    code, output = suraksha("report", "list", "--json")
    reports = json.loads(output)
    assert reports and {r["state"] for r in reports} == {"approved"}

    monkeypatch.setenv("SURAKSHA_NCMEC_URL", simulator)
    monkeypatch.setenv("SURAKSHA_REPORTER_EMAIL", "you@example.org")
    code, output = suraksha("report", "fetch-xsd")
    assert code == 0 and "saved NCMEC's schema" in output
    assert (tmp_path / "data" / "ncmec" / "cyber_tipline.xsd").exists()  # where reports read it
    code, output = suraksha("worker", "--drain", "--kind", "report.submit")
    assert code == 0, output
    code, output = suraksha("report", "list", "--json")
    sent = json.loads(output)
    assert {r["state"] for r in sent} == {"finished"} and all(r["ncmec_report_id"] for r in sent)
    assert {r["waiting_for"] for r in sent} == {""}


def test_the_simulator_says_where_the_schema_comes_from(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SURAKSHA_NCMEC_USERNAME", USER)
    monkeypatch.setenv("SURAKSHA_NCMEC_PASSWORD", PASSWORD)
    monkeypatch.setenv("SURAKSHA_TESTDATA", str(tmp_path / "no-testdata"))
    code, output = suraksha("ncmec-sim", "--port", str(_free_port()))
    said = " ".join(output.split())
    assert code == 2
    for way in ("GET /ispws/xsd", "suraksha report fetch-xsd", "scripts/fetch-testdata", "--xsd PATH"):
        assert way in said, way
