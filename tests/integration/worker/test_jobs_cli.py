"""``suraksha jobs``: list, show, retry and stats on real SQLite and PostgreSQL."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from suraksha.cli.jobs import app as jobs_app
from suraksha.db import Database
from suraksha.worker import JobState, enqueue, fail, lease
from suraksha.worker.listing import get_job

runner = CliRunner()


def run(*args: str) -> tuple[int, str]:
    result = runner.invoke(jobs_app, list(args), catch_exceptions=False)
    return result.exit_code, result.output


@pytest.fixture
def queued(db: Database, database_url: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """Three jobs: one queued, two dead (kinds a and b)."""
    monkeypatch.setenv("SURAKSHA_DATABASE_URL", database_url)
    with db.session() as s:
        ids = {
            "waiting": enqueue(s, "report.send", {"report_id": 1}, key="report:1"),
            "dead_a": enqueue(s, "webhook.deliver", {"action_id": 2}),
            "dead_b": enqueue(s, "scan.item", {"item_id": 3}),
        }
    with db.session() as s:
        for held in lease(s, "w", kinds=["webhook.deliver", "scan.item"], limit=5):
            fail(s, held, f"receiver refused {held.kind}", retryable=False)
    return {name: job_id or 0 for name, job_id in ids.items()}


def test_list_and_show(queued: dict[str, int]) -> None:
    code, output = run("list", "--json")
    assert code == 0
    rows = json.loads(output)
    assert [r["id"] for r in rows] == sorted(queued.values(), reverse=True)
    code, output = run("list", "--state", "dead", "--kind", "scan.item", "--json")
    [row] = json.loads(output)
    assert row["id"] == queued["dead_b"] and row["last_error"] == "not retryable: receiver refused scan.item"
    code, output = run("list", "--state", "dead")
    assert code == 0 and "webhook.deliver" in output and "report.send" not in output
    code, output = run("show", str(queued["waiting"]), "--json")
    info = json.loads(output)
    assert (info["key"], info["payload"], info["state"], info["max_attempts"]) == (
        "report:1",
        {"report_id": 1},
        "queued",
        8,
    )
    code, output = run("show", str(queued["dead_a"]))
    assert code == 0 and "receiver refused webhook.deliver" in output


def test_retry(queued: dict[str, int], db: Database) -> None:
    code, output = run("retry", str(queued["dead_a"]))
    assert code == 0 and f"job {queued['dead_a']} queued again" in output
    code, output = run("retry", "--all-dead", "--kind", "scan.item", "--json")
    assert code == 0 and json.loads(output) == {"retried": 1}
    code, output = run("retry", "--all-dead")
    assert code == 0 and "0 dead job(s) queued again" in output
    with db.session() as s:
        assert {get_job(s, i).state for i in queued.values()} == {JobState.QUEUED}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "give a job id or --all-dead"),
        (("5", "--all-dead"), "give a job id or --all-dead"),
        (("5", "--kind", "a"), "--kind goes with --all-dead"),
        (("424242",), "no job with id 424242"),
    ],
)
def test_retry_refuses_bad_requests(queued: dict[str, int], args: tuple[str, ...], message: str) -> None:
    result = CliRunner().invoke(jobs_app, ["retry", *args])
    assert result.exit_code == 2 and message in result.output.replace("\n", " ")


def test_done_jobs_are_not_retried(queued: dict[str, int], db: Database) -> None:
    from suraksha.worker import complete

    with db.session() as s:
        [held] = lease(s, "w")
        complete(s, held)
    result = CliRunner().invoke(jobs_app, ["retry", str(held.job_id)])
    assert result.exit_code == 2 and "is done" in result.output


def test_stats(queued: dict[str, int]) -> None:
    code, output = run("stats", "--json")
    figures = json.loads(output)
    assert figures["counts"] == {
        "report.send": {"queued": 1},
        "scan.item": {"dead": 1},
        "webhook.deliver": {"dead": 1},
    }
    assert figures["due"] == 1 and figures["oldest_due_job"] == queued["waiting"]
    assert figures["oldest_due_age_s"] >= 0
    code, output = run("stats")
    assert code == 0 and "due now: 1" in output and "webhook.deliver" in output


def test_registered_in_the_main_command() -> None:
    from suraksha.cli.main import app

    result = runner.invoke(app, ["jobs", "--help"])
    assert result.exit_code == 0
    assert all(command in result.output for command in ("list", "show", "retry", "stats"))
