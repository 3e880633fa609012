"""The network pages and an investigation in the console, over HTTP on SQLite and PostgreSQL: who sees
what (leads act, legal reads, reviewers are refused), every form refused without its CSRF token, an
investigation opened from a cluster, an action on every account approved only by a second lead who
gives their password again, the graph's data and library served by us, and the signed export."""

# ruff: noqa: F811  (the console fixtures are imported from test_console and named as test parameters)
from __future__ import annotations

import io
import zipfile
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from suraksha.access import users
from suraksha.app import Platform
from suraksha.content.models import Account, Item
from suraksha.enforcement.models import DecidedBy, Decision, Verdict
from suraksha.network.models import InvestigationAction, NetworkCluster
from suraksha.network.services import NetworkOptions, recluster
from suraksha.vault import crypto
from tests.functional.web.test_console import (  # noqa: F401 - the console's fixtures
    PASSWORD,
    _cheap_hashing,
    console_platform,
    signed_in,
    web,
)
from tests.integration.network.conftest import T0, NetworkWorld

LEAD, SECOND, LEGAL = "lead@example.org", "lead2@example.org", "legal@example.org"
RACKET = 6


@pytest.fixture(autouse=True)
def _signing_key(monkeypatch: pytest.MonkeyPatch) -> None:
    """Exports are signed: the platforms made for these tests get a signing key."""
    monkeypatch.setenv("SURAKSHA_VAULT_SIGNING_KEY", crypto.generate_signing_key_text())


@pytest.fixture
def racket(console_platform: Platform) -> int:
    """Six accounts sharing two UPI tills and a channel, every item decided; answers the cluster id."""
    platform = console_platform
    world = NetworkWorld(platform.db, options=NetworkOptions.from_settings(platform.settings))
    for n in range(RACKET):
        world.item(
            f"racket-{n}",
            ids=(("upi_id", f"till{n % 2}@okaxis"), ("telegram", "t.me/racketshop")),
            files=(f"stock-{n % 3}.jpg",),
            at=T0 + timedelta(hours=n),
        )
    with platform.db.session() as session:
        users.create_user(session, SECOND, ["lead"], PASSWORD, by="test")
        users.create_user(session, LEGAL, ["legal"], PASSWORD, by="test")
        for item in session.scalars(select(Item)):
            session.add(
                Decision(
                    item_id=item.id,
                    verdict=Verdict.VIOLATION,
                    category="csam",
                    automated=True,
                    decided_by=DecidedBy.POLICY,
                )
            )
    recluster(platform.db, world.options)
    with platform.db.reading() as session:
        found = session.scalars(select(NetworkCluster.id)).first()
    assert found is not None
    return int(found)


def post(web: TestClient, path: str, csrf: str | None, **data: Any) -> Any:
    form = {**data, **({"csrf_token": csrf} if csrf is not None else {})}
    return web.post(path, data=form, follow_redirects=False)


def _opened(web: TestClient, csrf: str, cluster: int) -> int:
    answer = post(web, f"/console/network/clusters/{cluster}/investigate", csrf, title="Two tills")
    assert answer.status_code == 303, answer.text
    location = answer.headers["location"]
    assert location.startswith("/console/investigations/")
    return int(location.split("/")[-1].split("?")[0])


def test_who_sees_the_network_pages(web: TestClient, racket: int) -> None:
    signed_in(web, "reviewer@example.org")
    for path in (
        "/console/network",
        f"/console/network/clusters/{racket}",
        "/console/vendor/vis-network/vis-network.min.js",
    ):
        assert web.get(path).status_code == 403
    web.cookies.clear()
    csrf = signed_in(web, LEAD)
    page = web.get("/console/network")
    assert page.status_code == 200 and f"/console/network/clusters/{racket}" in page.text
    cluster = web.get(f"/console/network/clusters/{racket}")
    assert cluster.status_code == 200 and 'id="open-investigation"' in cluster.text
    assert 'src="/console/vendor/vis-network/vis-network.min.js"' in cluster.text
    assert "<script>" not in cluster.text  # no inline script (the CSP allows none)
    library = web.get("/console/vendor/vis-network/vis-network.min.js")
    assert library.status_code == 200 and "javascript" in library.headers["content-type"]
    assert web.get("/console/vendor/vis-network/..%2F..%2F__init__.py").status_code == 404
    graph = web.get(f"/console/network/clusters/{racket}/graph.json").json()
    assert len(graph["nodes"]) == RACKET and graph["edges"]
    assert {k["kind"] for e in graph["edges"] for k in e["keys"]} >= {"upi_id", "telegram"}
    assert post(web, f"/console/network/clusters/{racket}/investigate", None, title="x").status_code == 403
    investigation = _opened(web, csrf, racket)
    web.cookies.clear()
    signed_in(web, LEGAL)
    shown = web.get(f"/console/investigations/{investigation}")
    assert shown.status_code == 200 and "Two tills" in shown.text
    assert 'id="investigation-forms"' not in shown.text  # legal reads, leads act
    assert 'id="investigation-export"' in shown.text


def test_an_investigation_acted_on_with_four_eyes(
    web: TestClient, racket: int, console_platform: Platform
) -> None:
    csrf = signed_in(web, LEAD)
    investigation = _opened(web, csrf, racket)
    base = f"/console/investigations/{investigation}"
    page = web.get(base)
    assert page.status_code == 200 and 'id="investigation-forms"' in page.text
    assert post(web, f"{base}/note", None, text="no token").status_code == 403
    assert post(web, f"{base}/note", csrf, text="Same channel in every bio").status_code == 303
    refused = post(web, f"{base}/act", csrf, kind="ban", reason="x")
    assert refused.status_code == 400 and "Refused" in refused.text
    assert post(web, f"{base}/preserve", csrf).status_code == 303
    assert post(web, f"{base}/act", csrf, kind="suspend", reason="selling").status_code == 303
    with console_platform.db.reading() as session:
        action_id = session.scalars(select(InvestigationAction.id)).one()
    assert "#pending-actions" not in web.get("/console/approvals").text  # never one's own
    mine = post(web, f"{base}/actions/{action_id}/approve", csrf, password=PASSWORD)
    assert mine.status_code == 403 and "four eyes" in mine.text
    web.cookies.clear()
    csrf = signed_in(web, SECOND)
    assert f"/actions/{action_id}/approve" in web.get(base).text
    assert f"/console/investigations/{investigation}#pending-actions" in web.get("/console/approvals").text
    no_password = post(web, f"{base}/actions/{action_id}/approve", csrf, note="checked")
    assert no_password.status_code == 403
    with console_platform.db.reading() as session:
        assert all(a.suspended_at is None for a in session.scalars(select(Account)))
    done = post(web, f"{base}/actions/{action_id}/approve", csrf, note="checked", password=PASSWORD)
    assert done.status_code == 303
    with console_platform.db.reading() as session:
        assert all(a.suspended_at is not None for a in session.scalars(select(Account)))
    shown = web.get(base)
    assert "Approved and carried out" not in shown.text  # the word comes only with ?done=
    assert "action approved" in shown.text.lower()
    exported = post(web, f"{base}/export", csrf, reason="analysts")
    assert exported.status_code == 200 and exported.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(exported.content)) as archive:
        assert {"nodes.csv", "edges.csv", "network.graphml", "network.json"} <= set(archive.namelist())
