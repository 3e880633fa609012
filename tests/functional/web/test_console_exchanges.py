"""The console's exchange pages over HTTP on SQLite and PostgreSQL: the list and one exchange, fetch
now (queued for the worker), enable and disable (disabling asks for the password again), trust (auto
action asks for it too), who may see them, CSRF, and the audit rows each action writes."""
# ruff: noqa: F811  (the console fixtures are imported from test_console and named as test parameters)

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from suraksha.app import Platform
from suraksha.banks import services as banks
from suraksha.exchanges.models import ExchangeApi, Trust
from suraksha.exchanges.tasks import FETCH
from tests.functional.web.test_console import (  # noqa: F401 - the console's fixtures
    PASSWORD,
    _cheap_hashing,
    audit_rows,
    console_platform,
    signed_in,
    web,
)

LEAD = "lead@example.org"


def pdq(n: int) -> str:
    """A benign, made-up PDQ value (not the hash of any picture)."""
    return f"{n:016x}" * 4


def post(web: TestClient, path: str, csrf: str | None, **data: Any) -> Any:
    form = {**data, **({"csrf_token": csrf} if csrf is not None else {})}
    return web.post(path, data=form, follow_redirects=False)


def _file_exchange(platform: Platform, tmp_path: Path, lines: int = 3) -> Path:
    path = tmp_path / "partner.txt"
    path.write_text("".join(f"pdq {pdq(n)}\n" for n in range(1, lines + 1)))
    with platform.db.session() as session:
        banks.create_bank(session, "partner")
    platform.exchange_create(
        "partner-list",
        ExchangeApi.FILE,
        "partner",
        settings={"path": str(path), "page_size": 2},
        trust=Trust.REVIEW,
        actor="test",
    )
    return path


def work(platform: Platform) -> None:
    """The worker, until the queue is empty (it runs the queued fetches)."""
    platform.run_worker(
        platform.bank_index(), kinds=[FETCH], until_drained=True, install_signal_handlers=False
    )


def _changes(platform: Platform) -> list[dict[str, Any]]:
    return [json.loads(r.details) for r in audit_rows(platform, "exchange:change")]


def test_list_detail_and_fetch_now(web: TestClient, console_platform: Platform, tmp_path: Path) -> None:
    csrf = signed_in(web, LEAD)
    assert "no exchanges yet" in web.get("/console/exchanges").text
    _file_exchange(console_platform, tmp_path)
    home = web.get("/console/")
    assert 'href="/console/exchanges"' in home.text  # in the navigation
    listing = web.get("/console/exchanges")
    assert listing.status_code == 200
    assert 'href="/console/exchanges/partner-list"' in listing.text and "never fetched" in listing.text

    queued = post(web, "/console/exchanges/partner-list/fetch", csrf)
    assert queued.status_code == 200, queued.text
    assert "A fetch is queued" in queued.text
    assert "never fetched" in queued.text  # the worker has not run it yet
    work(console_platform)
    detail = web.get("/console/exchanges/partner-list")
    assert "<td>done</td>" in detail.text and "<td>2</td><td>3</td>" in detail.text  # 2 pages, 3 added
    assert "<td>user:" in detail.text  # the run records who asked, by pseudonym
    assert "the next fetch starts at the beginning" in detail.text  # a whole pass done: no checkpoint
    row = web.get("/console/exchanges").text
    assert "3 / 0 / 0" in row and "done," in row
    fetch_rows = [r for r in audit_rows(console_platform, "exchange:change") if "fetch_now" in r.details]
    assert len(fetch_rows) == 1 and fetch_rows[0].actor.startswith("user:")


def test_a_failed_fetch_shows_on_the_pages(
    web: TestClient, console_platform: Platform, tmp_path: Path
) -> None:
    csrf = signed_in(web, LEAD)
    path = _file_exchange(console_platform, tmp_path)
    path.unlink()
    assert post(web, "/console/exchanges/partner-list/fetch", csrf).status_code == 200
    work(console_platform)
    assert "1 in a row" in web.get("/console/exchanges").text
    detail = web.get("/console/exchanges/partner-list").text
    assert "<td>failed</td>" in detail and "Last error" in detail


def test_a_disabled_exchange_is_not_fetched(
    web: TestClient, console_platform: Platform, tmp_path: Path
) -> None:
    csrf = signed_in(web, LEAD)
    _file_exchange(console_platform, tmp_path)
    console_platform.exchange_set_enabled("partner-list", False, actor="test")
    assert 'id="exchange-fetch"' not in web.get("/console/exchanges/partner-list").text
    refused = post(web, "/console/exchanges/partner-list/fetch", csrf)
    assert refused.status_code == 409 and "enable it" in refused.text
    assert [r for r in audit_rows(console_platform, "exchange:change") if "fetch_now" in r.details] == []
    work(console_platform)
    assert console_platform.exchange_show("partner-list")["last_run"] is None


def test_disabling_asks_for_the_password_again(
    web: TestClient, console_platform: Platform, tmp_path: Path
) -> None:
    csrf = signed_in(web, LEAD)
    _file_exchange(console_platform, tmp_path)
    base = "/console/exchanges/partner-list"
    refused = post(web, f"{base}/enabled", csrf, enabled="false")
    assert refused.status_code == 403 and "give your password again" in refused.text
    wrong = post(web, f"{base}/enabled", csrf, enabled="false", password="not-it")
    assert wrong.status_code == 403 and "nothing was changed" in wrong.text
    assert console_platform.exchange_show("partner-list")["enabled"] is True

    done = post(web, f"{base}/enabled", csrf, enabled="false", password=PASSWORD)
    assert done.status_code == 303 and done.headers["location"] == base
    assert console_platform.exchange_show("partner-list")["enabled"] is False
    assert "Enable the exchange" in web.get(base).text
    again = post(web, f"{base}/enabled", csrf, enabled="true")  # enabling needs no password
    assert again.status_code == 303
    assert console_platform.exchange_show("partner-list")["enabled"] is True
    changes = [c["change"] for c in _changes(console_platform)]
    assert changes.count("disable") == 1 and changes.count("enable") == 1


def test_trust_to_auto_action_asks_for_the_password_again(
    web: TestClient, console_platform: Platform, tmp_path: Path
) -> None:
    csrf = signed_in(web, LEAD)
    _file_exchange(console_platform, tmp_path)
    base = "/console/exchanges/partner-list"
    refused = post(web, f"{base}/trust", csrf, trust="auto_action")
    assert refused.status_code == 403
    assert console_platform.exchange_show("partner-list")["trust"] == "review"
    done = post(web, f"{base}/trust", csrf, trust="auto_action", password=PASSWORD)
    assert done.status_code == 303
    assert console_platform.exchange_show("partner-list")["trust"] == "auto_action"
    back = post(web, f"{base}/trust", csrf, trust="review")  # down to review: no password
    assert back.status_code == 303
    assert console_platform.exchange_show("partner-list")["trust"] == "review"
    updates = [c for c in _changes(console_platform) if c["change"] == "update"]
    assert updates == [
        {"change": "update", "trust": {"from": "review", "to": "auto_action"}},
        {"change": "update", "trust": {"from": "auto_action", "to": "review"}},
    ]


def test_who_may_and_csrf(web: TestClient, console_platform: Platform, tmp_path: Path) -> None:
    _file_exchange(console_platform, tmp_path)
    csrf = signed_in(web, "reviewer@example.org")
    assert 'href="/console/exchanges"' not in web.get("/console/").text
    assert web.get("/console/exchanges").status_code == 403
    assert web.get("/console/exchanges/partner-list").status_code == 403
    assert post(web, "/console/exchanges/partner-list/fetch", csrf).status_code == 403
    web.cookies.clear()

    csrf = signed_in(web, LEAD)
    assert post(web, "/console/exchanges/partner-list/fetch", None).status_code == 403  # no token
    assert post(web, "/console/exchanges/partner-list/enabled", "0" * 64, enabled="true").status_code == 403
    work(console_platform)
    assert console_platform.exchange_show("partner-list")["last_run"] is None
    assert web.get("/console/exchanges/no-such").status_code == 404
    assert post(web, "/console/exchanges/no-such/fetch", csrf).status_code == 404
