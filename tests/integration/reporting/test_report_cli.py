"""The report commands against the simulator over HTTP, and real worker processes killed with SIGKILL
at random points while a report is being sent: it still finishes exactly once."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from suraksha.cli.main import app
from suraksha.db import Database, open_database
from suraksha.intake.store import MediaStore
from suraksha.reporting.models import CyberTiplineReport, ReportState
from suraksha.testing.database import truncate_all
from suraksha.vault.crypto import EnvelopeCipher
from tests.integration.reporting.conftest import PASSWORD, USER, Sim, World

runner = CliRunner()


@pytest.fixture
def env(
    monkeypatch: pytest.MonkeyPatch, database_url: str, tmp_path: Path, sim: Sim, xsd_path: Path
) -> dict[str, str]:
    values = {
        "SURAKSHA_DATABASE_URL": database_url,
        "SURAKSHA_DATA_DIR": str(tmp_path / "data"),
        "SURAKSHA_NCMEC_URL": sim.url,
        "SURAKSHA_NCMEC_USERNAME": USER,
        "SURAKSHA_NCMEC_PASSWORD": PASSWORD,
        "SURAKSHA_NCMEC_XSD_PATH": str(xsd_path),
        "SURAKSHA_REPORTER_EMAIL": "trust-safety@example.org",
        "SURAKSHA_REPORT_BUNDLE_WINDOW_S": "0",
        "SURAKSHA_NCMEC_RETRY_BASE_S": "0.05",
        "SURAKSHA_JOB_LEASE_S": "2",
        "SURAKSHA_WORKER_POLL_INTERVAL_S": "0.2",
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    return values


@pytest.fixture
def cli_world(env: dict[str, str], tmp_path: Path) -> Iterator[World]:
    database = open_database(env["SURAKSHA_DATABASE_URL"])
    try:
        cipher = EnvelopeCipher(os.environ["SURAKSHA_VAULT_KEK"])  # the CLI's own key (tests/conftest.py)
        yield World(database, MediaStore(Path(env["SURAKSHA_DATA_DIR"]) / "media", cipher))
    finally:
        if database.dialect == "postgresql":
            truncate_all(database)
        database.dispose()


def invoke(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args), catch_exceptions=False)
    return result.exit_code, result.output


def test_report_commands(cli_world: World, sim: Sim, tmp_path: Path) -> None:
    cli_world.add_account("cli", items=2)
    code, output = invoke("report", "check")
    assert code == 0 and "credentials accepted" in output
    viewed = cli_world.media["cli"][0]
    args = ["report", "prepare", "--json", "--viewed", str(viewed), "--classification", f"{viewed}=a2"]
    for decision in cli_world.decisions["cli"]:
        args += ["--decision", str(decision)]
    code, output = invoke(*args)
    assert code == 0, output
    (prepared,) = json.loads(output)
    assert prepared["state"] == "draft" and prepared["files"] == 2
    report_id = str(prepared["id"])
    code, output = invoke("report", "send", report_id)
    assert code == 0 and "draft" in output  # a draft is not sent
    assert invoke("report", "approve", report_id)[0] == 0
    sim.simulator.fail("upload", 1000)
    code, output = invoke("report", "send", report_id)
    assert code == 2 and "retries it" in output
    code, output = invoke("report", "send", report_id, "--json")
    assert code == 0 and json.loads(output)["state"] == "finished"
    code, output = invoke("report", "show", report_id, "--xml", "--json")
    shown = json.loads(output)
    assert shown["ncmec_report_id"] in sim.simulator.finished
    assert "<report>" in shown["xml"][0] and sum("<fileDetails>" in d for d in shown["xml"]) == 2
    assert [f["industry_classification"] for f in shown["file_rows"]] == ["A2", None]
    code, output = invoke("report", "list", "--state", "finished", "--json")
    assert [r["id"] for r in json.loads(output)] == [prepared["id"]]
    code, output = invoke("report", "retry", report_id, "--reason", "test")
    assert code == 2 and "only a failed report" in output
    target = tmp_path / "fetched.xsd"
    assert invoke("report", "fetch-xsd", "--to", str(target))[0] == 0
    assert target.read_bytes() == sim.simulator.xsd_bytes


def test_simulator_command_refuses_without_credentials(
    monkeypatch: pytest.MonkeyPatch, xsd_path: Path
) -> None:
    code, output = invoke("ncmec-sim", "--xsd", str(xsd_path))
    assert code == 2 and "SURAKSHA_NCMEC_PASSWORD" in output
    monkeypatch.setenv("SURAKSHA_NCMEC_USERNAME", "u")
    monkeypatch.setenv("SURAKSHA_NCMEC_PASSWORD", "p")
    code, output = invoke("ncmec-sim", "--xsd", str(xsd_path), "--fail", "upload=often")
    assert code == 2 and "STEP=CODE" in output


def _report_state(db: Database, report_id: int) -> tuple[str, int | None]:
    with db.reading() as session:
        report = session.get(CyberTiplineReport, report_id)
        assert report is not None
        return report.state, report.ncmec_report_id


@pytest.mark.slow
def test_worker_killed_at_random_points_finishes_the_report_once(
    cli_world: World, sim: Sim, env: dict[str, str], tmp_path: Path
) -> None:
    cli_world.add_account("killed", items=6, files_per_item=2)
    sim.simulator.latency_s = 0.03  # ~30 calls: long enough to be killed mid-flow several times
    args = ["report", "prepare", "--approve", "--json"]
    for decision in cli_world.decisions["killed"]:
        args += ["--decision", str(decision)]
    code, output = invoke(*args)
    assert code == 0, output
    report_id = json.loads(output)[0]["id"]
    rng = random.Random(6)
    kills = 0
    deadline = time.monotonic() + 120
    logs = tmp_path / "worker.log"
    while _report_state(cli_world.db, report_id)[0] != ReportState.FINISHED:
        assert time.monotonic() < deadline, logs.read_text()
        with logs.open("ab") as log:
            proc = subprocess.Popen(
                [sys.executable, "-m", "suraksha", "worker", "--kind", "report.submit"],
                stdout=log,
                stderr=log,
                env={**os.environ, **env},
            )
        try:
            proc.wait(timeout=rng.uniform(1.0, 3.0) if kills < 4 else 15)
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            kills += 1
        if kills >= 4:
            break
    # Let a last worker finish what the killed ones left (after their leases run out).
    deadline = time.monotonic() + 60
    with logs.open("ab") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "suraksha", "worker", "--kind", "report.submit"],
            stdout=log,
            stderr=log,
            env={**os.environ, **env},
        )
    try:
        while _report_state(cli_world.db, report_id)[0] != ReportState.FINISHED:
            assert time.monotonic() < deadline, logs.read_text()[-5000:]
            time.sleep(0.2)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
    _, ncmec_id = _report_state(cli_world.db, report_id)
    assert kills >= 1
    assert list(sim.simulator.finished) == [ncmec_id]
    assert sim.simulator.counters.finishes == 1
    assert len(sim.simulator.finished[ncmec_id].files) == 12  # type: ignore[index]
