"""`suraksha network` end to end on the default SQLite store: items reach the graph through the
pipeline's job, a rebuild links them again, the clusters list the planted racket, and a signed-in lead
(not a reviewer) reads its accounts and evidence, each read audited."""

from __future__ import annotations

import json

import pytest
from argon2 import PasswordHasher
from argon2.profiles import CHEAPEST
from sqlalchemy import select
from typer.testing import CliRunner

from suraksha.access import users
from suraksha.app import Platform
from suraksha.audit import AuditEvent
from suraksha.cli.main import app
from suraksha.intake.schemas import ItemIn
from suraksha.intake.services import submit_item
from suraksha.worker.models import Job

runner = CliRunner()
PASSWORD = "sable-quartz-meadow-42"
TILLS = ("shop.one@okaxis", "shop.two@okaxis")


def _post(n: int, account: str, text: str, bio: str = "") -> ItemIn:
    return ItemIn.model_validate(
        {
            "platform_item_id": f"post-{n}",
            "kind": "post",
            "account": {"platform_id": account, "handle": f"@{account}", "bio": bio},
            "text": text,
        }
    )


@pytest.fixture
def graph(monkeypatch: pytest.MonkeyPatch) -> None:
    """Twelve accounts selling through two UPI ids and one channel; three families on one phone."""
    monkeypatch.setattr(users, "HASHER", PasswordHasher.from_parameters(CHEAPEST))
    platform = Platform()
    try:
        with platform.db.session() as session:
            users.create_user(session, "lead@example.org", ["lead"], PASSWORD, by="test")
            users.create_user(session, "rev@example.org", ["reviewer"], PASSWORD, by="test")
            posts = [
                _post(
                    n,
                    f"seller{n}",
                    f"New set today, DM for price. Pay via UPI {TILLS[n % 2]} or {TILLS[(n + 1) % 2]}",
                    "t.me/shopx",
                )
                for n in range(12)
            ]
            posts += [
                _post(100 + n, f"family{n // 3}-{n % 3}", "Lovely day", f"call +91 97{n // 3:08d}")
                for n in range(9)
            ]
            for post in posts:
                submit_item(
                    session, platform.media_store, post, max_media_bytes=platform.settings.media_max_bytes
                )
        platform.run_worker(platform.bank_index().load(), until_drained=True, install_signal_handlers=False)
        with platform.db.reading() as session:
            kinds = {job.kind for job in session.scalars(select(Job))}
        assert "network.items" in kinds  # the pipeline queued the graph's update
    finally:
        platform.close()


def network(*args: str, user: str | None = None) -> tuple[int, str]:
    extra = ["--user", user, "--password-stdin"] if user else []
    result = runner.invoke(app, ["network", *args, *extra], input=PASSWORD + "\n", catch_exceptions=False)
    return result.exit_code, result.output


def test_the_graph_from_intake_to_a_lead_reading_the_racket(graph: None) -> None:
    code, output = network("clusters", "--run", "--json")
    assert code == 0, output
    [racket] = json.loads(output)
    assert racket["accounts"] == 12 and racket["suspected"]
    assert {f["name"] for f in racket["explanation"]["factors"]} >= {"payment_handles", "sale_solicitation"}

    code, output = network("rebuild", "--json")
    assert code == 0, output
    rebuilt = json.loads(output)
    assert rebuilt["items"] == 21 and rebuilt["cluster"]["suspected"] == 1

    code, output = network("show-cluster", str(racket["id"]), "--json", user="lead@example.org")
    assert code == 0, output
    detail = json.loads(output)
    assert detail["cluster"]["id"] == racket["id"]  # the same id after the rebuild
    assert len(detail["accounts"]) == 12
    kinds = {k["kind"] for e in detail["edges"] for k in e["keys"]}
    assert {"upi_id", "telegram"} <= kinds

    code, output = network("account", "@seller3", user="lead@example.org")
    assert code == 0, output
    assert f"in suspected racket {racket['id']}" in output

    code, output = network("show-cluster", str(racket["id"]), user="rev@example.org")
    assert code != 0 and "network:view" in output

    platform = Platform()
    try:
        with platform.db.reading() as session:
            reads = session.scalars(
                select(AuditEvent.subject).where(AuditEvent.action == "network:view")
            ).all()
    finally:
        platform.close()
    [seller3] = [a["id"] for a in detail["accounts"] if a["handle"] == "@seller3"]
    assert sorted(reads) == [f"account:{seller3}", f"cluster:{racket['id']}"]  # the refused read saw nothing
