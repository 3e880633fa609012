"""`suraksha templates` and `suraksha sor` end to end on the default SQLite store."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from argon2.profiles import CHEAPEST
from typer.testing import CliRunner

from suraksha.access import users
from suraksha.app import Platform
from suraksha.cli.main import app
from suraksha.content.models import Account, Item
from suraksha.enforcement.models import Action, Decision
from suraksha.transparency import tasks

runner = CliRunner()
PASSWORD = "sable-quartz-meadow-42"
T = datetime(2026, 11, 3, 10, tzinfo=UTC)


@pytest.fixture
def store(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(users, "HASHER", PasswordHasher.from_parameters(CHEAPEST))
    monkeypatch.setenv("SURAKSHA_PLATFORM_NAME", "Example")
    platform = Platform()
    try:
        with platform.db.session() as session:
            users.create_user(session, "legal@example.org", ["legal"], PASSWORD, by="test")
            account = Account(platform_account_id="acct-1")
            session.add(account)
            session.flush()
            item = Item(
                platform_item_id="post-1",
                payload_digest="0" * 64,
                kind="post",
                account_id=account.id,
                received_at=T,
                text="benign",
            )
            session.add(item)
            session.flush()
            decision = Decision(
                item_id=item.id,
                verdict="violation",
                automated=True,
                decided_by="policy",
                category="csam",
                created_at=T,
            )
            session.add(decision)
            session.flush()
            session.add(
                Action(
                    decision_id=decision.id,
                    item_id=item.id,
                    account_id=account.id,
                    kind="remove",
                    target="item",
                    automated=True,
                    state="done",
                    created_at=T,
                )
            )
    finally:
        platform.close()


def run(*args: str, input: str | None = None) -> tuple[int, str]:
    result = runner.invoke(app, list(args), input=input, catch_exceptions=False)
    return result.exit_code, result.output


def test_templates_list_and_render(store: None, tmp_path: Path) -> None:
    code, output = run("templates", "list", "--json")
    assert code == 0 and {t["id"] for t in json.loads(output)} == {
        "it-rules-monthly",
        "dsa-transparency",
        "ncmec-annual",
    }
    folder = tmp_path / "nov"
    code, output = run("templates", "render", "it-rules-monthly", "--month", "2026-11", "--out", str(folder))
    assert code == 0, output
    assert "Items removed or disabled by automated tools: csam: 1" in output
    files = sorted(p.name for p in folder.iterdir())
    assert files == [
        "it-rules-monthly-v2-2026-11-01.csv",
        "it-rules-monthly-v2-2026-11-01.json",
        "it-rules-monthly-v2-2026-11-01.pdf",
    ]
    rows = {r["cell"]: r["value"] for r in csv.DictReader(io.StringIO((folder / files[0]).read_text()))}
    assert rows["proactive.removed.total"] == "1" and rows["grievances_received.total"] == "0"
    code, output = run(
        "templates", "render", "dsa-transparency", "--from", "2026-01-01", "--to", "2026-12-31", "--json"
    )
    cells = {c["id"]: c["value"] for c in json.loads(output)["cells"]}
    assert (
        code == 0 and cells["own_initiative.actions.remove"] == 1 and cells["service_name"] == "not collected"
    )
    assert cells["provider_name"] == "Example"
    code, output = run("templates", "render", "ncmec-annual", "--year", "2026", "--json")
    assert code == 0 and json.loads(output)["cells"][0]["value"] == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["it-rules-monthly", "--month", "2026-13"], "not a month"),
        (["it-rules-monthly", "--from", "2026-11-01", "--to", "2026-11-20"], "one calendar month"),
        (["it-rules-monthly"], "--month 2026-11"),
        (["ncmec-annual", "--year", "2025", "--month", "2025-01"], "give one period"),
        (["dsa-transparency", "--from", "2026-02-01", "--to", "2026-01-01"], "after it ends"),
        (["dsa-transparency", "--from", "2026-01-01"], "both --from and --to"),
        (["no-such", "--year", "2025"], "no template 'no-such'"),
        (["dsa-transparency", "--year", "2025", "--format", "pdf", "--out", "x"], "not pdf"),
    ],
)
def test_bad_periods_and_names_are_refused_clearly(store: None, args: list[str], message: str) -> None:
    code, output = run("templates", "render", *args)
    assert code == 2 and message in " ".join(output.split())


def test_statements_of_reasons_from_the_command_line(store: None, monkeypatch: pytest.MonkeyPatch) -> None:
    code, output = run("sor", "submit")
    assert code == 2 and "SURAKSHA_DSA_SOR_ENABLED" in output
    monkeypatch.setenv("SURAKSHA_DSA_SOR_ENABLED", "true")
    code, output = run("sor", "submit", "--json")
    assert code == 0, output
    counts = json.loads(output)
    assert (counts["written"], counts["submitted"]) == (1, 1) and "local stand-in" in counts["to"]
    code, output = run("sor", "list", "--json")
    listed = json.loads(output)
    assert [r["state"] for r in listed] == ["submitted"] and listed[0]["uuid"]
    code, output = run("sor", "show", str(listed[0]["id"]))
    assert json.loads(output)["statement"]["category"] == "STATEMENT_CATEGORY_PROTECTION_OF_MINORS"
    code, output = run(
        "sor",
        "retry",
        str(listed[0]["id"]),
        "--reason",
        "fixed",
        "--user",
        "legal@example.org",
        "--password-stdin",
        input=PASSWORD + "\n",
    )
    assert code == 2 and "only a refused or failed" in output
    code, output = run("sor", "list", "--state", "lost")
    assert code == 2 and "not one of" in output


def test_the_worker_runs_statements_when_enabled(store: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SURAKSHA_DSA_SOR_ENABLED", "true")
    platform = Platform()
    try:
        from suraksha.worker.handlers import HandlerRegistry

        registry = HandlerRegistry()
        platform.register_transparency_jobs(registry)
        assert registry.schedules[tasks.STATEMENTS] == 60.0
        counts = tasks.run_statements(platform.db, platform.sor_api, platform.sor_options, now=T)
        assert counts.submitted == 1
    finally:
        platform.close()


def test_the_stand_in_needs_a_token_like_the_real_api(store: None) -> None:
    code, output = run("dsa-sim", "--port", "8901")
    assert code == 2 and "SURAKSHA_DSA_TOKEN" in output
