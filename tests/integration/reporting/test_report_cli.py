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

import pyotp
import pytest
from argon2 import PasswordHasher
from argon2.profiles import CHEAPEST
from sqlalchemy import select
from typer.testing import CliRunner

from suraksha.access import users
from suraksha.access.models import ConsoleUser
from suraksha.audit import AuditEvent
from suraksha.cli.main import app
from suraksha.content.models import ItemMedia
from suraksha.db import Database, open_database
from suraksha.intake.store import MediaStore
from suraksha.reporting.models import CyberTiplineReport, CyberTiplineReportFile, ReportState
from suraksha.review.models import HumanView
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


SIGN_IN = "sable-quartz-meadow-42"
PEOPLE = {"lead@example.org": ["lead"], "legal@example.org": ["legal"], "rev@example.org": ["reviewer"]}


@pytest.fixture
def people(cli_world: World, monkeypatch: pytest.MonkeyPatch) -> dict[str, ConsoleUser]:
    monkeypatch.setattr(users, "HASHER", PasswordHasher.from_parameters(CHEAPEST))
    with cli_world.db.session() as session:
        return {e: users.create_user(session, e, roles, SIGN_IN, by="test") for e, roles in PEOPLE.items()}


def as_person(email: str, *args: str, password: str = SIGN_IN) -> tuple[int, str]:
    """Run a command signed in as ``email`` (the password on stdin, never on the command line)."""
    result = runner.invoke(
        app, [*args, "--user", email, "--password-stdin"], input=password + "\n", catch_exceptions=False
    )
    return result.exit_code, result.output


def reveal(db: Database, person: ConsoleUser, media_id: int) -> None:
    """What a reveal in the review console stores: a human view of the file."""
    with db.session() as session:
        media = session.get(ItemMedia, media_id)
        assert media is not None
        session.add(HumanView(user_id=person.id, media_id=media_id, item_id=media.item_id, category="csam"))


def test_report_commands(cli_world: World, sim: Sim, tmp_path: Path, people: dict[str, ConsoleUser]) -> None:
    cli_world.add_account("cli", items=2)
    code, output = invoke("report", "check")
    assert code == 0 and "credentials accepted" in output
    viewed = cli_world.media["cli"][0]
    args = ["report", "prepare", "--json", "--classification", f"{viewed}=a2"]
    for decision in cli_world.decisions["cli"]:
        args += ["--decision", str(decision)]
    code, output = as_person("lead@example.org", *args)
    assert code == 2 and "reveal it in the review console first" in output  # no stored view behind it
    code, output = as_person("lead@example.org", *args, "--viewed", str(viewed))
    assert code == 2 and "--viewed is gone" in output  # a view is never claimed, only stored
    reveal(cli_world.db, people["lead@example.org"], viewed)
    code, output = as_person("lead@example.org", *args)
    assert code == 0, output
    (prepared,) = json.loads(output)
    assert prepared["state"] == "draft" and prepared["files"] == 2
    report_id = str(prepared["id"])
    with cli_world.db.reading() as session:
        rows = session.scalars(select(CyberTiplineReportFile).order_by(CyberTiplineReportFile.media_id))
        assert [(r.viewed_by_esp, r.industry_classification) for r in rows] == [(True, "A2"), (False, None)]
    code, output = invoke("report", "send", report_id)
    assert code == 0 and "draft" in output  # a draft is not sent
    code, output = as_person("lead@example.org", "report", "prepare", "--decision", "1", "--approve")
    assert code == 2 and "second person" in output
    code, output = as_person("lead@example.org", "report", "approve", report_id)
    assert code == 2 and "four eyes" in output  # who prepared it does not approve it
    code, output = as_person("rev@example.org", "report", "approve", report_id)
    assert code == 2 and "lacks report:submit" in output
    code, output = as_person("legal@example.org", "report", "approve", report_id, password="not-it")
    assert code == 2 and "wrong email or password" in output
    code, output = invoke("report", "approve", report_id)
    assert code == 2 and "--user" in output  # nobody approves without signing in
    code, output = as_person("legal@example.org", "report", "approve", report_id)
    assert code == 0, output
    with cli_world.db.reading() as session:
        report = session.get(CyberTiplineReport, int(report_id))
        assert report is not None and report.approved_by == f"user:{people['legal@example.org'].pseudonym}"
        approvals = session.scalars(select(AuditEvent).where(AuditEvent.action == "report:approved")).all()
        assert [a.actor for a in approvals] == [report.approved_by]
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
    code, output = as_person("lead@example.org", "report", "retry", report_id, "--reason", "test")
    assert code == 2 and "only a failed report" in output
    target = tmp_path / "fetched.xsd"
    assert invoke("report", "fetch-xsd", "--to", str(target))[0] == 0
    assert target.read_bytes() == sim.simulator.xsd_bytes


def test_the_command_line_sign_in_is_the_consoles(
    cli_world: World, people: dict[str, ConsoleUser], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A second factor is asked for (stdin's second line), a code is used once, and wrong passwords
    are throttled per machine account and console account like the console's sign-in."""
    secret = pyotp.random_base32()
    with cli_world.db.session() as session:
        legal = session.get(ConsoleUser, people["legal@example.org"].id)
        assert legal is not None
        legal.totp_secret = secret
    approve = ("report", "approve", "999")  # no such report: the sign-in comes first
    code, output = as_person("legal@example.org", *approve, password=f"{SIGN_IN}\n000000")
    assert code == 2 and "wrong email or password" in output
    code, output = as_person("legal@example.org", *approve, password=f"{SIGN_IN}\n{pyotp.TOTP(secret).now()}")
    assert code == 2 and "report 999 does not exist" in output  # signed in
    with cli_world.db.reading() as session:
        failed = session.scalars(select(AuditEvent).where(AuditEvent.action == "auth:sign_in_failed")).all()
        assert [json.loads(e.details)["reason"] for e in failed] == ["wrong_code"]
    monkeypatch.setenv("SURAKSHA_CONSOLE_SIGN_IN_MAX_FAILURES", "2")
    for _ in range(2):
        assert as_person("lead@example.org", *approve, password="guess")[0] == 2
    code, output = as_person("lead@example.org", *approve)
    assert code == 2 and "too many failed sign-ins" in " ".join(output.split())


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
    cli_world: World, sim: Sim, env: dict[str, str], tmp_path: Path, people: dict[str, ConsoleUser]
) -> None:
    cli_world.add_account("killed", items=6, files_per_item=2)
    sim.simulator.latency_s = 0.03  # ~30 calls: long enough to be killed mid-flow several times
    args = ["report", "prepare", "--json"]
    for decision in cli_world.decisions["killed"]:
        args += ["--decision", str(decision)]
    code, output = as_person("lead@example.org", *args)
    assert code == 0, output
    report_id = json.loads(output)[0]["id"]
    assert as_person("legal@example.org", "report", "approve", str(report_id))[0] == 0
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


def test_a_report_held_back_says_why_wherever_it_is_shown(
    cli_world: World, env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without credentials an approved report waits: `report list`, `report show` (and --json, which
    the console's report pages read) say why and what to do, not only `jobs list`."""
    from suraksha.app import Platform
    from suraksha.reporting import tasks as reporting_tasks
    from suraksha.reporting.services import ReportOptions, ReportRequest, prepare_report
    from suraksha.worker.handlers import HandlerRegistry
    from suraksha.worker.policy import WorkerConfig
    from suraksha.worker.runner import Worker

    monkeypatch.delenv("SURAKSHA_NCMEC_PASSWORD")
    monkeypatch.setenv("COLUMNS", "250")
    cli_world.add_account("waiting", items=1)
    with cli_world.db.session() as session:
        request = ReportRequest(tuple(cli_world.decisions["waiting"]), approved_by=("a",))
        (report,) = prepare_report(session, request, actor="t")
        report_id = str(report.id)
    code, output = invoke("report", "show", report_id, "--json")
    assert code == 0 and "is due" in json.loads(output)["waiting_for"]  # no worker has run it yet

    platform = Platform()
    registry = HandlerRegistry()
    options = ReportOptions.from_settings(platform.settings)
    reporting_tasks.register(registry, platform.db, platform.report_submitter, options, None)
    Worker(platform.db.sessions, registry, kinds=["report.submit"], config=WorkerConfig()).run_once()
    platform.close()

    code, output = invoke("report", "list", "--json")
    (listed,) = json.loads(output)
    assert listed["state"] == "approved" and "reports wait for configuration" in listed["waiting_for"]
    assert "SURAKSHA_NCMEC_PASSWORD" in listed["waiting_for"] or "password" in listed["waiting_for"]
    assert listed["account"] == "acct-waiting (@waiting)"  # the platform's id and handle, not our row id
    code, output = invoke("report", "list")
    assert "reports wait for configuration" in " ".join(output.split())
    code, output = invoke("report", "show", report_id)
    assert "waiting_for: reports wait for configuration" in " ".join(output.split())


def test_a_referral_names_the_account_as_people_do(
    cli_world: World, people: dict[str, ConsoleUser], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`report referral create --account` takes the platform's account id, @handle, profile URL or
    ``#id``; the listing shows the account the same way."""
    from suraksha.content.models import Account

    monkeypatch.setenv("SURAKSHA_PLATFORM_PROFILE_URL", "https://social.example/u/{handle}")
    cli_world.add_account("referred", items=1)
    with cli_world.db.reading() as session:
        own = session.scalars(select(Account.id).where(Account.platform_account_id == "acct-referred")).one()
    made = []
    for ref in ("acct-referred", "@referred", "https://social.example/u/referred", f"#{own}"):
        code, output = as_person(
            "lead@example.org", "report", "referral", "create", "--account", ref,
            "--jurisdiction", "IN", "--agency", "Cyber Cell", "--json",
        )  # fmt: skip
        assert code == 0, output
        made.append(json.loads(output)["account_id"])
    assert made == [own] * 4
    code, output = invoke("report", "referral", "list", "--json")
    assert {r["account"] for r in json.loads(output)} == {"acct-referred (@referred)"}
    code, output = as_person("lead@example.org", "report", "prepare", "--item", "referred-item-0", "--json")
    assert code == 0, output  # the item as the platform names it: its latest decision is reported
    (prepared,) = json.loads(output)
    assert prepared["account"] == "acct-referred (@referred)" and prepared["files"] >= 1
    code, output = as_person("lead@example.org", "report", "prepare", "--item", "no-such-post")
    assert code == 2 and "post URL or #id" in " ".join(output.split())
    code, output = as_person(
        "lead@example.org", "report", "referral", "create", "--account", "@nobody",
        "--jurisdiction", "IN", "--agency", "Cyber Cell",
    )  # fmt: skip
    assert code == 2 and "@handle" in output
