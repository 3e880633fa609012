"""``suraksha stats`` (table, --json, --csv, --group), ``stats rollup`` and ``stats check [--repair]``
on known records, on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime

import pytest
from sqlalchemy import update
from typer.testing import CliRunner

from suraksha.cli import common as cli_common
from suraksha.cli.main import app
from suraksha.db import Database
from suraksha.transparency.models import StatsDayCount
from tests.integration.transparency.test_statistics import T, seed
from tests.transparency_records import seed_notices_appeals

runner = CliRunner()
YEAR = ("--from", "2021-01-01", "--to", "2021-12-31")
MARCH = datetime(2021, 3, 1, tzinfo=UTC)


def run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout


@pytest.fixture
def seeded(db: Database, database_url: str, monkeypatch: pytest.MonkeyPatch) -> Database:
    monkeypatch.setenv("SURAKSHA_DATABASE_URL", database_url)
    seed(db)
    return db


def test_stats_csv_json_and_table(seeded: Database) -> None:
    code, output = run("stats", *YEAR, "--by", "quarter", "--csv")
    assert code == 0, output
    rows = list(csv.DictReader(io.StringIO(output)))
    assert [r["start"][:10] for r in rows] == ["2021-01-01", "2021-04-01", "2021-07-01", "2021-10-01"]
    q1, q2 = rows[0], rows[1]
    assert (q1["identified"], q1["decisions"], q1["note"]) == ("0", "0", "no records in this period")
    assert (q2["identified"], q2["decisions"], q2["decided_automatically"], q2["decided_by_people"]) == (
        "2",
        "4",
        "3",
        "1",
    )
    shown = ("remove", "suspend", "withhold", "cybertipline_reports", "cybertipline_files")
    assert [q2[name] for name in shown] == ["2", "1", "0", "1", "1"]
    assert q2["receipt_to_detection_median_s"] == "10.0" and q1["receipt_to_detection_median_s"] == ""
    code, output = run("stats", *YEAR, "--by", "total", "--group", "source", "--json")
    body = json.loads(output)
    assert [(r["source"], r["identified"]) for r in body["rows"]] == [("hash:csam", 1), ("text_rule", 1)]
    assert body["buckets"][0]["identified_items"] == 2
    code, output = run("stats", *YEAR, "--by", "month")
    assert code == 0 and "no records" in output and "2021-06-01" in output


def test_stats_refuses_bad_input() -> None:
    result = runner.invoke(app, ["stats", *YEAR, "--by", "fortnight"])
    assert result.exit_code == 2 and "fortnight" in result.output and "month" in result.output
    result = runner.invoke(app, ["stats", "--from", "2021-01-01"])
    assert result.exit_code == 2 and "--to" in result.output
    result = runner.invoke(app, ["stats", "--from", "2021-01-01", "--to", "2200-01-01", "--by", "day"])
    assert result.exit_code == 2 and "more than" in result.output


def test_rollup_then_check_and_repair(seeded: Database) -> None:
    code, output = run("stats", "rollup", "--json")
    assert code == 0 and json.loads(output)["closed"] > 400
    code, output = run("stats", "check", *YEAR, "--json")
    assert code == 0 and json.loads(output)["days_checked"] == 365 and json.loads(output)["agrees"]
    with seeded.session() as session:
        session.execute(
            update(StatsDayCount).where(StatsDayCount.day == T.date()).values(value=StatsDayCount.value + 1)
        )
    code, output = run("stats", "check", *YEAR)
    assert code == 1 and f"{T.date()}" in output and "1 of 365 days differ" in output
    code, output = run("stats", "check", *YEAR, "--repair")
    assert code == 0 and "repaired: 1 days" in output
    code, output = run("stats", "check", *YEAR)
    assert code == 0 and "the rollup agrees with the records" in output


def test_stats_shows_notices_and_appeals_in_every_form(
    db: Database, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SURAKSHA_DATABASE_URL", database_url)
    seed_notices_appeals(db, MARCH)
    month = ("--from", "2021-03-01", "--to", "2021-03-31", "--by", "total")
    code, output = run("stats", *month, "--json")
    assert code == 0, output
    body = json.loads(output)
    notices, appeals = body["notices"], body["appeals"]
    assert (notices["received"], notices["decided"], notices["confirmed"], notices["not_found"]) == (
        5,
        3,
        2,
        1,
    )
    assert (notices["accuracy"], notices["median_decision_s"]) == (0.6667, 10800.0)
    assert [(f["flagger"], f["notices"], f["accuracy"]) for f in notices["by_flagger"]] == [
        ("alpha-na", 3, 0.5),
        ("beta-na", 2, 1.0),
        ("gamma-na", 0, None),
    ]
    assert (appeals["lodged"], appeals["decided"], appeals["upheld"], appeals["reversed"]) == (4, 3, 2, 1)
    assert (appeals["reversal_rate"], appeals["median_decision_s"]) == (0.3333, 86400.0)
    assert {(r["dimension"], r["key"]): r["rate"] for r in appeals["reversal_rates"]}[
        ("bank", "bank:known-na")
    ] == 0.5
    code, output = run("stats", *month, "--csv", "--table", "flaggers")
    rows = list(csv.DictReader(io.StringIO(output)))
    assert code == 0 and [
        (r["flagger"], r["notices"], r["decided"], r["confirmed"], r["accuracy"]) for r in rows
    ] == [
        ("all", "5", "3", "2", "0.6667"),
        ("alpha-na", "3", "2", "1", "0.5"),
        ("beta-na", "2", "1", "1", "1.0"),
        ("gamma-na", "0", "0", "0", ""),
    ]
    assert rows[0]["median_decision_s"] == "10800.0" and rows[2]["status_review"] == "True"
    code, output = run("stats", *month, "--csv", "--table", "appeals")
    rows = list(csv.DictReader(io.StringIO(output)))
    assert code == 0 and [
        (r["dimension"], r["key"], r["decided"], r["upheld"], r["reversed"]) for r in rows
    ] == [
        ("all", "", "3", "2", "1"),
        ("bank", "bank:known-na", "2", "1", "1"),
        ("policy", "policy 3", "3", "2", "1"),
        ("rule", "rule:default/sale", "1", "1", "0"),
        ("tool", "hash_bank", "2", "1", "1"),
        ("tool", "text_rule", "1", "1", "0"),
    ]
    assert (rows[0]["lodged"], rows[0]["median_decision_s"], rows[1]["lodged"]) == ("4", "86400.0", "")
    code, output = run("stats", *month, "--csv")
    buckets = list(csv.DictReader(io.StringIO(output)))
    assert code == 0 and [(b["decisions"], b["remove"]) for b in buckets] == [("1", "1")]
    # wide enough for the appeals table whatever width the shared console took when it was made
    # (COLUMNS is read when it has none of its own)
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.setattr(cli_common.out, "_width", 200)
    code, output = run("stats", *month)
    assert code == 0, output
    lines = [" ".join(line.strip("│┃ ").replace("│", " ").split()) for line in output.splitlines()]
    assert "Notices from trusted flaggers (received in the period)" in lines
    assert {"all 5 3 2 1 67% 10800 s", "alpha-na 3 2 1 1 50% 7200 s", "gamma-na 0 0 0 0 - -"} <= set(lines)
    assert {"all appeals 4 3 2 1 33% 86400 s", "bank bank:known-na - 2 1 1 50% -"} <= set(lines)
    result = runner.invoke(app, ["stats", *month, "--table", "appeals"])
    assert result.exit_code == 2 and "add --csv" in result.output
    result = runner.invoke(app, ["stats", *month, "--csv", "--table", "nope"])
    assert result.exit_code == 2 and "buckets, flaggers, appeals" in result.output
