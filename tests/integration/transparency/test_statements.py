"""Statements of reasons built from decisions and actions, submitted over real HTTP to the local stand-in
of the DSA Transparency Database (which validates like the API), on SQLite and PostgreSQL: sent once,
retried on failure, recognised after a lost answer, refused with the API's error shape."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import uvicorn

from suraksha.content.models import Account, Item, ItemMatch, ItemMedia
from suraksha.db import Database
from suraksha.enforcement.models import Action, Decision
from suraksha.errors import ConfigError, InvalidInput
from suraksha.legal.models import LegalRequest
from suraksha.settings import Secret
from suraksha.transparency import statements
from suraksha.transparency.models import StatementOfReasons
from suraksha.transparency.ports import HttpStatementsApi, LocalStatementsApi, Outcome
from suraksha.transparency.sor_api import TransparencyDatabase, validate
from suraksha.transparency.statements import SorOptions
from suraksha.web.dsa_sim import create_dsa_sim_app

TOKEN = "X|test-token-not-a-secret"
T = datetime(2026, 11, 3, 10, tzinfo=UTC)
OPTIONS = SorOptions(enabled=True, terms_ground="Terms of service, section 4", max_attempts=3)


@dataclass
class Sim:
    database: TransparencyDatabase
    url: str
    port: int

    def api(self, token: str = TOKEN) -> HttpStatementsApi:
        return HttpStatementsApi(
            self.url, Secret(token), timeout_s=10, allow_loopback_ports_for_testing=[self.port]
        )


@pytest.fixture
def sim() -> Iterator[Sim]:
    database = TransparencyDatabase(TOKEN)
    server = uvicorn.Server(
        uvicorn.Config(
            create_dsa_sim_app(database), host="127.0.0.1", port=0, log_config=None, access_log=False
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "stand-in did not start"
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield Sim(database, f"http://127.0.0.1:{port}/api/v1", port)
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def seed(db: Database) -> dict[str, int]:
    """Action ids by name: A banked and removed by policy; C a user's report withheld in DE and FR by a
    reviewer; W withheld in India only; P still pending; S an account suspended; L removed on a German
    removal notice; R a restore."""
    ids: dict[str, int] = {}
    with db.session() as session:
        account = Account(platform_account_id="acct-1", handle="@someone")
        session.add(account)
        session.flush()

        def item(name: str, **fields: object) -> Item:
            it = Item(platform_item_id=f"post-{name}", payload_digest="0" * 64, kind="post",
                      account_id=account.id, received_at=T - timedelta(days=1), **fields)  # fmt: skip
            session.add(it)
            session.flush()
            return it

        def act(name: str, it: Item, kind: str, *, automated: bool, by: str, category: str = "",
                state: str = "done", countries: str = "", target: str = "item", verdict: str = "violation",
                ref: str = "") -> None:  # fmt: skip
            decision = Decision(item_id=it.id, verdict=verdict, automated=automated, decided_by=by,
                                category=category, decided_by_ref=ref, created_at=T)  # fmt: skip
            session.add(decision)
            session.flush()
            action = Action(decision_id=decision.id, item_id=it.id, account_id=account.id, kind=kind,
                            target=target, automated=automated, state=state, countries=countries,
                            created_at=T)  # fmt: skip
            session.add(action)
            session.flush()
            ids[name] = action.id

        a = item("A", text="")
        media = ItemMedia(item_id=a.id, position=0, declared_type="image/jpeg", sha256="a" * 64)
        session.add(media)
        session.flush()
        session.add(ItemMatch(item_id=a.id, media_id=media.id, bank_name="known", bank_category="csam",
                              entry_id=1, signal_type="md5"))  # fmt: skip
        act("A", a, "remove", automated=True, by="policy", category="csam")
        act("C", item("C", text="benign words", reporter_kind="user"), "withhold", automated=False,
            by="reviewer", category="intimate_imagery", state="delivered", countries="FR DE")  # fmt: skip
        act(
            "W",
            item("W", text="x"),
            "withhold",
            automated=False,
            by="reviewer",
            category="csam",
            countries="IN",
        )
        pending = item("P", text="x")
        act("P", pending, "remove", automated=True, by="policy", category="csam", state="pending")
        act("S", item("S", text="x"), "suspend", automated=False, by="reviewer",
            category="sale_or_solicitation", target="account")  # fmt: skip
        order = LegalRequest(kind="removal_notice", jurisdiction="DE", channel="email", received_at=T,
                             legal_basis="NetzDG s.3", created_by="desk")  # fmt: skip
        session.add(order)
        session.flush()
        act("L", item("L", text="x"), "remove", automated=False, by="legal", verdict="legal_order",
            ref=f"legal_request:{order.id}")  # fmt: skip
        act("R", item("R", text="x"), "restore", automated=False, by="reviewer")
    return ids


def rows(db: Database) -> dict[int, StatementOfReasons]:
    with db.reading() as session:
        found = session.query(StatementOfReasons).all()
        for r in found:
            session.expunge(r)
        return {r.action_id: r for r in found}


def test_each_restriction_in_scope_is_submitted_once_over_http(db: Database, sim: Sim) -> None:
    ids = seed(db)
    with db.session() as session:
        assert statements.record_due(session, OPTIONS) == 4
        assert statements.record_due(session, OPTIONS) == 0  # nothing written twice
    by_action = rows(db)
    assert set(by_action) == {ids["A"], ids["C"], ids["W"], ids["S"], ids["L"]}  # P pending, R a restore
    assert by_action[ids["W"]].state == "not_required" and "outside the EEA" in by_action[ids["W"]].error
    counts = statements.submit_due(db, sim.api(), OPTIONS, now=T)
    assert counts.as_dict() == {"submitted": 4, "refused": 0, "retrying": 0, "failed": 0}
    stored = {s["puid"]: s for s in sim.database.statements()}
    assert set(stored) == {f"suraksha-action-{ids[n]}" for n in ("A", "C", "S", "L")}
    after = rows(db)
    for name in ("A", "C", "S", "L"):
        row = after[ids[name]]
        assert row.state == "submitted" and row.attempts == 1 and row.submitted_at == T
        assert row.uuid == stored[row.puid]["uuid"]
    again = statements.submit_due(db, sim.api(), OPTIONS, now=T + timedelta(days=1))
    assert again.as_dict() == {"submitted": 0, "refused": 0, "retrying": 0, "failed": 0}
    assert len(sim.database.statements()) == 4


def test_the_statements_say_what_the_records_say(db: Database) -> None:
    ids = seed(db)
    with db.session() as session:
        statements.record_due(session, OPTIONS)
    body = {name: json.loads(rows(db)[ids[name]].body) for name in ("A", "C", "S", "L")}
    eea = sorted(statements.EEA_STATES)
    assert body["A"] == {
        "decision_visibility": ["DECISION_VISIBILITY_CONTENT_REMOVED"],
        "decision_ground": "DECISION_GROUND_ILLEGAL_CONTENT",
        "illegal_content_legal_ground": statements._ILLEGAL_GROUND["csam"],
        "illegal_content_explanation": "The content is child sexual abuse material, whose dissemination is a "
        "criminal offence in every Member State.",
        "category": "STATEMENT_CATEGORY_PROTECTION_OF_MINORS",
        "category_specification": ["KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL"],
        "content_type": ["CONTENT_TYPE_IMAGE"],
        "territorial_scope": eea,
        "content_date": "2026-11-02",
        "application_date": "2026-11-03",
        "decision_facts": "The content matched a list of hashes of known material; the decision was taken by "
        "automated policy under category csam.",
        "source_type": "SOURCE_VOLUNTARY",
        "automated_detection": "Yes",
        "automated_decision": "AUTOMATED_DECISION_FULLY",
        "puid": f"suraksha-action-{ids['A']}",
    }
    assert body["C"]["decision_visibility"] == ["DECISION_VISIBILITY_CONTENT_DISABLED"]
    assert body["C"]["territorial_scope"] == ["DE", "FR"]
    assert body["C"]["decision_ground"] == "DECISION_GROUND_INCOMPATIBLE_CONTENT"
    assert body["C"]["incompatible_content_ground"] == "Terms of service, section 4"
    assert body["C"]["incompatible_content_illegal"] == "Yes"
    assert body["C"]["category"] == "STATEMENT_CATEGORY_NON_CONSENSUAL_BEHAVIOUR"
    assert (body["C"]["source_type"], body["C"]["automated_detection"], body["C"]["automated_decision"]) == (
        "SOURCE_ARTICLE_16", "No", "AUTOMATED_DECISION_NOT_AUTOMATED")  # fmt: skip
    assert body["C"]["content_type"] == ["CONTENT_TYPE_TEXT"]
    assert (
        body["S"]["decision_account"] == "DECISION_ACCOUNT_SUSPENDED"
        and "decision_visibility" not in body["S"]
    )
    assert body["L"]["illegal_content_legal_ground"] == "NetzDG s.3"
    assert (body["L"]["source_type"], body["L"]["territorial_scope"]) == (
        "SOURCE_TYPE_OTHER_NOTIFICATION",
        ["DE"],
    )
    for statement in body.values():
        assert validate(statement) == {}
        assert "@someone" not in json.dumps(statement) and "benign words" not in json.dumps(statement)


def test_eea_only_scope_takes_only_what_is_aimed_at_the_eea(db: Database) -> None:
    ids = seed(db)
    with db.session() as session:
        assert statements.record_due(session, replace(OPTIONS, scope="eea_only")) == 2
    states = {a: r.state for a, r in rows(db).items()}
    assert states[ids["C"]] == states[ids["L"]] == "pending"
    assert states[ids["A"]] == states[ids["S"]] == "not_required"


def test_failures_retry_later_and_a_lost_answer_is_not_sent_twice(db: Database, sim: Sim) -> None:
    ids = seed(db)
    only_a = replace(OPTIONS, since=None)
    with db.session() as session:
        statements.record_due(session, only_a)
    a = rows(db)[ids["A"]].id
    sim.database.fail_next.append(503)
    assert statements.submit_due(db, sim.api(), only_a, now=T, ids=[a]).retrying == 1
    row = rows(db)[ids["A"]]
    assert (row.state, row.attempts, row.error) == ("pending", 1, "HTTP 503")
    assert row.next_attempt_at is not None and row.next_attempt_at > T
    assert statements.submit_due(db, sim.api(), only_a, now=T, ids=[a]).retrying == 0  # not due yet
    sim.database.lose_next = 1  # stored, then the answer is lost
    later = T + timedelta(days=1)
    assert statements.submit_due(db, sim.api(), only_a, now=later, ids=[a]).retrying == 1
    assert len(sim.database.statements()) == 1
    done = statements.submit_due(db, sim.api(), only_a, now=later + timedelta(days=1), ids=[a])
    assert done.submitted == 1 and len(sim.database.statements()) == 1
    row = rows(db)[ids["A"]]
    assert row.state == "submitted" and row.uuid == sim.database.statements()[0]["uuid"] and row.attempts == 3


def test_retries_run_out_and_a_refused_statement_waits_for_a_person(db: Database, sim: Sim) -> None:
    ids = seed(db)
    with db.session() as session:
        statements.record_due(session, OPTIONS)
        broken = session.query(StatementOfReasons).filter_by(action_id=ids["C"]).one()
        body = json.loads(broken.body)
        del body["category"]
        body["content_type"] = ["CONTENT_TYPE_HOLOGRAM"]
        broken.body = json.dumps(body)
    c = rows(db)[ids["C"]].id
    counts = statements.submit_due(db, sim.api(), OPTIONS, now=T, ids=[c])
    assert counts.refused == 1
    error = json.loads(rows(db)[ids["C"]].error)
    assert error["errors"] == {
        "content_type": ["The selected content type is invalid."],
        "category": ["The category field is required."],
    }
    a = rows(db)[ids["A"]].id
    for attempt in range(3):
        sim.database.fail_next.append(500)
        statements.submit_due(db, sim.api(), OPTIONS, now=T + timedelta(days=attempt + 1), ids=[a])
    assert (rows(db)[ids["A"]].state, rows(db)[ids["A"]].attempts) == ("failed", 3)
    with db.session() as session:
        again = statements.retry(session, a, OPTIONS, actor="user:abc", reason="API was down", now=T)
        assert (again.state, again.attempts, again.error) == ("pending", 0, "")
        with pytest.raises(InvalidInput, match="only a refused or failed"):
            statements.retry(session, a, OPTIONS, actor="user:abc", reason="again", now=T)
        with pytest.raises(InvalidInput, match="--reason"):
            statements.retry(session, c, OPTIONS, actor="user:abc", reason=" ", now=T)
        fixed = statements.retry(session, c, OPTIONS, actor="user:abc", reason="rebuilt", now=T)
        assert json.loads(fixed.body)["category"] == "STATEMENT_CATEGORY_NON_CONSENSUAL_BEHAVIOUR"
    assert statements.submit_due(db, sim.api(), OPTIONS, now=T, ids=[a, c]).submitted == 2


def test_an_intent_left_by_a_dead_worker_is_sent_again_only_when_stale(db: Database, sim: Sim) -> None:
    ids = seed(db)
    with db.session() as session:
        statements.record_due(session, OPTIONS)
        row = session.query(StatementOfReasons).filter_by(action_id=ids["A"]).one()
        row.state, row.attempts, row.last_attempt_at = "submitting", 1, T
        a = row.id
    assert statements.submit_due(db, sim.api(), OPTIONS, now=T + timedelta(minutes=1), ids=[a]).submitted == 0
    later = T + statements.STALE_INTENT + timedelta(seconds=1)
    assert statements.submit_due(db, sim.api(), OPTIONS, now=later, ids=[a]).submitted == 1
    assert rows(db)[ids["A"]].attempts == 2 and len(sim.database.statements()) == 1


def test_a_wrong_token_is_retried_and_never_logged(
    db: Database, sim: Sim, caplog: pytest.LogCaptureFixture
) -> None:
    ids = seed(db)
    caplog.set_level(logging.DEBUG)
    with db.session() as session:
        statements.record_due(session, OPTIONS)
    wrong = "X|wrong-token-value"
    counts = statements.submit_due(db, sim.api(wrong), OPTIONS, now=T, ids=[rows(db)[ids["A"]].id])
    assert counts.retrying == 1 and "token was refused" in rows(db)[ids["A"]].error
    assert wrong not in caplog.text and TOKEN not in caplog.text
    assert "wrong-token" not in repr(sim.api(wrong).__dict__)


def test_the_stand_in_answers_in_the_apis_shapes(sim: Sim) -> None:
    headers = {"Authorization": f"Bearer {TOKEN}", "Accept": "application/json"}
    answer = httpx.post(f"{sim.url}/statement", json={"puid": "x"}, headers=headers)
    assert answer.status_code == 422
    body = answer.json()
    assert set(body) == {"message", "errors"}
    assert body["message"].startswith("The decision visibility field")
    required = {"decision_ground", "category", "content_type", "content_date", "application_date",
                "decision_facts", "source_type", "automated_detection", "automated_decision"}  # fmt: skip
    assert required <= set(body["errors"])
    assert httpx.post(f"{sim.url}/statement", json={}, headers={}).status_code == 401
    good = statements_example()
    first = httpx.post(f"{sim.url}/statement", json=good, headers=headers)
    assert first.status_code == 201 and first.json()["uuid"]
    second = httpx.post(f"{sim.url}/statement", json=good, headers=headers)
    assert second.status_code == 422 and second.json()["existing"]["uuid"] == first.json()["uuid"]
    assert second.json()["errors"] == {"puid": ["The identifier given is not unique within this platform."]}


def statements_example() -> dict[str, object]:
    return {
        "decision_visibility": ["DECISION_VISIBILITY_CONTENT_REMOVED"],
        "decision_ground": "DECISION_GROUND_INCOMPATIBLE_CONTENT",
        "incompatible_content_ground": "terms",
        "incompatible_content_explanation": "why",
        "category": "STATEMENT_CATEGORY_PROTECTION_OF_MINORS",
        "content_type": ["CONTENT_TYPE_TEXT"],
        "content_date": "2026-11-01",
        "application_date": "2026-11-02",
        "decision_facts": "facts",
        "source_type": "SOURCE_VOLUNTARY",
        "automated_detection": "No",
        "automated_decision": "AUTOMATED_DECISION_NOT_AUTOMATED",
        "puid": "example-1",
    }


def test_the_client_reaches_only_public_https_addresses(sim: Sim) -> None:
    with pytest.raises(ConfigError, match="refused"):
        HttpStatementsApi("https://169.254.169.254/api/v1", Secret(TOKEN))
    with pytest.raises(ConfigError, match="https"):
        HttpStatementsApi("http://transparency.example/api/v1", Secret(TOKEN))
    with pytest.raises(ConfigError, match="SURAKSHA_DSA_TOKEN"):
        HttpStatementsApi("https://transparency.example/api/v1", Secret(""))
    with pytest.raises(ConfigError, match="loopback"):
        HttpStatementsApi(f"https://127.0.0.1:{sim.port}/api/v1", Secret(TOKEN))
    rebinding = HttpStatementsApi(
        "https://tdb.example/api/v1", Secret(TOKEN), resolver=lambda _host, _port, _timeout: ["10.0.0.5"]
    )
    result = rebinding.submit(statements_example())
    assert result.outcome is Outcome.RETRY and "address refused" in result.detail
    assert sim.database.statements() == []


def test_the_local_stand_in_validates_in_process() -> None:
    api = LocalStatementsApi()
    assert api.submit(statements_example()).outcome is Outcome.CREATED
    assert api.submit(statements_example()).outcome is Outcome.ALREADY_STORED
    assert api.submit({"puid": "y"}).outcome is Outcome.REFUSED
